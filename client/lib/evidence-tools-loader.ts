/**
 * Loads the evidence tools (client/evidence-tools.ts) once, the first time a survivor adds a
 * file, so a survivor who attaches nothing never downloads the picker, the metadata parsers
 * and the upload code. The page names the script and its Subresource Integrity hash in
 * <meta name="awaaz-evidence-tools" content="<path> <sha384-…>"> (written by scripts/build.mjs).
 */
import type { evidencePicker } from './evidence-picker';

export interface EvidenceTools {
  evidencePicker: typeof evidencePicker;
}

let loading: Promise<EvidenceTools> | undefined;

export function evidenceTools(): Promise<EvidenceTools> {
  loading ??= new Promise<EvidenceTools>((resolve, reject) => {
    const [src, integrity] = (document.querySelector<HTMLMetaElement>('meta[name="awaaz-evidence-tools"]')?.content ?? '').split(' ');
    if (!src || !integrity) return reject(new Error('evidence-tools'));
    const script = document.createElement('script');
    script.src = src;
    script.integrity = integrity;
    script.onload = () => {
      const tools = (globalThis as { AwaazEvidenceTools?: EvidenceTools }).AwaazEvidenceTools;
      if (tools) resolve(tools);
      else reject(new Error('evidence-tools'));
    };
    script.onerror = () => reject(new Error('evidence-tools'));
    document.head.append(script);
  });
  loading.catch(() => (loading = undefined));
  return loading;
}
