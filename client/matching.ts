/**
 * The matching escrow's code for survivors, loaded by the return page only when a survivor
 * chooses to add an identifier of the person (or must derive one again after a key rotation):
 * lib/matching-loader.ts. It carries @noble/curves (the RFC 9497 OPRF) and its own messages
 * (i18n/matching.ts), so the survivor pages' budget does not; built against the survivor
 * layers, it shares their protocol and page code.
 */
import { matchingEn, matchingUr } from '../i18n/matching';
import { addMessages } from './lib/i18n';
import type { MatchingTools } from './lib/matching-loader';
import { openMatching, rederiveStale } from './lib/survivor-matching';

addMessages({ en: matchingEn, ur: matchingUr });

const tools: MatchingTools = { open: openMatching, rederive: rederiveStale };
(globalThis as { AwaazMatching?: MatchingTools }).AwaazMatching = tools;
