/**
 * Server-side secrets and tokens. Survivor sessions are stateless HMAC tokens kept in the
 * page's memory: no row records when a survivor was here.
 */
import crypto from 'node:crypto';
import { fromBase64url, toBase64url } from '../../protocol';

export function randomToken(bytes = 32): string {
  return toBase64url(crypto.randomBytes(bytes));
}

/** SHA-256 of a high-entropy token: what the database keeps instead of the token. */
export function hashToken(token: string): string {
  return toBase64url(crypto.createHash('sha256').update(token).digest());
}

export function hmac(secret: string, ...parts: string[]): Uint8Array {
  const h = crypto.createHmac('sha256', fromBase64url(secret));
  for (const p of parts) h.update(p).update('\n');
  return h.digest();
}

export function issueSurvivorToken(secret: string, survivorId: string, lifetimeMs: number, now = Date.now()): string {
  const payload = toBase64url(Buffer.from(JSON.stringify({ sid: survivorId, exp: now + lifetimeMs })));
  return `${payload}.${toBase64url(hmac(secret, 'survivor-token', payload))}`;
}

/** Returns the survivor id, or undefined for a forged, malformed or expired token. */
export function readSurvivorToken(secret: string, token: string, now = Date.now()): string | undefined {
  const [payload, mac, extra] = token.split('.');
  if (!payload || !mac || extra !== undefined) return undefined;
  let given: Uint8Array;
  try {
    given = fromBase64url(mac);
  } catch {
    return undefined;
  }
  const expected = hmac(secret, 'survivor-token', payload);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return undefined;
  try {
    const { sid, exp } = JSON.parse(Buffer.from(fromBase64url(payload)).toString('utf8'));
    return typeof sid === 'string' && typeof exp === 'number' && exp > now ? sid : undefined;
  } catch {
    return undefined;
  }
}
