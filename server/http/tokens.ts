/**
 * Server-side secrets and tokens. Survivor sessions are stateless HMAC tokens kept in the
 * page's memory: no row records when a survivor was here. They and the sign-in tickets are
 * signed with the server key (`ctx.serverSecret`, from SERVER_KEY_FILE: server/config.ts
 * loadServerKey), never with anything the database holds, so a copy of the database cannot
 * make a token the server accepts.
 */
import crypto from 'node:crypto';
import { fromBase64url, toBase64url } from '../../protocol';
import { SIGN_IN_TICKET_BYTES } from '../../protocol/api';

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

export function issueSurvivorToken(secret: string, survivorId: string, lifetimeMs: number, now: number): string {
  const payload = toBase64url(Buffer.from(JSON.stringify({ sid: survivorId, exp: now + lifetimeMs })));
  return `${payload}.${toBase64url(hmac(secret, 'survivor-token', payload))}`;
}

/** Returns the survivor id, or undefined for a forged, malformed or expired token. */
export function readSurvivorToken(secret: string, token: string, now: number): string | undefined {
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
    const { sid, exp } = JSON.parse(Buffer.from(fromBase64url(payload)).toString('utf8')) as { sid?: unknown; exp?: unknown };
    return typeof sid === 'string' && typeof exp === 'number' && exp > now ? sid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * "Sign-in started" tickets: POST /api/staff/login/params hands one out, and /login judges the
 * TOTP code by the ticket's start time too, so a code does not expire during a slow key
 * derivation (a minute in a browser without WebAssembly). Stateless: 8 bytes of start time
 * (ms, big-endian) and an HMAC binding them to the username; nothing is stored.
 */
export const SIGN_IN_TICKET_LIFETIME_MS = 5 * 60_000;

function signInTicketMac(secret: string, username: string, startedBytes: Uint8Array): Uint8Array {
  return hmac(secret, 'sign-in-ticket', username, toBase64url(startedBytes));
}

export function issueSignInTicket(secret: string, username: string, now: number): string {
  const started = Buffer.alloc(8);
  started.writeBigUInt64BE(BigInt(now));
  return toBase64url(Buffer.concat([started, signInTicketMac(secret, username, started)]));
}

/** When sign-in began, or undefined for a ticket that is forged, another username's, expired or from the future. */
export function readSignInTicket(secret: string, ticket: string, username: string, now: number): number | undefined {
  let bytes: Buffer;
  try {
    bytes = Buffer.from(fromBase64url(ticket));
  } catch {
    return undefined;
  }
  if (bytes.length !== SIGN_IN_TICKET_BYTES) return undefined;
  const started = bytes.subarray(0, 8);
  if (!crypto.timingSafeEqual(bytes.subarray(8), signInTicketMac(secret, username, started))) return undefined;
  const startedMs = Number(started.readBigUInt64BE());
  return startedMs <= now && now - startedMs < SIGN_IN_TICKET_LIFETIME_MS ? startedMs : undefined;
}
