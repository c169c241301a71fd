/**
 * Survivor codenames: 8 words drawn uniformly from the 2048-word BIP39 English list
 * (88 bits). Generated in the browser; the server never sees one.
 */
import nacl from 'tweetnacl';
import { wordlist } from '@scure/bip39/wordlists/english';
import { ProtocolError } from './encoding';

export const CODENAME_WORDS = 8;
export const WORDLIST: readonly string[] = wordlist;
const WORD_INDEX = new Map(WORDLIST.map((w, i) => [w, i]));

/**
 * A uniform integer in [0, n) by rejection sampling over random 32-bit values, so no word
 * is likelier than another whatever n is.
 */
export function uniformIndex(n: number, randomBytes: (k: number) => Uint8Array = nacl.randomBytes): number {
  if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new ProtocolError('bad_range', 'n must be an integer in 1..2^32');
  const limit = 2 ** 32 - (2 ** 32 % n); // largest multiple of n that fits
  for (;;) {
    const b = randomBytes(4);
    const x = ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
    if (x < limit) return x % n;
  }
}

export function generateCodename(randomBytes: (k: number) => Uint8Array = nacl.randomBytes): string {
  const words: string[] = [];
  for (let i = 0; i < CODENAME_WORDS; i++) words.push(WORDLIST[uniformIndex(WORDLIST.length, randomBytes)]);
  return words.join(' ');
}

/**
 * The canonical form that keys are derived from: NFKD, lower case, single spaces.
 * Throws a ProtocolError naming the first word that is not on the list, so a typo is
 * reported instead of silently deriving the keys of a stranger's (empty) account.
 */
export function normalizeCodename(input: string): string {
  const words = input.normalize('NFKD').toLowerCase().trim().split(/[\s,.;:-]+/u).filter(Boolean);
  if (words.length !== CODENAME_WORDS) {
    throw new ProtocolError('bad_codename', `a codename has ${CODENAME_WORDS} words; this one has ${words.length}`);
  }
  words.forEach((w, i) => {
    if (!WORD_INDEX.has(w)) throw new ProtocolError('bad_codename', `word ${i + 1} ("${w}") is not a codename word; check its spelling`);
  });
  return words.join(' ');
}
