/**
 * Key derivation in the browser. With WebAssembly: hash-wasm's argon2id on the page (a fraction
 * of a second). Without it (Tor Browser's Safer level turns off WebAssembly and the JIT): the
 * same argon2id in pure JavaScript, which gives the same bytes but takes seconds, so it runs in
 * a Worker (client/kdf-worker.ts) and the page stays responsive. That script loads only then:
 * fetched under the integrity hash the build recorded (a Worker cannot carry an `integrity`
 * attribute) and started from a blob: URL of the checked bytes (lib/lazy-script.ts).
 */
import { solvePowAsync } from '../../protocol/pow';
import { wasmArgon2, type Argon2Engine, type Argon2Params } from '../../protocol/kdf';
import { lazyWorkerUrl } from './lazy-script';

declare const AWAAZ_KDF_WORKER_SRC: string;
declare const AWAAZ_KDF_WORKER_SRI: string;

export type KdfWorkerRequest =
  { kind: 'argon2'; password: Uint8Array; salt: Uint8Array; params: Argon2Params } | { kind: 'pow'; challenge: string; bits: number };
export type KdfWorkerReply = { ok: true; key?: Uint8Array; nonce?: number } | { ok: false; error: string };

/** Whether this browser runs WebAssembly (Tor Browser's Safer level removes the object). */
export function hasWebAssembly(): boolean {
  return typeof WebAssembly === 'object' && typeof WebAssembly.instantiate === 'function';
}

/** True where key derivation takes seconds: the page says so while it works. */
export const slowKdf = (): boolean => !hasWebAssembly();

/** A failed or tampered fetch (integrity mismatch) rejects; the next derivation tries again. */
const verifiedWorkerUrl = lazyWorkerUrl(() => ({ src: AWAAZ_KDF_WORKER_SRC, integrity: AWAAZ_KDF_WORKER_SRI }));

/** Runs one job in a fresh worker, ended afterwards (which frees its argon2 memory at once). */
async function inWorker(request: KdfWorkerRequest, transfer: Transferable[] = []): Promise<KdfWorkerReply & { ok: true }> {
  const worker = new Worker(await verifiedWorkerUrl());
  try {
    const reply = await new Promise<KdfWorkerReply>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<KdfWorkerReply>) => resolve(e.data);
      worker.onerror = () => reject(new Error('kdf-worker'));
      worker.postMessage(request, transfer);
    });
    if (!reply.ok) throw new Error(`kdf-worker: ${reply.error}`);
    return reply;
  } finally {
    worker.terminate();
  }
}

/** The pure-JavaScript argon2id in a Worker (what the pages use where WebAssembly is missing). */
export const workerArgon2: Argon2Engine = async (password, salt, params) => {
  const copy = password.slice();
  return (await inWorker({ kind: 'argon2', password: copy, salt, params }, [copy.buffer])).key!;
};

/** The engine the pages pass to protocol/kdf.ts. */
export const browserArgon2: Argon2Engine = (password, salt, params) =>
  hasWebAssembly() ? wasmArgon2(password, salt, params) : workerArgon2(password, salt, params);

/**
 * The proof of work, with WebCrypto's SHA-512 (native and async: protocol/pow.ts). Without a
 * JIT (Safer turns it off with WebAssembly) it runs in the same Worker, so even the little
 * JavaScript around each hash stays off the page; elsewhere it runs on the page in batches.
 */
export async function browserSolvePow(challenge: string, bits: number): Promise<number> {
  return hasWebAssembly() ? solvePowAsync(challenge, bits) : (await inWorker({ kind: 'pow', challenge, bits })).nonce!;
}
