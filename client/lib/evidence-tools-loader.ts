/**
 * Loads the evidence tools (client/evidence-tools.ts) once, the first time a survivor adds a
 * file, so a survivor who attaches nothing never downloads the picker, the metadata parsers
 * and the upload code. The page names the script and its Subresource Integrity hash in
 * <meta name="awaaz-evidence-tools" content="<path> <sha384-…>"> (written by scripts/build.mjs).
 */
import type { evidencePicker } from './evidence-picker';
import { loadScript } from './lazy-script';

export interface EvidenceTools {
  evidencePicker: typeof evidencePicker;
}

export function evidenceTools(): Promise<EvidenceTools> {
  const [src = '', integrity = ''] = (document.querySelector<HTMLMetaElement>('meta[name="awaaz-evidence-tools"]')?.content ?? '').split(' ');
  return loadScript<EvidenceTools>(src, integrity, 'AwaazEvidenceTools');
}
