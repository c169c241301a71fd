/**
 * The return page's door to the drafts proposed to a survivor (client/drafts.ts): the code
 * loads under its integrity hash only for a case that has a draft (the page names the script
 * in <meta name="awaaz-drafts">), so a survivor without one downloads none of it.
 */
import type { SurvivorCase } from '../../protocol/api';
import { lazyScript, namedByPage } from './lazy-script';
import type { SurvivorContext } from './survivor-publishing';
import type { TestimonyBody } from './testimony';

export interface DraftTools {
  /** the drafts of a case, newest first, with what the survivor can do about each; none when all were superseded */
  draftsSection(c: SurvivorCase, testimony: TestimonyBody, ctx: SurvivorContext): Promise<HTMLElement | undefined>;
}

const draftTools = lazyScript<DraftTools>(() => namedByPage('awaaz-drafts'), 'AwaazDrafts');

/** The drafts section of a case, loading the drafts code first if this is the first case that has one. */
export async function draftsOf(c: SurvivorCase, testimony: TestimonyBody, ctx: SurvivorContext): Promise<HTMLElement | undefined> {
  if (!c.drafts.some((d) => d.status !== 'superseded')) return undefined;
  return (await draftTools()).draftsSection(c, testimony, ctx);
}
