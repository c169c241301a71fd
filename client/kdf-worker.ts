/**
 * The KDF worker: argon2id in pure JavaScript (protocol/kdf-js.ts) and the proof of work, off
 * the page's main thread, for browsers without WebAssembly or a JIT (Tor Browser's Safer level),
 * where each takes seconds. client/lib/kdf.ts fetches this script under its integrity hash and
 * starts it from a blob: URL of the verified bytes; one worker per job, ended after it.
 */
import { jsArgon2Sync } from '../protocol/kdf-js';
import { solvePow } from '../protocol/pow';
import type { KdfWorkerReply, KdfWorkerRequest } from './lib/kdf';

interface WorkerScope {
  onmessage: ((event: MessageEvent<KdfWorkerRequest>) => void) | null;
  postMessage(message: KdfWorkerReply, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = ({ data }) => {
  try {
    if (data.kind === 'argon2') {
      const key = jsArgon2Sync(data.password, data.salt, data.params);
      data.password.fill(0);
      scope.postMessage({ ok: true, key }, [key.buffer]);
    } else {
      scope.postMessage({ ok: true, nonce: solvePow(data.challenge, data.bits) });
    }
  } catch (e) {
    scope.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
