/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), the staff second factor:
 * HMAC-SHA1, 6 digits, 30-second steps, codes of the previous and the next step accepted
 * for clock drift. The HMAC is node:crypto's; only the RFC's truncation and the base32 of
 * otpauth:// URIs are written here, and test/unit/totp.test.ts checks them against the
 * RFC 6238 and RFC 4226 test vectors.
 *
 * Replay: the caller stores the last accepted step per member and passes it in; a code of
 * that step or an earlier one is refused (RFC 6238 §5.2), whether it matched by the time of
 * now or by the time sign-in began.
 */
import crypto from 'node:crypto';

export const TOTP_ISSUER = 'Awaaz';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** steps accepted either side of the current one */
export const TOTP_WINDOW = 1;
/** RFC 4226 recommends 160 bits for HMAC-SHA1 */
export const TOTP_SECRET_BYTES = 20;

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (what authenticator apps read from otpauth:// URIs). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Reads base32 as people type it: any case, spaces and dashes ignored, padding allowed. */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error('not base32');
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

/** RFC 4226 HOTP: dynamic truncation of HMAC(secret, 8-byte big-endian counter). */
export function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS, algorithm: TotpAlgorithm = 'sha1'): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('counter must be a non-negative safe integer');
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step (counter) of a moment in milliseconds. */
export function totpStep(nowMs: number, periodSeconds = TOTP_PERIOD_SECONDS): number {
  return Math.floor(nowMs / 1000 / periodSeconds);
}

/** The code for a moment (the RFC's TOTP(K, T)). */
export function totp(
  secret: Uint8Array,
  nowMs: number,
  opts: { digits?: number; algorithm?: TotpAlgorithm; periodSeconds?: number } = {},
): string {
  return hotp(secret, totpStep(nowMs, opts.periodSeconds), opts.digits, opts.algorithm);
}

/**
 * The step a code matches, within TOTP_WINDOW steps of now (or of `startedMs`, when the sign-in
 * began, proved by a ticket) and after lastStep; undefined if none. Every candidate step is
 * compared (in constant time) so the answer takes the same time whichever step matched.
 */
export function matchTotp(
  secret: Uint8Array,
  code: string,
  nowMs: number,
  lastStep: number | null,
  startedMs?: number,
): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const given = Buffer.from(code);
  const steps = new Set<number>();
  for (const at of startedMs === undefined ? [nowMs] : [startedMs, nowMs]) {
    for (let d = -TOTP_WINDOW; d <= TOTP_WINDOW; d++) steps.add(totpStep(at) + d);
  }
  let matched: number | undefined;
  for (const step of [...steps].sort((a, b) => a - b)) {
    const equal = crypto.timingSafeEqual(given, Buffer.from(hotp(secret, step)));
    if (equal && matched === undefined && (lastStep === null || step > lastStep)) matched = step;
  }
  return matched;
}

export function newTotpSecret(): Uint8Array {
  return new Uint8Array(crypto.randomBytes(TOTP_SECRET_BYTES));
}

/** The Key URI Format authenticator apps scan: otpauth://totp/Awaaz:username?secret=…&issuer=Awaaz */
export function otpauthUri(secret: Uint8Array, username: string, issuer = TOTP_ISSUER): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(username)}`;
  const params = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}

/** The secret in groups of four, as shown for typing it in by hand. */
export function groupedBase32(secret: Uint8Array): string {
  return base32Encode(secret).replace(/(.{4})(?=.)/g, '$1 ');
}
