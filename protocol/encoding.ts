/**
 * Byte encodings shared by the browser and the server.
 * Bytes travel as base64url without padding (DESIGN.md); decoding is strict so that
 * two different strings never decode to the same bytes.
 */
import nacl from 'tweetnacl';

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
const LOOKUP = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));
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

/** Strict decoder: rejects padding, foreign characters, impossible lengths and non-zero trailing bits. */
export function fromBase64url(text: string): Uint8Array {
  if (!BASE64URL_PATTERN.test(text)) throw new ProtocolError('bad_base64', 'not base64url (A-Z a-z 0-9 - _ without padding)');
  if (text.length % 4 === 1) throw new ProtocolError('bad_base64', 'base64url length is impossible');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const c of text) {
    acc = (acc << 6) | (LOOKUP.get(c) as number);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new ProtocolError('bad_base64', 'base64url has non-zero trailing bits');
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
