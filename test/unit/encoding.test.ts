import fc from 'fast-check';
import {
  canonicalJson,
  concatBytes,
  equalBytes,
  fromBase64url,
  fromUtf8,
  ProtocolError,
  randomId,
  sha512,
  toBase64url,
  utcDay,
  utf8,
} from '../../protocol/encoding';
import { expectProtocolError, nodeSha512 } from './helpers';

describe('base64url', () => {
  it('round-trips any bytes and agrees with Node’s encoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = toBase64url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(fromBase64url(text)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('is canonical: a string either fails to decode or is the only encoding of its bytes', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 40 }),
        (text) => {
          let decoded: Uint8Array;
          try {
            decoded = fromBase64url(text);
          } catch (e) {
            expect(e).toBeInstanceOf(ProtocolError);
            expect((e as ProtocolError).code).toBe('bad_base64');
            return;
          }
          expect(toBase64url(decoded)).toBe(text);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes known values', () => {
    expect(fromBase64url('')).toEqual(new Uint8Array(0));
    expect(fromBase64url('AA')).toEqual(Uint8Array.of(0));
    expect(fromBase64url('AAA')).toEqual(Uint8Array.of(0, 0));
    expect(fromBase64url('-_8')).toEqual(Uint8Array.of(0xfb, 0xff));
    expect(toBase64url(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('-_-_');
  });

  it.each([
    ['padding =', 'AA=='],
    ['a single =', 'AAA='],
    ['standard base64 +', 'ab+c'],
    ['standard base64 /', 'ab/c'],
    ['whitespace', 'AA AA'],
    ['a trailing newline', 'AAAA\n'],
    ['a non-ASCII letter', 'AAÄA'],
  ])('rejects %s', (_, text) => {
    expectProtocolError(() => fromBase64url(text), 'bad_base64');
  });

  it.each(['A', 'AAAAA', 'AAAAAAAAA'])('rejects the impossible length of %p (length % 4 == 1)', (text) => {
    const e = expectProtocolError(() => fromBase64url(text), 'bad_base64');
    expect(e.message).toMatch(/length/);
  });

  it.each([
    ['AB', '4 trailing bits 0001'],
    ['AP', '4 trailing bits 1111'],
    ['AAB', '2 trailing bits 01'],
    ['AAAAAAC', '2 trailing bits 10'],
  ])('rejects non-zero trailing bits in %p (%s)', (text) => {
    const e = expectProtocolError(() => fromBase64url(text), 'bad_base64');
    expect(e.message).toMatch(/trailing bits/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and adds no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', { z: true, y: null }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,"x",{"y":null,"z":true}]},"b":1}',
    );
  });

  it('sorts by UTF-16 code units, not by locale', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4, Z: 5 })).toBe('{"B":2,"Z":5,"a":3,"b":1,"é":4}');
  });

  it('omits undefined properties', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it.each([
    ['a fraction', 1.5],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['an unsafe integer', 2 ** 53],
    ['a function', () => 1],
    ['undefined', undefined],
    ['a bigint', BigInt(1)],
    ['a symbol', Symbol('x')],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a Uint8Array', new Uint8Array(2)],
    ['a class instance', new (class Foo {})()],
    ['a null-prototype object', Object.create(null) as object],
    ['a nested fraction', { a: [1, { b: 0.1 }] }],
    ['a nested function', { a: { f() {} } }],
  ])('rejects %s', (_, value) => {
    expectProtocolError(() => canonicalJson(value), 'bad_canonical');
  });

  const jsonish = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.string({ unit: 'binary' }),
      fc.maxSafeInteger(),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.string(), tie('value'), { maxKeys: 5, noNullPrototype: true }),
    ),
  })).value;

  it('is valid JSON that parses back to the same value, and does not depend on key order', () => {
    const reverseKeys = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(reverseKeys);
      if (v !== null && typeof v === 'object')
        return Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, reverseKeys(x)]),
        );
      return v;
    };
    fc.assert(
      fc.property(jsonish, (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(value);
        expect(canonicalJson(reverseKeys(value))).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});

describe('bytes helpers', () => {
  it('utf8 round-trips and fromUtf8 refuses malformed UTF-8', () => {
    expect(fromUtf8(utf8('Awaaz آواز 🙂'))).toBe('Awaaz آواز 🙂');
    // (TypeError from another realm under jest, so match the message rather than the class)
    expect(() => fromUtf8(Uint8Array.of(0x61, 0xff, 0x62))).toThrow(/utf-8/i);
    expect(() => fromUtf8(Uint8Array.of(0xed, 0xa0, 0x80))).toThrow(/utf-8/i); // encoded lone surrogate
  });

  it('concatBytes and equalBytes', () => {
    expect(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3))).toEqual(Uint8Array.of(1, 2, 3));
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
    // Fail-closed, inherited from nacl.verify: empty inputs never compare equal.
    expect(equalBytes(new Uint8Array(0), new Uint8Array(0))).toBe(false);
  });

  it('sha512 agrees with node:crypto', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha512(bytes)).toEqual(nodeSha512(bytes));
      }),
      { numRuns: 50 },
    );
  });

  it('randomId is 16 random bytes in base64url', () => {
    const a = randomId();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(fromBase64url(a)).toHaveLength(16);
    expect(randomId()).not.toBe(a);
    expect(fromBase64url(randomId(32))).toHaveLength(32);
  });

  it('utcDay is the UTC calendar day', () => {
    expect(utcDay(new Date('2024-03-01T23:59:59-05:00'))).toBe('2024-03-02');
    expect(utcDay()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
