import fc from 'fast-check';
import { CODENAME_WORDS, generateCodename, normalizeCodename, uniformIndex, WORDLIST } from '../../protocol/codename';
import { expectProtocolError } from './helpers';

/** A randomBytes stand-in that returns the given 32-bit values, big-endian, one per call of 4 bytes. */
function scripted(values: number[]): { randomBytes: (n: number) => Uint8Array; calls: number[] } {
  const calls: number[] = [];
  let next = 0;
  const randomBytes = (n: number): Uint8Array => {
    calls.push(n);
    if (n !== 4) throw new Error(`expected requests of 4 bytes, got ${n}`);
    if (next >= values.length) throw new Error('script exhausted');
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, values[next++], false);
    return out;
  };
  return { randomBytes, calls };
}

describe('WORDLIST', () => {
  it('is the 2048-word BIP39 English list, unique, lower-case ASCII', () => {
    expect(WORDLIST).toHaveLength(2048);
    expect(new Set(WORDLIST).size).toBe(2048);
    expect(WORDLIST[0]).toBe('abandon');
    expect(WORDLIST[2047]).toBe('zoo');
    for (const w of WORDLIST) expect(w).toMatch(/^[a-z]{3,8}$/);
  });
});

describe('generateCodename', () => {
  it('yields 8 words from WORDLIST that are already normalized', () => {
    for (let i = 0; i < 20; i++) {
      const codename = generateCodename();
      const words = codename.split(' ');
      expect(words).toHaveLength(CODENAME_WORDS);
      expect(CODENAME_WORDS).toBe(8);
      for (const w of words) expect(WORDLIST).toContain(w);
      expect(normalizeCodename(codename)).toBe(codename);
    }
  });

  it('maps 32-bit draws to words by index (2048 divides 2^32: nothing is rejected)', () => {
    const { randomBytes, calls } = scripted([0, 1, 2, 3, 4, 5, 6, 2047 + 2048 * 12345]);
    expect(generateCodename(randomBytes)).toBe('abandon ability able about above absent absorb zoo');
    expect(calls).toEqual(new Array(8).fill(4));
  });

  it('differs between calls', () => {
    expect(generateCodename()).not.toBe(generateCodename());
  });
});

describe('normalizeCodename', () => {
  const canonical = 'abandon ability able about above absent absorb abstract';

  it.each([
    ['upper case', 'ABANDON ABILITY ABLE ABOUT ABOVE ABSENT ABSORB ABSTRACT'],
    ['mixed case', 'Abandon aBiLiTy able about above absent absorb Abstract'],
    ['extra spaces, tabs and newlines', '  abandon   ability\table\nabout above  absent absorb abstract  '],
    ['commas', 'abandon, ability, able, about, above, absent, absorb, abstract'],
    ['commas without spaces', 'abandon,ability,able,about,above,absent,absorb,abstract'],
    ['leading and trailing punctuation', ', abandon ability able about above absent absorb abstract.'],
    ['full-width letters (NFKD)', 'ａｂａｎｄｏｎ ability able about above absent absorb abstract'],
  ])('accepts %s', (_, input) => {
    expect(normalizeCodename(input)).toBe(canonical);
  });

  it('rejects 7 words and 9 words, saying how many there are', () => {
    const seven = expectProtocolError(() => normalizeCodename('abandon ability able about above absent absorb'), 'bad_codename');
    expect(seven.message).toMatch(/8 words/);
    expect(seven.message).toMatch(/7/);
    const nine = expectProtocolError(() => normalizeCodename(canonical + ' zoo'), 'bad_codename');
    expect(nine.message).toMatch(/9/);
    expectProtocolError(() => normalizeCodename(''), 'bad_codename');
  });

  it('rejects a misspelled word and names it and its position', () => {
    const e = expectProtocolError(() => normalizeCodename('abandon abilty able about above absent absorb abstract'), 'bad_codename');
    expect(e.message).toContain('"abilty"');
    expect(e.message).toMatch(/word 2\b/);
    const last = expectProtocolError(() => normalizeCodename('abandon ability able about above absent absorb abstrakt'), 'bad_codename');
    expect(last.message).toContain('"abstrakt"');
    expect(last.message).toMatch(/word 8\b/);
  });
});

describe('uniformIndex', () => {
  it('n = 3: rejects 0xFFFFFFFF (2^32 mod 3 = 1) and uses the next value', () => {
    const { randomBytes, calls } = scripted([0xffffffff, 5]);
    expect(uniformIndex(3, randomBytes)).toBe(2);
    expect(calls).toEqual([4, 4]);
  });

  it('n = 3: accepts 0xFFFFFFFE, the largest value below the limit', () => {
    const { randomBytes, calls } = scripted([0xfffffffe]);
    expect(uniformIndex(3, randomBytes)).toBe(0xfffffffe % 3);
    expect(calls).toEqual([4]);
  });

  it('n = 2^31 + 1: rejects the whole upper half-range above 2^31 and keeps drawing', () => {
    const n = 2 ** 31 + 1; // limit = 2^32 - (2^31 - 1) = 2^31 + 1
    const { randomBytes, calls } = scripted([0xffffffff, 0x80000001, 0x80000000]);
    expect(uniformIndex(n, randomBytes)).toBe(0x80000000);
    expect(calls).toHaveLength(3);
  });

  it('n = 2^32 and n = 1 never reject', () => {
    expect(uniformIndex(2 ** 32, scripted([0xffffffff]).randomBytes)).toBe(0xffffffff);
    expect(uniformIndex(1, scripted([0xffffffff]).randomBytes)).toBe(0);
  });

  it.each([0, -1, 1.5, NaN, 2 ** 32 + 1])('rejects n = %p', (n) => {
    expectProtocolError(() => uniformIndex(n), 'bad_range');
  });

  it('stays in [0, n) for any n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 }), (n) => {
        const i = uniformIndex(n);
        expect(Number.isInteger(i) && i >= 0 && i < n).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('is roughly uniform: 8192 draws of uniformIndex(2048) in 8 buckets pass a chi-square test', () => {
    const draws = 8192;
    const buckets = new Array(8).fill(0);
    for (let i = 0; i < draws; i++) buckets[uniformIndex(2048) >> 8]++;
    const expected = draws / 8;
    const chi2 = buckets.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);
    // 7 degrees of freedom: P(chi2 > 40) is about 1e-6, so this only fails on real bias.
    expect(chi2).toBeLessThan(40);
  });
});
