/**
 * Survivor codenames: 8 words drawn uniformly from a list of 2048 words that cannot hurt
 * (protocol/codename-words.txt: no violence, sex, body, crime, fear, family role or illness),
 * so 88 bits. Generated in the browser; the server never sees one.
 *
 * Codenames made before this list were drawn from BIP39's English list. The BIP39 words this
 * list retired are still accepted when typed, so those codenames normalize, and derive keys,
 * exactly as before; they are never drawn again.
 */
import nacl from 'tweetnacl';
import { ProtocolError } from './encoding';
import { PACKED_CODENAME_WORDS } from './codename-words';

export const CODENAME_WORDS = 8;

/** Undoes scripts/pack-codename-words.mjs: a digit (current word) or A-J (retired word) says how many letters a word shares with the one before it. */
function unpack(packed: string): { current: string[]; retired: string[] } {
  const current: string[] = [];
  const retired: string[] = [];
  let prev = '';
  for (const [, mark, rest] of packed.matchAll(/([0-9A-J])([a-z]+)/g)) {
    const isRetired = mark >= 'A';
    prev = prev.slice(0, isRetired ? mark.charCodeAt(0) - 65 : Number(mark)) + rest;
    (isRetired ? retired : current).push(prev);
  }
  return { current, retired };
}

const unpacked = unpack(PACKED_CODENAME_WORDS);
/** The words new codenames are drawn from, in alphabetical order. */
export const WORDLIST: readonly string[] = unpacked.current;
/** BIP39 English words that are no longer drawn but still accepted in a codename typed back. */
export const RETIRED_WORDS: readonly string[] = unpacked.retired;
const ACCEPTED = new Set([...WORDLIST, ...RETIRED_WORDS]);

/**
 * A uniform integer in [0, n) by rejection sampling over random 32-bit values, so no word
 * is likelier than another whatever n is.
 */
export function uniformIndex(n: number, randomBytes: (k: number) => Uint8Array = (k) => nacl.randomBytes(k)): number {
  if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new ProtocolError('bad_range', 'n must be an integer in 1..2^32');
  const limit = 2 ** 32 - (2 ** 32 % n); // largest multiple of n that fits
  for (;;) {
    const b = randomBytes(4);
    const x = ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
    if (x < limit) return x % n;
  }
}

export function generateCodename(randomBytes: (k: number) => Uint8Array = (k) => nacl.randomBytes(k)): string {
  const words: string[] = [];
  for (let i = 0; i < CODENAME_WORDS; i++) words.push(WORDLIST[uniformIndex(WORDLIST.length, randomBytes)]);
  return words.join(' ');
}

/** The words of a typed codename: NFKD, lower case, split at spaces and punctuation. */
export function codenameWords(input: string): string[] {
  return input
    .normalize('NFKD')
    .toLowerCase()
    .trim()
    .split(/[\s,.;:-]+/u)
    .filter(Boolean);
}

/** Whether a word may appear in a codename typed back: a current word, or a retired BIP39 word of an older codename. */
export function isCodenameWord(word: string): boolean {
  return ACCEPTED.has(word);
}

/**
 * The canonical form that keys are derived from: NFKD, lower case, single spaces.
 * Throws a ProtocolError naming the first word that is not a codename word, so a typo is
 * reported instead of silently deriving the keys of a stranger's (empty) account.
 */
export function normalizeCodename(input: string): string {
  const words = codenameWords(input);
  if (words.length !== CODENAME_WORDS) {
    throw new ProtocolError('bad_codename', `a codename has ${CODENAME_WORDS} words; this one has ${words.length}`);
  }
  words.forEach((w, i) => {
    if (!isCodenameWord(w)) throw new ProtocolError('bad_codename', `word ${i + 1} ("${w}") is not a codename word; check its spelling`);
  });
  return words.join(' ');
}
