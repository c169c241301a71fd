import fs from 'node:fs';
import path from 'node:path';
import * as argon2native from 'argon2';
import fc from 'fast-check';
import { wordlist as BIP39_ENGLISH } from '@scure/bip39/wordlists/english';
import {
  CODENAME_WORDS,
  codenameWords,
  generateCodename,
  isCodenameWord,
  normalizeCodename,
  RETIRED_WORDS,
  uniformIndex,
  WORDLIST,
} from '../../protocol/codename';
import { SURVIVOR_KDF, survivorMaster, survivorSalt } from '../../protocol/kdf';
import { toHex } from '../vectors/deterministic-random';
import vectors from '../vectors/protocol-v1.json';
import { DENY_LIST, RETIRED_FOR_OTHER_REASONS } from './codename-deny-list';
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

const DENIED = new Map(Object.entries(DENY_LIST).flatMap(([category, words]) => words.map((w) => [w, category] as const)));
const OTHER_REASON = new Map(
  Object.entries(RETIRED_FOR_OTHER_REASONS).flatMap(([reason, words]) => words.map((w) => [w, reason] as const)),
);

describe('WORDLIST', () => {
  it('is the reviewed list in protocol/codename-words.txt: 2048 distinct words of 3 to 8 letters a-z, sorted', () => {
    const source = fs.readFileSync(path.join(__dirname, '../../protocol/codename-words.txt'), 'utf8').split('\n').filter(Boolean);
    expect(WORDLIST).toEqual(source);
    expect(WORDLIST).toHaveLength(2048);
    expect(new Set(WORDLIST).size).toBe(2048);
    expect([...WORDLIST].sort()).toEqual(WORDLIST);
    for (const w of WORDLIST) expect(w).toMatch(/^[a-z]{3,8}$/);
  });

  it('gives a codename at least 88 bits: log2(list size) x words', () => {
    expect(CODENAME_WORDS).toBe(8);
    expect(Math.log2(WORDLIST.length) * CODENAME_WORDS).toBeGreaterThanOrEqual(88);
  });

  it('holds no word of the deny list (violence, weapons, sex, body, crime, fear, family roles, illness, insults, predators, coercion, religion)', () => {
    expect(DENIED.size).toBeGreaterThan(500);
    for (const w of [
      'abuse',
      'assault',
      'gun',
      'knife',
      'kill',
      'war',
      'rape',
      'blood',
      'mother',
      'prison',
      'fear',
      'illness',
      'acid',
      'stove',
    ])
      expect(DENIED.has(w)).toBe(true);
    expect(
      WORDLIST.filter((w) => DENIED.has(w) || OTHER_REASON.has(w)).map((w) => `${w} (${DENIED.get(w) ?? OTHER_REASON.get(w)})`),
    ).toEqual([]);
  });

  it('hides no word of harm or slur inside a longer word (as "grape" hid one)', () => {
    const stems = [
      'rape',
      'kill',
      'sex',
      'porn',
      'slut',
      'whore',
      'coon',
      'spic',
      'nazi',
      'murder',
      'drug',
      'cock',
      'dick',
      'fuck',
      'shit',
      'cunt',
      'bitch',
      'nigg',
      'fag',
      'dyke',
      'penis',
      'vagin',
      'breast',
      'naked',
      'nude',
      'suicid',
      'gun',
      'knife',
      'blood',
      'abuse',
      'chod',
    ];
    expect(WORDLIST.filter((w) => stems.some((s) => w.includes(s)))).toEqual([]);
  });

  it('is BIP39 English without the words it retired, plus new words; every retired word is accounted for', () => {
    const current = new Set(WORDLIST);
    const retired = BIP39_ENGLISH.filter((w) => !current.has(w));
    expect(RETIRED_WORDS).toEqual(retired);
    // each dropped BIP39 word is on the deny list or retired for a stated reason (spelling, homophone...)
    expect(retired.filter((w) => !DENIED.has(w) && !OTHER_REASON.has(w))).toEqual([]);
    for (const w of ['abuse', 'assault', 'gun', 'knife', 'weapon', 'bullet', 'blood', 'kiss', 'mother', 'sick'])
      expect(RETIRED_WORDS).toContain(w);
  });

  it("adds no word one letter away from another word of the list, so a typo in a new word is caught rather than opening a stranger's codename", () => {
    const bip39 = new Set(BIP39_ENGLISH);
    const added = WORDLIST.filter((w) => !bip39.has(w));
    expect(added.length).toBeGreaterThan(400);
    const oneEditApart = (a: string, b: string): boolean => {
      if (a === b || Math.abs(a.length - b.length) > 1) return false;
      const [s, l] = a.length <= b.length ? [a, b] : [b, a];
      let i = 0;
      while (i < s.length && s[i] === l[i]) i++;
      return s.length === l.length ? s.slice(i + 1) === l.slice(i + 1) : s.slice(i) === l.slice(i + 1);
    };
    const close = added.flatMap((a) => WORDLIST.filter((b) => oneEditApart(a, b)).map((b) => `${a}/${b}`));
    expect(close).toEqual([]);
  });
});

describe('codenames made from the BIP39 list before', () => {
  const old = 'abuse assault gun knife abandon blood mother zoo';

  it('still normalize to the same text, so they derive the same keys', () => {
    for (const w of old.split(' ')) expect(isCodenameWord(w)).toBe(true);
    expect(normalizeCodename(old)).toBe(old);
    expect(normalizeCodename(' ABUSE, assault gun\tknife abandon blood mother zoo.')).toBe(old);
    // the protocol-v1 vector is such a codename ("abandon" is retired) and keeps its known answer (kdf.test.ts)
    expect(RETIRED_WORDS).toContain(vectors.survivorKdf.codename.split(' ')[0]);
    expect(normalizeCodename(vectors.survivorKdf.codename)).toBe(vectors.survivorKdf.codename);
  });

  it('derive the master key argon2id gives over the normalized text (native argon2, independent of protocol/)', async () => {
    const instanceId = vectors.survivorKdf.instanceId;
    const expected = await argon2native.hash(Buffer.from(old, 'utf8'), {
      type: argon2native.argon2id,
      salt: Buffer.from(survivorSalt(instanceId)),
      memoryCost: SURVIVOR_KDF.m,
      timeCost: SURVIVOR_KDF.t,
      parallelism: SURVIVOR_KDF.p,
      hashLength: 32,
      raw: true,
    });
    expect(toHex(await survivorMaster(normalizeCodename(old), instanceId))).toBe(expected.toString('hex'));
  });

  it('are never drawn again', () => {
    const retired = new Set(RETIRED_WORDS);
    for (let i = 0; i < 200; i++) for (const w of generateCodename().split(' ')) expect(retired.has(w)).toBe(false);
    expect(WORDLIST.filter((w) => retired.has(w))).toEqual([]);
  });

  it('a word on neither list is still refused', () => {
    expect(isCodenameWord('zzzz')).toBe(false);
    expect(isCodenameWord('abus')).toBe(false);
    expectProtocolError(() => normalizeCodename('abuse assault gun knife abandon blood mother zooo'), 'bad_codename');
  });
});

describe('codenameWords', () => {
  it('splits as normalizeCodename does, without checking the words', () => {
    expect(codenameWords('  Apple,banana\tＣＨＥＲＲＹ. zzzz ')).toEqual(['apple', 'banana', 'cherry', 'zzzz']);
    expect(codenameWords('')).toEqual([]);
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
    expect(generateCodename(randomBytes)).toBe('abacus ability able about above absent absorb zoo');
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
