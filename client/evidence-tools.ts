/**
 * The evidence tools, loaded by a survivor page only when a first file is chosen
 * (lib/evidence-tools-loader.ts): the picker that cleans each file in the browser
 * (lib/metadata.ts), shows what will be sent, and seals and uploads it (lib/attachments.ts).
 * Built against the survivor layers, so it carries no second copy of tweetnacl or the catalogs;
 * it brings its own messages (i18n/evidence.ts).
 */
import { evidenceEn, evidenceUr } from '../i18n/evidence';
import { evidencePicker } from './lib/evidence-picker';
import type { EvidenceTools } from './lib/evidence-tools-loader';
import { addMessages } from './lib/i18n';

addMessages({ en: evidenceEn, ur: evidenceUr });

const tools: EvidenceTools = { evidencePicker };
(globalThis as { AwaazEvidenceTools?: EvidenceTools }).AwaazEvidenceTools = tools;
