/**
 * The drafts proposed to a survivor (lib/survivor-drafts.ts), loaded by the return page only
 * when one of their cases has a draft (lib/drafts-loader.ts), with its own messages
 * (i18n/drafts.ts); built against the survivor layers, it shares their protocol and page code.
 */
import { draftsEn, draftsUr } from '../i18n/drafts';
import type { DraftTools } from './lib/drafts-loader';
import { addMessages } from './lib/i18n';
import { draftsSection } from './lib/survivor-drafts';

addMessages({ en: draftsEn, ur: draftsUr });

const tools: DraftTools = { draftsSection };
(globalThis as { AwaazDrafts?: DraftTools }).AwaazDrafts = tools;
