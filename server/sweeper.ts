/**
 * The sweeper erases what has expired: rate-limit counters whose minute is over (in the
 * database on PostgreSQL; on SQLite they are in memory and never reach the file), challenges
 * past their expiry, staff sessions that have ended (with their reload keys;
 * server/http/auth.ts `sessionEnded`), staff invites that expired unused, the matching
 * escrow's evaluation counts of earlier UTC days, and uploads that no message carried within
 * two UTC days. It runs at start and then a second after every clock minute, when the
 * counters of the minute just ended expire (their windows are aligned to the clock:
 * server/db/rate-limit-store.ts), so the database files never hold a counter more than a few
 * seconds older than its minute. At start and once an hour it also erases closed cases and
 * survivor accounts past their retention period (server/services/retention.ts), in batches.
 *
 * Each part runs in its own transaction, so one that fails (a lock, a deadlock, a bad row)
 * leaves the others to run: the log names the part and the error's code, never a value.
 */
import { utcDay } from '../protocol';
import type { AppContext } from './app';
import type { Erased } from './db/batch';
import { errorCodes } from './error-codes';
import { lockForTransaction, tryLockForTransaction, type Db } from './db/database';
import { eraseExpiredBatch, RETENTION_BATCH, type RetentionBatch, type RetentionSwept } from './services/retention';

export type SweepPart = 'counters' | 'challenges' | 'sessions' | 'invites' | 'matchingCounts' | 'flush' | 'uploads' | 'retention';

export interface Swept {
  counters: number;
  challenges: number;
  /** staff sessions past their end or the timeouts in force */
  sessions: number;
  /** staff invites that expired unused */
  invites: number;
  matchingCounts: number;
  uploads: number;
  /** closed cases and idle survivor accounts past their retention period (only when the sweep included retention) */
  retention?: RetentionSwept;
  /** the parts that failed this time (each logged); the next sweep tries them again */
  failed: SweepPart[];
}

/**
 * PostgreSQL advisory lock keys. The small purges of two instances sweeping at the same
 * second wait for each other rather than deadlock on the same rows; the heavy part (uploads,
 * retention) is done by one instance per run, the others skip it.
 */
const PG_PURGE_LOCK = 0x73776570; // "swep"
const PG_HEAVY_LOCK = 0x68657679; // "hevy"

/** Lets requests waiting for the database (on SQLite, for its one connection) through before the next batch. */
const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One sweep. The privacy-critical purges come first, each in its own short transaction, then
 * one flush (nothing they deleted is left in the files; it also finishes an earlier erasure
 * whose flush another process kept from happening). Then stale uploads, and with `retention`
 * closed cases and accounts past their period, in batches, each an erasure of its own (ctx.erase).
 * Never throws: a part that fails is logged and listed in `failed`.
 */
export async function sweepExpired(
  ctx: AppContext,
  now = ctx.clock.now(),
  opts: { retention?: boolean; retentionBatch?: RetentionBatch; uploadBatch?: typeof UPLOAD_BATCH } = { retention: true },
): Promise<Swept> {
  const failed: SweepPart[] = [];
  const part = async <T>(name: SweepPart, work: () => Promise<T>, none: T): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      failed.push(name);
      ctx.log(`sweeper: erasing ${name} failed (${errorCodes(err)}); the next sweep tries again`);
      return none;
    }
  };
  const purge = (name: SweepPart, work: (trx: Db) => Promise<number>) =>
    part(
      name,
      () =>
        ctx.db.transaction(async (trx) => {
          await lockForTransaction(trx, PG_PURGE_LOCK);
          return work(trx);
        }),
      0,
    );
  const counters = await purge('counters', (trx) => ctx.rateLimits.purgeExpired(trx, now));
  const challenges = await purge('challenges', (trx) => ctx.repos.challenges.purgeExpired(trx, now));
  // Read before the transaction: on SQLite that holds the one connection.
  const timeouts = await part('sessions', () => ctx.repos.settings.sessionTimeouts(), undefined);
  const sessions = timeouts ? await purge('sessions', (trx) => ctx.repos.staff.deleteEndedSessions(trx, now, timeouts)) : 0;
  const invites = await purge('invites', (trx) => ctx.repos.staff.deleteExpiredInvites(trx, now));
  const matchingCounts = await purge('matchingCounts', (trx) => ctx.repos.matching.purgeEvaluationsBefore(trx, utcDay(new Date(now))));
  await part('flush', () => ctx.flushErased(), undefined);

  /**
   * An erasure in batches, each a transaction of its own (`add` counts what each one erased),
   * with waiting requests let through between them. Only one instance runs it at a time:
   * another one skips it this run.
   */
  const inBatches = async <B extends Erased>(work: (trx: Db) => Promise<B>, add: (batch: B) => void) => {
    for (;;) {
      const batch = await ctx.erase(
        async (trx) => ((await tryLockForTransaction(trx, PG_HEAVY_LOCK)) ? work(trx) : undefined),
        (b) => b !== undefined && b.erased > 0,
      );
      if (!batch) return; // another instance is running it
      add(batch);
      if (!batch.more || batch.erased === 0) return;
      await yieldToRequests();
    }
  };
  let uploads = 0;
  await part(
    'uploads',
    () =>
      inBatches(
        (trx) => ctx.repos.attachments.deleteStale(trx, now, opts.uploadBatch ?? UPLOAD_BATCH),
        (b) => (uploads += b.erased),
      ),
    undefined,
  );
  const swept: Swept = { counters, challenges, sessions, invites, matchingCounts, uploads, failed };
  if (!opts.retention) return swept;
  const retention: RetentionSwept = { cases: 0, accounts: 0 };
  const today = ctx.clock.today();
  await part(
    'retention',
    () =>
      inBatches(
        async (trx) => {
          const b = await eraseExpiredBatch(ctx, trx, today, opts.retentionBatch ?? RETENTION_BATCH);
          return { ...b, erased: b.cases + b.accounts };
        },
        (b) => {
          retention.cases += b.cases;
          retention.accounts += b.accounts;
        },
      ),
    undefined,
  );
  return { ...swept, retention };
}

/** How many stale uploads one transaction erases at most: 64, and beyond the first, 32 MiB of them. */
export const UPLOAD_BATCH = { uploads: 64, bytes: 32 * 1024 * 1024 };

/** Retention works in days: the sweeper looks for expired cases at start and then once an hour, not every minute. */
const RETENTION_EVERY_MS = 3_600_000;

/** How long after each clock minute the sweep runs: the counters of that minute expire exactly at it. */
const AFTER_MINUTE_MS = 1_000;

/** Sweeps now, then a second after every clock minute; returns the function that stops it. */
export function startSweeper(ctx: AppContext): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let retentionDueAt = 0;
  const run = async () => {
    const retention = ctx.clock.now() >= retentionDueAt;
    // Due again in an hour even if it fails: a lasting failure is not retried every minute.
    if (retention) retentionDueAt = ctx.clock.now() + RETENTION_EVERY_MS;
    try {
      await sweepExpired(ctx, ctx.clock.now(), { retention });
    } catch (err) {
      ctx.log(`sweeper: a sweep failed (${errorCodes(err)}); the next one tries again`);
    }
    if (stopped) return;
    const now = ctx.clock.now();
    // run() catches and logs a failed sweep itself, so nothing waits for it.
    timer = setTimeout(() => void run(), Math.ceil((now + 1) / 60_000) * 60_000 + AFTER_MINUTE_MS - now);
    timer.unref();
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
