/**
 * Rate limits on every route, keyed by a salted hash of the client address (of an IPv6
 * address, its /56 prefix: `hashAddress`). The salt is
 * derived from the address key and the UTC day, so keys rotate daily and the address itself
 * is never stored or logged. The address key is kept in a file and never in the database
 * (server/config.ts `loadAddressKey`): with the database alone, nobody can try guessed
 * addresses against the counters, and the sweeper (server/sweeper.ts) erases each counter
 * within seconds of the end of its minute.
 *
 * Attachment records are the exception (server/routes/attachments.ts): a 100 MB testimony is
 * 1,600 record uploads, and behind Tor every visitor shares one address, so one survivor's
 * upload would use up everyone's budget. Record uploads and downloads therefore count against
 * a budget of their own per survivor or staff member (`identityHash`, rotated daily in the same
 * way), and not against the general one, once the request shows a credential (a valid
 * survivor token, or a staff session cookie that the route then checks: see
 * `isCredentialedRecordRequest` in server/routes/attachments.ts). A request without one counts
 * against its address as usual, and the route refuses it before any work; so does one whose
 * staff cookie names no moderator's live session, once the route has refused it
 * (`ctx.limits.refusedRecords`).
 */
import type { Request } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { toBase64url } from '../../protocol';
import type { Clock } from '../clock';
import { CounterStore, type RateLimitCounters } from '../db/rate-limit-store';
import { hmac } from './tokens';

/** The day's salt: derived from the address key, so it changes at each UTC midnight and is never stored. */
export function daySalt(addressKey: string, day: string): string {
  // Asked for on every request by every limiter: the last one is kept (it changes once a day).
  if (lastSalt?.addressKey !== addressKey || lastSalt.day !== day)
    lastSalt = { addressKey, day, salt: toBase64url(hmac(addressKey, 'rate-limit-salt', day)) };
  return lastSalt.salt;
}
let lastSalt: { addressKey: string; day: string; salt: string } | undefined;

/**
 * IPv6 clients count by their /56 prefix, as express-rate-limit does by default: a home or
 * server connection gets a /64 or more, so a client counted by its full address could escape
 * every limit by changing the low bits of its address.
 */
export const IPV6_LIMIT_PREFIX = 56;

/**
 * The counter key of an address on a day (what the store keeps, behind the limiter's name): a
 * keyed hash of the IPv4 address, or of the IPv6 address's /56 prefix (an IPv4-mapped IPv6
 * address counts as its IPv4 address).
 */
export function hashAddress(addressKey: string, address: string, day: string): string {
  return toBase64url(hmac(daySalt(addressKey, day), 'address', ipKeyGenerator(address, IPV6_LIMIT_PREFIX))).slice(0, 32);
}

/** The hashed counter key of a request's address (req.ip: behind TRUST_PROXY_HOPS, the one the proxy forwards). */
export function requestKey(addressKey: string, req: Request, day: string): string {
  return hashAddress(addressKey, req.ip ?? req.socket.remoteAddress ?? 'unknown', day); // hashed, never kept
}

/** A survivor's or staff member's own counter key: their id hashed like an address (same daily salt). */
export function identityHash(addressKey: string, who: 'survivor' | 'staff', id: string, day: string): string {
  return toBase64url(hmac(daySalt(addressKey, day), 'identity', who, id)).slice(0, 32);
}

export interface LimiterOptions {
  /** the counter key; the hashed address unless given */
  key?: (req: Request) => string;
  /** requests this limiter does not count */
  skip?: (req: Request) => boolean;
}

export function limiter(
  counters: RateLimitCounters,
  clock: Clock,
  addressKey: string,
  name: string,
  perMinute: number,
  opts: LimiterOptions = {},
) {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new CounterStore(counters, name + ':'),
    keyGenerator: opts.key ?? ((req) => requestKey(addressKey, req, clock.today())),
    ...(opts.skip ? { skip: opts.skip } : {}),
    // The key is already a hash (of the IPv6 prefix, see hashAddress); express-rate-limit's
    // IPv6 check would look for a raw address.
    validate: { keyGeneratorIpFallback: false, trustProxy: false, xForwardedForHeader: false },
    handler: (_req, res) => {
      res.status(429).json({ error: { code: 'rate_limited', message: 'too many requests; wait a minute and try again' } });
    },
  });
}

/** The records budget: keyed by the survivor or staff member that the route's authentication found. */
export function identityLimiter(counters: RateLimitCounters, clock: Clock, addressKey: string, name: string, perMinute: number) {
  return limiter(counters, clock, addressKey, name, perMinute, {
    key: (req) => {
      if (req.survivorId) return `s.${identityHash(addressKey, 'survivor', req.survivorId, clock.today())}`;
      if (req.staff) return `t.${identityHash(addressKey, 'staff', req.staff.id, clock.today())}`;
      // Mounted after authentication, so this does not happen; if it did, the address counts.
      return requestKey(addressKey, req, clock.today());
    },
  });
}
