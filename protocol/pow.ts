/**
 * Proof of work for anonymous registration and submission: behind Tor every visitor shares
 * an address, so rate limits alone cannot slow a flood. Find a nonce such that
 * SHA-512(domain || challenge || nonce) starts with `bits` zero bits.
 */
import { buf } from './crypto-provider';
import { concatBytes, sha512, utf8 } from './encoding';

function leadingZeroBits(hash: Uint8Array): number {
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

function powHash(challenge: string, nonce: number): Uint8Array {
  return sha512(concatBytes(utf8('awaaz/v1/pow\n' + challenge + '\n'), utf8(String(nonce))));
}

export function checkPow(challenge: string, nonce: number, bits: number): boolean {
  return Number.isSafeInteger(nonce) && nonce >= 0 && leadingZeroBits(powHash(challenge, nonce)) >= bits;
}

export function solvePow(challenge: string, bits: number): number {
  for (let nonce = 0; ; nonce++) if (checkPow(challenge, nonce, bits)) return nonce;
}

type Digest = (bytes: Uint8Array) => Promise<ArrayBuffer>;
const webCryptoSha512: Digest = (bytes) => globalThis.crypto.subtle.digest('SHA-512', buf(bytes));

/**
 * solvePow with WebCrypto's SHA-512: native, so it does not depend on the JIT (without one,
 * Tor Browser's Safer level, tweetnacl's SHA-512 makes a 14-bit proof take seconds), and async,
 * so the page or worker stays free between batches. The same nonce: the smallest that works.
 */
export async function solvePowAsync(challenge: string, bits: number, digest: Digest = webCryptoSha512, batch = 256): Promise<number> {
  const prefix = utf8('awaaz/v1/pow\n' + challenge + '\n');
  for (let start = 0; ; start += batch) {
    const hashes = await Promise.all(Array.from({ length: batch }, (_, k) => digest(concatBytes(prefix, utf8(String(start + k))))));
    const found = hashes.findIndex((h) => leadingZeroBits(new Uint8Array(h)) >= bits);
    if (found >= 0) return start + found;
  }
}
