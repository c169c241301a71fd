/**
 * TOTP (server/http/totp.ts) against the published test vectors: RFC 6238 Appendix B (TOTP,
 * SHA-1, SHA-256 and SHA-512, 8 digits), RFC 4226 Appendix D (HOTP, 6 digits), RFC 4648 §10
 * (base32); then the verifier's window, replay refusal and the otpauth:// URI.
 */
import fc from 'fast-check';
import {
  base32Decode,
  base32Encode,
  groupedBase32,
  hotp,
  matchTotp,
  newTotpSecret,
  otpauthUri,
  totp,
  totpStep,
  TOTP_SECRET_BYTES,
} from '../../server/http/totp';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));
const SEED = {
  sha1: ascii('12345678901234567890'),
  sha256: ascii('12345678901234567890123456789012'),
  sha512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
};

describe('RFC 6238 Appendix B', () => {
  // time (s), T (hex), SHA-1, SHA-256, SHA-512
  const vectors: [number, string, string, string, string][] = [
    [59, '0000000000000001', '94287082', '46119246', '90693936'],
    [1111111109, '00000000023523EC', '07081804', '68084774', '25091201'],
    [1111111111, '00000000023523ED', '14050471', '67062674', '99943326'],
    [1234567890, '000000000273EF07', '89005924', '91819424', '93441116'],
    [2000000000, '0000000003F940AA', '69279037', '90698825', '38618901'],
    [20000000000, '0000000027BC86AA', '65353130', '77737706', '47863826'],
  ];
  test.each(vectors)('at %i s (T = %s)', (seconds, hexStep, sha1, sha256, sha512) => {
    expect(totpStep(seconds * 1000)).toBe(parseInt(hexStep, 16));
    expect(totp(SEED.sha1, seconds * 1000, { digits: 8 })).toBe(sha1);
    expect(totp(SEED.sha256, seconds * 1000, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totp(SEED.sha512, seconds * 1000, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
    // The 6-digit code staff type is the last 6 digits of the same truncation.
    expect(totp(SEED.sha1, seconds * 1000)).toBe(sha1.slice(2));
  });
});

test('RFC 4226 Appendix D: HOTP, counters 0 to 9', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expect(expected.map((_, counter) => hotp(SEED.sha1, counter))).toEqual(expected);
});

describe('base32 (RFC 4648 §10, without padding)', () => {
  test.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('%j <-> %s', (text, encoded) => {
    expect(base32Encode(ascii(text))).toBe(encoded);
    expect(Buffer.from(base32Decode(encoded)).toString('ascii')).toBe(text);
  });

  test('round-trips any bytes, and reads what people type (lower case, spaces, dashes, padding)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = base32Encode(bytes);
        expect(base32Decode(text)).toEqual(bytes);
        expect(base32Decode(text.toLowerCase().replace(/(.{4})/g, '$1 '))).toEqual(bytes);
      }),
    );
    expect(base32Decode('mzxw-6ytb oi==')).toEqual(ascii('foobar'));
    expect(() => base32Decode('MZXW1')).toThrow('not base32');
  });
});

describe('verifying a code', () => {
  const secret = SEED.sha1;
  const now = 1_700_000_000_000;
  const step = totpStep(now);

  test('accepts the current step and one step either side, and nothing further', () => {
    for (const d of [-1, 0, 1]) expect(matchTotp(secret, hotp(secret, step + d), now, null)).toBe(step + d);
    for (const d of [-3, -2, 2, 3]) expect(matchTotp(secret, hotp(secret, step + d), now, null)).toBeUndefined();
  });

  test('refuses a step at or before the last accepted one (no replay)', () => {
    const code = hotp(secret, step);
    expect(matchTotp(secret, code, now, step - 1)).toBe(step);
    expect(matchTotp(secret, code, now, step)).toBeUndefined();
    expect(matchTotp(secret, code, now, step + 1)).toBeUndefined();
    // The next step is still usable after the current one was.
    expect(matchTotp(secret, hotp(secret, step + 1), now, step)).toBe(step + 1);
  });

  test('with the time sign-in began, also accepts one step either side of that, still only after the last accepted step', () => {
    const started = now - 5 * 60_000;
    const then = totpStep(started);
    for (const d of [-1, 0, 1]) expect(matchTotp(secret, hotp(secret, then + d), now, null, started)).toBe(then + d);
    for (const d of [-1, 0, 1]) expect(matchTotp(secret, hotp(secret, step + d), now, null, started)).toBe(step + d);
    for (const d of [-3, -2, 2, 3]) expect(matchTotp(secret, hotp(secret, then + d), now, null, started)).toBeUndefined();
    expect(matchTotp(secret, hotp(secret, then), now, null)).toBeUndefined(); // without it, too old
    expect(matchTotp(secret, hotp(secret, then), now, then - 1, started)).toBe(then);
    // A code of that older step after a newer one was used, or a replay: refused.
    expect(matchTotp(secret, hotp(secret, then), now, then, started)).toBeUndefined();
    expect(matchTotp(secret, hotp(secret, then + 1), now, then + 5, started)).toBeUndefined();
  });

  test('refuses malformed codes and another secret', () => {
    for (const bad of ['', '12345', '1234567', '12345a', ' 123456', '１２３４５６'])
      expect(matchTotp(secret, bad, now, null)).toBeUndefined();
    const other = newTotpSecret();
    expect(other).toHaveLength(TOTP_SECRET_BYTES);
    expect(matchTotp(other, hotp(secret, step), now, null)).toBe(hotp(other, step) === hotp(secret, step) ? step : undefined);
  });

  test('a code always has 6 digits (leading zeros kept)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 0, max: 2 ** 40 }), (key, counter) => {
        expect(hotp(key, counter)).toMatch(/^\d{6}$/);
      }),
    );
  });
});

test('the otpauth:// URI names the issuer and the username, with the base32 secret', () => {
  const secret = ascii('12345678901234567890');
  const uri = otpauthUri(secret, 'mod.one');
  expect(uri).toBe('otpauth://totp/Awaaz:mod.one?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Awaaz&algorithm=SHA1&digits=6&period=30');
  const parsed = new URL(uri);
  expect(base32Decode(parsed.searchParams.get('secret')!)).toEqual(secret);
  expect(groupedBase32(secret)).toBe('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
});
