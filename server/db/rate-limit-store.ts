/**
 * express-rate-limit counters in the database, so several app instances behind one
 * PostgreSQL share them. Keys are already salted hashes of the address (server/http/rate-limit).
 */
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { Clock } from '../clock';
import { rowsOf, type Db } from './database';

export class DatabaseRateLimitStore implements Store {
  private windowMs = 60_000;
  constructor(
    private readonly db: Db,
    readonly prefix: string,
    private readonly clock: Clock,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  /**
   * One statement per hit (no read-then-write race between instances): insert the counter,
   * or bump it, or restart it when its window is over. Windows are aligned to the clock, so
   * the stored time says nothing about when the first request came.
   */
  async increment(key: string): Promise<ClientRateLimitInfo> {
    const now = this.clock.now();
    const resetAt = Math.ceil((now + 1) / this.windowMs) * this.windowMs;
    const [row] = rowsOf<{ hits: number | string; reset_at: number | string }>(
      await this.db.raw(
        `INSERT INTO rate_limits (key, hits, reset_at) VALUES (?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN rate_limits.reset_at <= ? THEN 1 ELSE rate_limits.hits + 1 END,
           reset_at = CASE WHEN rate_limits.reset_at <= ? THEN excluded.reset_at ELSE rate_limits.reset_at END
         RETURNING hits, reset_at`,
        [this.prefix + key, resetAt, now, now],
      ),
    );
    return { totalHits: Number(row.hits), resetTime: new Date(Number(row.reset_at)) };
  }

  async decrement(key: string): Promise<void> {
    await this.db('rate_limits')
      .where({ key: this.prefix + key })
      .where('hits', '>', 0)
      .decrement('hits', 1);
  }

  async resetKey(key: string): Promise<void> {
    await this.db('rate_limits')
      .where({ key: this.prefix + key })
      .delete();
  }
}

/**
 * Deletes every counter whose window is over (the sweeper, server/sweeper.ts, runs it in an
 * erasure each minute, so that no expired key is left in the files). Returns how many.
 */
export async function purgeExpiredCounters(trx: Db, now: number): Promise<number> {
  return Number(await trx('rate_limits').where('reset_at', '<=', now).delete());
}
