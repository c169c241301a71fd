/**
 * A deterministic stand-in for nacl.randomBytes, for known-answer tests ONLY.
 *
 * The byte stream is the concatenation of
 *   SHA-512(utf8("awaaz/test-random\n" + seed + "\n" + counter))   for counter = 0, 1, 2, ...
 * and each call returns the next n bytes of it as a fresh array (callers may zero what they get).
 *
 * DOM-free and Node-free: it is bundled into the browser vector check (browser-vectors.ts).
 */
import { concatBytes, sha512, utf8 } from '../../protocol/encoding';

export type RandomBytes = (n: number) => Uint8Array;

export function deterministicRandom(seed: string): RandomBytes {
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return (n: number): Uint8Array => {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('n must be a non-negative integer');
    while (pool.length < n) pool = concatBytes(pool, sha512(utf8(`awaaz/test-random\n${seed}\n${counter++}`)));
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    return out;
  };
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`not lower-case hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
