/**
 * Where express-rate-limit's counters live, behind one interface (`RateLimitCounters`):
 *
 * - **PostgreSQL: in the database** (`DatabaseRateLimitCounters`), so that several app
 *   instances behind one database share them and a limit holds across all of them.
 * - **SQLite: in the process** (`MemoryRateLimitCounters`). On SQLite an instance is one
 *   process with one connection (test/integration/two-instances.test.ts), so its own memory
 *   counts exactly. Kept there, no address hash is ever written to the database file, and a
 *   request no longer waits for a database write of its own before its route runs (issue 14:
 *   the counters' upserts took turns with the testimonies' transactions on the one
 *   connection). A restart forgets the current minute's counts.
 *
 * Keys are already salted hashes of the address (server/http/rate-limit.ts). Windows are
 * aligned to the clock, so a counter says nothing about when the first request came.
 */
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { Clock } from '../clock';
import { accepted, Batcher, refused, type Outcome } from './batcher';
import { isPostgres, rowsOf, type Db } from './database';

/** One counter as the store holds it. */
export interface CounterRow {
  key: string;
  hits: number;
  /** when its window ends (ms since the epoch, on a multiple of the window) */
  resetAt: number;
}

export interface RateLimitCounters {
  increment(key: string, windowMs: number): Promise<ClientRateLimitInfo>;
  decrement(key: string): Promise<void>;
  reset(key: string): Promise<void>;
  /**
   * Forgets every counter whose window is over, and answers how many. The sweeper
   * (server/sweeper.ts) runs it each minute inside its erasure `trx`, so that no expired key is
   * left in the database files.
   */
  purgeExpired(trx: Db, now: number): Promise<number>;
  /** Every counter held now (what an operator or a test may inspect). */
  rows(): Promise<CounterRow[]>;
}

/** The end of the clock-aligned window that `now` falls in. */
const windowEnd = (now: number, windowMs: number) => Math.ceil((now + 1) / windowMs) * windowMs;

/** The counters this engine keeps: shared in the database on PostgreSQL, in this process on SQLite. */
export function rateLimitCounters(db: Db, clock: Clock): RateLimitCounters {
  return isPostgres(db) ? new DatabaseRateLimitCounters(db, clock) : new MemoryRateLimitCounters(clock);
}

/** Counters in this process's memory: exact for the one process that serves a SQLite file. */
export class MemoryRateLimitCounters implements RateLimitCounters {
  private readonly counters = new Map<string, { hits: number; resetAt: number }>();

  constructor(private readonly clock: Clock) {}

  increment(key: string, windowMs: number): Promise<ClientRateLimitInfo> {
    const now = this.clock.now();
    let counter = this.counters.get(key);
    if (!counter || counter.resetAt <= now) {
      counter = { hits: 0, resetAt: windowEnd(now, windowMs) };
      this.counters.set(key, counter);
    }
    counter.hits++;
    return Promise.resolve({ totalHits: counter.hits, resetTime: new Date(counter.resetAt) });
  }

  decrement(key: string): Promise<void> {
    const counter = this.counters.get(key);
    if (counter && counter.hits > 0) counter.hits--;
    return Promise.resolve();
  }

  reset(key: string): Promise<void> {
    this.counters.delete(key);
    return Promise.resolve();
  }

  async purgeExpired(trx: Db, now: number): Promise<number> {
    let purged = 0;
    for (const [key, { resetAt }] of this.counters)
      if (resetAt <= now) {
        this.counters.delete(key);
        purged++;
      }
    // Counters that a version before this one wrote to the file (their last minute before the
    // upgrade) are erased like any expired counter, at the first sweep after start.
    return purged + Number(await trx('rate_limits').where('reset_at', '<=', now).delete());
  }

  rows(): Promise<CounterRow[]> {
    return Promise.resolve([...this.counters].map(([key, c]) => ({ key, hits: c.hits, resetAt: c.resetAt })));
  }
}

/**
 * Counters in the database, for PostgreSQL. The counters of every limiter of one app are
 * written together: each increment joins the next batch (server/db/batcher.ts), and a batch is
 * one statement whatever its size, so a busy server does not pay a database round trip per
 * limiter per request.
 */
export class DatabaseRateLimitCounters implements RateLimitCounters {
  private readonly batcher = new Batcher<{ key: string; windowMs: number }, ClientRateLimitInfo>((items) => this.incrementAll(items), 256);

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  increment(key: string, windowMs: number): Promise<ClientRateLimitInfo> {
    return this.batcher.run({ key, windowMs });
  }

  async decrement(key: string): Promise<void> {
    await this.db('rate_limits').where({ key }).where('hits', '>', 0).decrement('hits', 1);
  }

  async reset(key: string): Promise<void> {
    await this.db('rate_limits').where({ key }).delete();
  }

  async purgeExpired(trx: Db, now: number): Promise<number> {
    return Number(await trx('rate_limits').where('reset_at', '<=', now).delete());
  }

  async rows(): Promise<CounterRow[]> {
    const rows: { key: string; hits: number | string; reset_at: number | string }[] = await this.db('rate_limits').select();
    return rows.map((r) => ({ key: r.key, hits: Number(r.hits), resetAt: Number(r.reset_at) }));
  }

  /**
   * One statement for the batch (no read-then-write race between instances): each key's
   * counter is inserted, or bumped by its number of hits in the batch, or restarted when its
   * window is over. Each request then gets the count it would have had alone: the counter's
   * new value minus the hits queued after it. Keys are sorted, so that two instances' batches
   * lock rows in one order on PostgreSQL.
   */
  private async incrementAll(items: { key: string; windowMs: number }[]): Promise<Outcome<ClientRateLimitInfo>[]> {
    const now = this.clock.now();
    const hitsOf = new Map<string, { hits: number; resetAt: number }>();
    for (const { key, windowMs } of items) {
      const counter = hitsOf.get(key);
      if (counter) counter.hits++;
      else hitsOf.set(key, { hits: 1, resetAt: windowEnd(now, windowMs) });
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
export class CounterStore implements Store {
  private windowMs = 60_000;
  constructor(
    private readonly counters: RateLimitCounters,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.counters.increment(this.prefix + key, this.windowMs);
  }

  decrement(key: string): Promise<void> {
    return this.counters.decrement(this.prefix + key);
  }

  resetKey(key: string): Promise<void> {
    return this.counters.reset(this.prefix + key);
  }
}
