/**
 * Byte encodings shared by the browser and the server.
 * Bytes travel as base64url without padding (DESIGN.md); decoding is strict so that
 * two different strings never decode to the same bytes.
 */
import nacl from 'tweetnacl';

/** tweetnacl itself, for code built against the survivor layers, which may not bundle a second copy (scripts/build.mjs): the matching escrow. */
export { nacl };

export class ProtocolError extends Error {
  constructor(
    /** Stable machine-readable reason, e.g. "bad_signature". */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** char code -> 6-bit value, or -1 for a character outside base64url */
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
export const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

export function toBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return out;
}

function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i);
  const v = code < 128 ? DECODE[code] : -1;
  if (v < 0) throw new ProtocolError('bad_base64', 'not base64url (A-Z a-z 0-9 - _ without padding)');
  return v;
}

/**
 * Whether `text` is the one spelling of its bytes that fromBase64url accepts: only the
 * base64url alphabet, a possible length, and zero spare bits in the last character (a
 * non-zero spare bit would be a second spelling of the same bytes). Schemas check it
 * without decoding.
 */
export function isCanonicalBase64url(text: string): boolean {
  const tail = text.length % 4;
  if (tail === 1 || !BASE64URL_PATTERN.test(text)) return false;
  if (tail === 0) return true;
  const last = DECODE[text.charCodeAt(text.length - 1)];
  return (last & (tail === 2 ? 0x0f : 0x03)) === 0;
}

/** Strict decoder: rejects padding, foreign characters, impossible lengths and non-zero trailing bits. */
export function fromBase64url(text: string): Uint8Array {
  const tail = text.length % 4;
  if (tail === 1) throw new ProtocolError('bad_base64', 'base64url length is impossible');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  const whole = text.length - tail;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const n = (sextet(text, i) << 18) | (sextet(text, i + 1) << 12) | (sextet(text, i + 2) << 6) | sextet(text, i + 3);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (tail === 2) {
    const a = sextet(text, whole);
    const b = sextet(text, whole + 1);
    if (b & 0x0f) throw new ProtocolError('bad_base64', 'base64url has non-zero trailing bits');
    out[o] = (a << 2) | (b >> 4);
  } else if (tail === 3) {
    const a = sextet(text, whole);
    const b = sextet(text, whole + 1);
    const c = sextet(text, whole + 2);
    if (c & 0x03) throw new ProtocolError('bad_base64', 'base64url has non-zero trailing bits');
    out[o++] = (a << 2) | (b >> 4);
    out[o] = ((b & 0x0f) << 4) | (c >> 2);
  }
  return out;
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  // fatal: a malformed plaintext must fail loudly, not turn into U+FFFD.
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && nacl.verify(a, b);
}

export function sha512(bytes: Uint8Array): Uint8Array {
  return nacl.hash(bytes);
}

/**
 * Canonical JSON: object keys sorted, no whitespace. Signatures are computed over it so the
 * signer and the verifier agree on the bytes whatever order a JSON parser kept.
 * Only strings, safe integers, booleans, null, arrays and plain objects are allowed.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new ProtocolError('bad_canonical', 'only safe integers can be signed');
    return String(value);
  }
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + canonicalJson(v)).join(',') + '}';
  }
  throw new ProtocolError('bad_canonical', `cannot sign a value of type ${typeof value}`);
}

export function randomId(bytes = 16): string {
  return toBase64url(nacl.randomBytes(bytes));
}

/** The UTC day (YYYY-MM-DD): the only time the server keeps about a survivor's action. */
export function utcDay(date: Date = new Date()): string {
  return date.toISOString().slice(0, 10);
}
