/**
 * The KDF worker: argon2id in pure JavaScript (protocol/kdf-js.ts) and the proof of work, off
 * the page's main thread, for browsers without WebAssembly or a JIT (Tor Browser's Safer level),
 * where each takes seconds. client/lib/kdf.ts fetches this script under its integrity hash and
 * starts it from a blob: URL of the verified bytes; one worker per job, ended after it.
 */
import { jsArgon2Sync } from '../protocol/kdf-js';
import { solvePowAsync } from '../protocol/pow';
import type { KdfWorkerReply, KdfWorkerRequest } from './lib/kdf';

interface WorkerScope {
  onmessage: ((event: MessageEvent<KdfWorkerRequest>) => void) | null;
  postMessage(message: KdfWorkerReply, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

async function run(data: KdfWorkerRequest): Promise<void> {
  try {
    if (data.kind === 'argon2') {
      const key = jsArgon2Sync(data.password, data.salt, data.params);
      data.password.fill(0);
      scope.postMessage({ ok: true, key }, [key.buffer]);
    } else {
      // WebCrypto's SHA-512 is native: without a JIT it is far faster than tweetnacl's.
      scope.postMessage({ ok: true, nonce: await solvePowAsync(data.challenge, data.bits) });
    }
  } catch (e) {
    scope.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
}

scope.onmessage = ({ data }) => void run(data);
