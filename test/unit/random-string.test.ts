/**
 * randomString (protocol/random-string.ts) and the server's handles and story aliases made
 * with it. The byte source is scripted, so every count below is exact: no sampling, no threshold.
 */
import { randomString } from '../../protocol/random-string';
import { ALIAS_ALPHABET, HANDLE_ALPHABET, newAlias, newHandle } from '../../server/services/pseudonyms';
import { expectProtocolError } from './helpers';

/** A byte source that hands out `bytes` in order and fails when they run out. */
function scripted(bytes: number[]): (k: number) => Uint8Array {
  let next = 0;
  return (k) => {
    if (next + k > bytes.length) throw new Error('script exhausted');
    return Uint8Array.from(bytes.slice(next, (next += k)));
  };
}
const EVERY_BYTE = Array.from({ length: 256 }, (_, b) => b);

/** How often each character of `alphabet` occurs in `s`. */
function counts(alphabet: string, s: string): number[] {
  return Array.from(alphabet, (c) => s.split(c).length - 1);
}

describe('randomString', () => {
  test('31 characters (the alias alphabet): folding every byte value (b % 31) favours 8 characters; rejection gives each exactly 8 of the 248 accepted bytes', () => {
    const folded = EVERY_BYTE.map((b) => ALIAS_ALPHABET[b % 31]).join('');
    const foldedCounts = counts(ALIAS_ALPHABET, folded);
    expect(foldedCounts.filter((n) => n === 9)).toHaveLength(256 % 31);
    expect(foldedCounts.filter((n) => n === 8)).toHaveLength(31 - (256 % 31));

    // The 256 byte values, each once, are exactly enough for 248 characters: 8 are rejected.
    const drawn = randomString(ALIAS_ALPHABET, 248, scripted(EVERY_BYTE));
    expect(counts(ALIAS_ALPHABET, drawn)).toEqual(new Array(31).fill(8));
  });

  test.each([2, 3, 7, 10, 31, 32, 33, 100, 129, 255, 256])(
    'an alphabet of %p characters: over every byte value, each character is drawn equally often',
    (n) => {
      const alphabet = Array.from({ length: n }, (_, i) => String.fromCodePoint(0x100 + i)).join('');
      const accepted = 256 - (256 % n);
      const drawn = randomString(alphabet, accepted, scripted(EVERY_BYTE));
      expect(counts(alphabet, drawn)).toEqual(new Array(n).fill(accepted / n));
    },
  );

  test('a rejected byte is skipped and replaced by the next one', () => {
    // 248..255 are rejected for 31 characters; 0, 30 and 247 are kept.
    expect(randomString(ALIAS_ALPHABET, 3, scripted([255, 0, 248, 249, 30, 247]))).toBe(
      ALIAS_ALPHABET[0] + ALIAS_ALPHABET[30] + ALIAS_ALPHABET[247 % 31],
    );
  });

  test('32 characters (the handle alphabet) reject nothing: the same characters as b & 31', () => {
    expect(randomString(HANDLE_ALPHABET, 256, scripted(EVERY_BYTE))).toBe(EVERY_BYTE.map((b) => HANDLE_ALPHABET[b & 31]).join(''));
  });

  test.each([
    ['a one-character alphabet', 'a', 4],
    ['an alphabet of 257 characters', Array.from({ length: 257 }, (_, i) => String.fromCodePoint(0x100 + i)).join(''), 4],
    ['a repeated character', 'abca', 4],
    ['a negative length', 'ab', -1],
    ['a fractional length', 'ab', 1.5],
  ])('refuses %s', (_label, alphabet, length) => {
    expectProtocolError(() => randomString(alphabet, length), 'bad_range');
  });
});

describe('handles and aliases', () => {
  test('an alias draws through rejection: bytes 248..255 are skipped, where b % 31 used them', () => {
    const bytes = [248, 249, 250, 251, 252, 253, 254, 255, ...Array.from({ length: 10 }, (_, i) => i)];
    expect(newAlias(scripted(bytes))).toBe('abcdefghjk');
    // What the old code made of the same bytes: the first 8 letters twice as often as they should be.
    expect(
      bytes
        .slice(0, 10)
        .map((b) => ALIAS_ALPHABET[b % 31])
        .join(''),
    ).toBe('abcdefghab');
  });

  test('shapes: an alias is 10 characters of its alphabet, a handle S-XXXX-XXXX', () => {
    for (let i = 0; i < 50; i++) {
      expect(newAlias()).toMatch(/^[a-hjkmnp-z2-9]{10}$/);
      expect(newHandle()).toMatch(/^S-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    }
    expect(newHandle(scripted(EVERY_BYTE.slice(0, 8)))).toBe('S-2345-6789');
  });
});
