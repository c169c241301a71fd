import fc from 'fast-check';
import { ProtocolError } from '../../protocol/encoding';
import { pad, padmeLength, unpad } from '../../protocol/padding';
import { expectProtocolError } from './helpers';

/** Padmé written independently, with integer bit operations (valid for L < 2^32). */
function referencePadme(length: number): number {
  if (length < 2) return length;
  const e = 31 - Math.clz32(length); // floor(log2 L)
  const s = 32 - Math.clz32(e); // floor(log2 e) + 1
  const mask = 2 ** (e - s) - 1;
  return Number((BigInt(length) + BigInt(mask)) & ~BigInt(mask));
}

describe('padmeLength', () => {
  it('matches worked values from the Padmé construction', () => {
    expect([0, 1, 2, 3, 4, 5, 7, 8, 9].map(padmeLength)).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 10]);
    expect(padmeLength(1000)).toBe(1024);
    expect(padmeLength(1025)).toBe(1088);
    expect(padmeLength(65536 + 1)).toBe(65536 + 2048);
  });

  it('is monotone, never shrinks, and costs at most 12% for L >= 256 (every L up to 70,000)', () => {
    let previous = 0;
    for (let length = 0; length <= 70_000; length++) {
      const padded = padmeLength(length);
      if (padded < previous) throw new Error(`not monotone at L = ${length}`);
      if (padded < length) throw new Error(`shrinks L = ${length}`);
      if (length >= 256 && padded - length > 0.12 * length) throw new Error(`overhead of ${padded - length} for L = ${length}`);
      previous = padded;
    }
  });

  it('agrees with an integer reference implementation up to 2^32, also around powers of two', () => {
    for (let k = 1; k <= 32; k++) {
      for (const length of [2 ** k - 1, 2 ** k, 2 ** k + 1]) {
        if (length < 2 ** 32) expect(padmeLength(length)).toBe(referencePadme(length));
      }
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (a, b) => {
        expect(padmeLength(a)).toBe(referencePadme(a));
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(padmeLength(lo)).toBeLessThanOrEqual(padmeLength(hi));
        if (a >= 256) expect(padmeLength(a) - a).toBeLessThanOrEqual(0.12 * a);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([-1, 1.5, NaN, Infinity, 2 ** 53])('rejects %p', (length) => {
    expectProtocolError(() => padmeLength(length), 'bad_length');
  });
});

describe('pad / unpad', () => {
  it('round-trips any plaintext to exactly the Padmé size of prefix + plaintext', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (plaintext) => {
        const padded = pad(plaintext);
        expect(padded.length).toBe(padmeLength(plaintext.length + 4));
        expect(new DataView(padded.buffer).getUint32(0, false)).toBe(plaintext.length);
        expect(unpad(padded)).toEqual(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it('unpads a view into a larger buffer (respects byteOffset)', () => {
    const padded = pad(Uint8Array.of(7, 8, 9));
    const big = new Uint8Array(padded.length + 10);
    big.set(padded, 5);
    expect(unpad(big.subarray(5, 5 + padded.length))).toEqual(Uint8Array.of(7, 8, 9));
  });

  it('accepts only canonical paddings: whatever unpad accepts, pad gives back byte for byte', () => {
    // Candidates: genuine paddings, paddings with one byte changed, one byte added or removed, and noise.
    const candidate = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map(pad),
      fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([p, i, x]) => {
        const out = pad(p);
        out[i % out.length] ^= x;
        return out;
      }),
      fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean()).map(([p, grow]) => {
        const out = pad(p);
        return grow ? Uint8Array.from([...out, 0]) : out.slice(0, out.length - 1);
      }),
      fc.uint8Array({ maxLength: 64 }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(candidate, (bytes) => {
        let plaintext: Uint8Array;
        try {
          plaintext = unpad(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          expect((e as ProtocolError).code).toBe('bad_padding');
          return;
        }
        accepted++;
        expect(pad(plaintext)).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100); // the property was exercised on both sides
  });

  const thousand = new Uint8Array(1000).fill(0x41); // 1004 bytes pad to 1024: 20 zero bytes of padding

  it('rejects non-zero padding bytes (each one)', () => {
    const padded = pad(thousand);
    expect(padded.length).toBe(1024);
    for (let i = 1004; i < 1024; i++) {
      const bad = padded.slice();
      bad[i] = 1;
      expect(() => unpad(bad)).toThrow(/not zero/);
      expectProtocolError(() => unpad(bad), 'bad_padding');
    }
  });

  it('rejects a wrong size (one byte more or less)', () => {
    const padded = pad(thousand);
    const longer = new Uint8Array(padded.length + 1);
    longer.set(padded);
    expectProtocolError(() => unpad(longer), 'bad_padding');
    expectProtocolError(() => unpad(padded.slice(0, padded.length - 1)), 'bad_padding');
  });

  it('rejects a length prefix that is too large or that does not match the size', () => {
    const padded = pad(thousand);
    const tooLarge = padded.slice();
    new DataView(tooLarge.buffer).setUint32(0, 1021, false); // 4 + 1021 > 1024
    expect(() => unpad(tooLarge)).toThrow(/exceeds/);
    expectProtocolError(() => unpad(tooLarge), 'bad_padding');

    const tooSmall = padded.slice();
    new DataView(tooSmall.buffer).setUint32(0, 500, false); // Padmé(504) = 512, not 1024
    expect(() => unpad(tooSmall)).toThrow(/Padmé/);

    const huge = padded.slice();
    new DataView(huge.buffer).setUint32(0, 0xffffffff, false);
    expectProtocolError(() => unpad(huge), 'bad_padding');
  });

  it('rejects input shorter than the length prefix', () => {
    for (const n of [0, 1, 2, 3]) expectProtocolError(() => unpad(new Uint8Array(n)), 'bad_padding');
    expect(unpad(new Uint8Array(4))).toEqual(new Uint8Array(0));
  });
});
