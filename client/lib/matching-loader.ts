/**
 * The return page's door to the matching escrow (client/matching.ts): the code, with
 * @noble/curves for the OPRF, loads under its integrity hash only when the survivor chooses
 * to add an identifier, or when an identifier she added was made under an older server key
 * and must be derived again, or must be sealed again because the matching counselors changed
 * (the page names the script in <meta name="awaaz-matching">).
 */
import type { KeyPairs, VerifiedHistory } from '../../protocol/survivor';
import type { SurvivorMatching } from '../../protocol/api';
import { api } from './api';
import { byId } from './dom';
import { lazyScript, namedByPage } from './lazy-script';
import { reportError } from './survivor-page';

export interface MatchingPageContext {
  keys: KeyPairs;
  token: string;
  cases: { caseId: string; createdDay: string }[];
  currentHistory(): Promise<VerifiedHistory>;
}

export interface MatchingTools {
  /** draws the explanation, the survivor's identifiers and the form into `container` */
  open(container: HTMLElement, ctx: MatchingPageContext): Promise<void>;
  /** derives again, under the current key, the identifiers made under an older one; seals again those the counselors changed for */
  rederive(ctx: MatchingPageContext, status: SurvivorMatching): Promise<void>;
}

export const matchingTools = lazyScript<MatchingTools>(() => namedByPage('awaaz-matching'), 'AwaazMatching');

/** Binds the page's "add" button to the signed-in survivor, and re-derives or re-seals stale entries now. */
export function offerMatching(ctx: MatchingPageContext): void {
  const button = byId<HTMLButtonElement>('matching-open');
  const panel = byId('matching-panel');
  byId('matching').hidden = false;
  button.onclick = () => {
    button.hidden = true;
    matchingTools()
      .then((tools) => tools.open(panel, ctx))
      .catch((e) => {
        button.hidden = false;
        reportError(byId('matching-status'), e);
      });
  };
  api<SurvivorMatching>('GET', '/api/survivor/matching', undefined, ctx.token)
    .then((s) =>
      s.entries.some((e) => e.keyVersion < s.keyVersion || e.reseal) ? matchingTools().then((t) => t.rederive(ctx, s)) : undefined,
    )
    .catch(() => undefined); // tried again on the next visit
}
