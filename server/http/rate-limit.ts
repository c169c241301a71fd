/**
 * Rate limits on every route, keyed by a salted hash of the client address. The salt is
 * derived from the server secret and the UTC day, so keys rotate daily and the address itself
 * is never stored or logged.
 */
import type { Request } from 'express';
import { rateLimit } from 'express-rate-limit';
import { toBase64url, utcDay } from '../../protocol';
import type { Db } from '../db/database';
import { DatabaseRateLimitStore } from '../db/rate-limit-store';
import { hmac } from './tokens';

export function addressHash(serverSecret: string, req: Request): string {
  const remote = req.ip ?? req.socket.remoteAddress ?? 'unknown'; // hashed below, never kept
  return toBase64url(hmac(serverSecret, 'address', utcDay(), remote)).slice(0, 32);
}

export function limiter(db: Db, serverSecret: string, name: string, perMinute: number) {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new DatabaseRateLimitStore(db, name + ':'),
    keyGenerator: (req) => addressHash(serverSecret, req),
    // The key is already a hash; express-rate-limit's IPv6 check would look at a raw address.
    validate: { keyGeneratorIpFallback: false, trustProxy: false, xForwardedForHeader: false },
    handler: (_req, res) => {
      res.status(429).json({ error: { code: 'rate_limited', message: 'too many requests; wait a minute and try again' } });
    },
  });
}
