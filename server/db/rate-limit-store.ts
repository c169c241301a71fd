/**
 * express-rate-limit counters in the database, so several app instances behind one
 * PostgreSQL share them. Keys are already salted hashes of the address (server/http/rate-limit).
 */
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { Db } from './database';

export class DatabaseRateLimitStore implements Store {
  private windowMs = 60_000;
  constructor(
    private readonly db: Db,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const k = this.prefix + key;
    const now = Date.now();
    return this.db.transaction(async (trx) => {
      const row = await trx('rate_limits').where({ key: k }).first();
      if (!row || Number(row.reset_at) <= now) {
        // Windows are aligned to the clock, so the stored time says nothing about when the
        // first request came.
        const resetAt = Math.ceil((now + 1) / this.windowMs) * this.windowMs;
        await trx('rate_limits').insert({ key: k, hits: 1, reset_at: resetAt }).onConflict('key').merge();
        return { totalHits: 1, resetTime: new Date(resetAt) };
      }
      await trx('rate_limits').where({ key: k }).increment('hits', 1);
      return { totalHits: Number(row.hits) + 1, resetTime: new Date(Number(row.reset_at)) };
    });
  }

  async decrement(key: string): Promise<void> {
    await this.db('rate_limits').where({ key: this.prefix + key }).where('hits', '>', 0).decrement('hits', 1);
  }

  async resetKey(key: string): Promise<void> {
    await this.db('rate_limits').where({ key: this.prefix + key }).delete();
  }

  async purgeExpired(): Promise<void> {
    await this.db('rate_limits').where('reset_at', '<=', Date.now()).delete();
  }
}
