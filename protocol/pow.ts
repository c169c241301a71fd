/**
 * Proof of work for anonymous registration and submission: behind Tor every visitor shares
 * an address, so rate limits alone cannot slow a flood. Find a nonce such that
 * SHA-512(domain || challenge || nonce) starts with `bits` zero bits.
 */
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
