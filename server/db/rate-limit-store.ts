/**
 * express-rate-limit counters in the database, so several app instances behind one
 * PostgreSQL share them. Keys are already salted hashes of the address (server/http/rate-limit).
 */
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { Clock } from '../clock';
import { accepted, Batcher, refused, type Outcome } from './batcher';
import { rowsOf, type Db } from './database';

/**
 * The counters of every limiter of one app, written together: each increment joins the next
 * batch (server/db/batcher.ts), and a batch is one statement whatever its size, so a busy
 * server does not pay a database round trip per limiter per request.
 */
export class RateLimitCounters {
  private readonly batcher = new Batcher<{ key: string; windowMs: number }, ClientRateLimitInfo>((items) => this.incrementAll(items), 256);

  constructor(
    readonly db: Db,
    private readonly clock: Clock,
  ) {}

  increment(key: string, windowMs: number): Promise<ClientRateLimitInfo> {
    return this.batcher.run({ key, windowMs });
  }

  /**
   * One statement for the batch (no read-then-write race between instances): each key's
   * counter is inserted, or bumped by its number of hits in the batch, or restarted when its
   * window is over. Each request then gets the count it would have had alone: the counter's
   * new value minus the hits queued after it. Keys are sorted, so that two instances' batches
   * lock rows in one order on PostgreSQL. Windows are aligned to the clock, so the stored time
   * says nothing about when the first request came.
   */
  private async incrementAll(items: { key: string; windowMs: number }[]): Promise<Outcome<ClientRateLimitInfo>[]> {
    const now = this.clock.now();
    const hitsOf = new Map<string, { hits: number; resetAt: number }>();
    for (const { key, windowMs } of items) {
      const counter = hitsOf.get(key);
      if (counter) counter.hits++;
      else hitsOf.set(key, { hits: 1, resetAt: Math.ceil((now + 1) / windowMs) * windowMs });
    }
    const keys = [...hitsOf.keys()].sort();
    const rows = rowsOf<{ key: string; hits: number | string; reset_at: number | string }>(
      await this.db.raw(
        `INSERT INTO rate_limits (key, hits, reset_at) VALUES ${keys.map(() => '(?, ?, ?)').join(', ')}
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN rate_limits.reset_at <= ? THEN excluded.hits ELSE rate_limits.hits + excluded.hits END,
           reset_at = CASE WHEN rate_limits.reset_at <= ? THEN excluded.reset_at ELSE rate_limits.reset_at END
         RETURNING key, hits, reset_at`,
        [...keys.flatMap((k) => [k, hitsOf.get(k)!.hits, hitsOf.get(k)!.resetAt]), now, now],
      ),
    );
    const stored = new Map(rows.map((r) => [r.key, { hits: Number(r.hits), resetAt: Number(r.reset_at) }]));
    const queuedAfter = new Map([...hitsOf].map(([k, c]) => [k, c.hits]));
    return items.map(({ key }) => {
      const counter = stored.get(key);
      if (!counter) return refused(new Error('a rate-limit counter was not returned by its upsert'));
      const after = queuedAfter.get(key)! - 1;
      queuedAfter.set(key, after);
      return accepted({ totalHits: counter.hits - after, resetTime: new Date(counter.resetAt) });
    });
  }
}

/** One limiter's view of the counters: its keys carry its name. */
export class DatabaseRateLimitStore implements Store {
  private windowMs = 60_000;
  private readonly db: Db;
  constructor(
    private readonly counters: RateLimitCounters,
    readonly prefix: string,
  ) {
    this.db = counters.db;
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.counters.increment(this.prefix + key, this.windowMs);
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
