/**
 * argon2id in pure JavaScript (@noble/hashes 2, about twice as fast as 1.8 without a JIT), for browsers without WebAssembly (Tor Browser's
 * Safer level). Same bytes as hash-wasm's (test/unit/kdf.test.ts, test/e2e/kdf-fallback.e2e.test.ts).
 * Kept out of protocol/index.ts: only the KDF worker (client/kdf-worker.ts), tests and bench/
 * import it, so the pages' bundles do not carry it. @noble/hashes 2 is ESM only: esbuild bundles
 * it; jest cannot load it, so test/unit/kdf.test.ts runs it in a worker thread, bundled.
 */
import { argon2id } from '@noble/hashes/argon2.js';

/** Synchronous: run it off the page's main thread (a Worker), where it may take seconds. */
export function jsArgon2Sync(password: Uint8Array, salt: Uint8Array, params: { m: number; t: number; p: number }): Uint8Array {
  return argon2id(password, salt, { m: params.m, t: params.t, p: params.p, dkLen: 32 });
}
