/**
 * The survivor's side of publishing, on the return page: their sharing choices for a case.
 * The drafts proposed to them (lib/survivor-drafts.ts) load only for a case that has one.
 */
import type nacl from 'tweetnacl';
import { keyId, makeGrantAsync, readersOf, type VerifiedHistory } from '../../protocol/survivor';
import type { SurvivorCase, SurvivorSession } from '../../protocol/api';
import { api, ApiFailure } from './api';
import { byId, el, onSubmit, sayMessage } from './dom';
import { localize } from './messages';
import { sharingControls } from './sharing';
import type { TestimonyBody } from './testimony';
import { reportError } from './survivor-page';

export interface SurvivorContext {
  keys: { box: nacl.BoxKeyPair; sign: nacl.SignKeyPair };
  session: SurvivorSession;
  history: VerifiedHistory;
  /** re-reads the keyset as the server serves it now (checked against the pin) */
  currentHistory(): Promise<VerifiedHistory>;
  /** draws the survivor's cases again after a change */
  refresh(): Promise<void>;
}

export const statusRegion = () => {
  const p = el('p', { attrs: { role: 'status' } });
  p.hidden = true;
  return p;
};
export function heading(
  tag: 'h2' | 'h3' | 'h4',
  key: Parameters<typeof localize>[1],
  params?: Record<string, string | number>,
): HTMLElement {
  const h = el(tag);
  localize(h, key, params);
  return h;
}
export function button(key: Parameters<typeof localize>[1], kind: 'submit' | 'button' = 'submit', className?: string): HTMLButtonElement {
  const b = el('button', { className, attrs: { type: kind } });
  localize(b, key);
  return b;
}

/** The sharing choices of one case, and saving a change (with key grants when advocates may now read). */
export function sharingSection(c: SurvivorCase, testimony: TestimonyBody, ctx: SurvivorContext): HTMLElement {
  const controls = sharingControls(`sharing-${c.caseId}`, c.sharing);
  const status = statusRegion();
  const form = el('form', { className: 'sharing-form', attrs: { autocomplete: 'off' } }, [
    controls.element,
    status,
    button('sharing.save'),
  ]);
  onSubmit(
    form,
    status,
    async () => {
      sayMessage(status, 'sharing.saving');
      const sharing = controls.read(testimony.context);
      const keyset = (await ctx.currentHistory()).current.keyset;
      const grants = [];
      if (sharing.advocatesMayRead && !c.sharing.advocatesMayRead) {
        // Wrap the testimony's key to each advocate of the verified keyset who cannot read it yet.
        const envelope = c.thread[0].envelope;
        const readable = new Set(envelope.keys.filter((k) => k.wrapped !== undefined).map((k) => k.kid));
        for (const advocate of readersOf(keyset, 'advocate')) {
          if (!readable.has(keyId(advocate)))
            grants.push(await makeGrantAsync(envelope, { box: ctx.keys.box, recipient: advocate, granter: ctx.keys.sign }));
        }
      }
      try {
        await api('POST', `/api/survivor/cases/${c.caseId}/sharing`, { sharing, keysetVersion: keyset.version, grants }, ctx.session.token);
      } catch (e) {
        if (!(e instanceof ApiFailure && e.code === 'sharing_changed')) throw e;
        // Changed meanwhile (her other tab), and nothing saved here: show the choices as they are now.
        await ctx.refresh();
        reportError(byId('list-status'), e);
        return;
      }
      await ctx.refresh();
      sayMessage(byId('list-status'), 'sharing.saved');
    },
    reportError,
  );
  return el('section', { className: 'sharing-section' }, [heading('h2', 'sharing.heading'), form]);
}
