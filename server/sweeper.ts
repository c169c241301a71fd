/**
 * The sweeper erases what has expired: rate-limit counters whose minute is over (in the
 * database on PostgreSQL; on SQLite they are in memory and never reach the file), challenges
 * past their expiry, uploads that no message carried within two UTC days, the matching
 * escrow's evaluation counts of earlier UTC days, and staff sessions that have ended (with
 * their reload keys; server/http/auth.ts `sessionEnded`). It runs at
 * start and then a second after every clock minute, when the counters of the minute just
 * ended expire (their windows are aligned to the clock: server/db/rate-limit-store.ts), so
 * the database files never hold a counter more than a few seconds older than its minute.
 * At start and once an hour it also erases closed cases and survivor accounts past their
 * retention period (server/services/retention.ts).
 */
import { utcDay } from '../protocol';
import type { AppContext } from './app';
import { eraseExpired, type RetentionSwept } from './services/retention';

export interface Swept {
  counters: number;
  challenges: number;
  uploads: number;
  matchingCounts: number;
  /** staff sessions past their end or the timeouts in force */
  sessions: number;
  /** closed cases and idle survivor accounts past their retention period (only when the sweep included retention) */
  retention?: RetentionSwept;
}

/**
 * One sweep, as one erasure (ctx.erase: no copy of what it deletes is left in the files). With
 * `retention`, it also erases closed cases and accounts past their period (server/services/retention.ts).
 */
export async function sweepExpired(
  ctx: AppContext,
  now = ctx.clock.now(),
  opts: { retention?: boolean } = { retention: true },
): Promise<Swept> {
  // Read before the erasure's transaction: on SQLite that holds the one connection.
  const timeouts = await ctx.repos.settings.sessionTimeouts();
  return ctx.erase(async (trx) => ({
    counters: await ctx.rateLimits.purgeExpired(trx, now),
    challenges: await ctx.repos.challenges.purgeExpired(trx, now),
    uploads: await ctx.repos.attachments.deleteStale(trx, now),
    matchingCounts: await ctx.repos.matching.purgeEvaluationsBefore(trx, utcDay(new Date(now))),
    sessions: await ctx.repos.staff.deleteEndedSessions(trx, now, timeouts),
    ...(opts.retention ? { retention: await eraseExpired(ctx, trx, ctx.clock.today()) } : {}),
  }));
}

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
    try {
      const retention = ctx.clock.now() >= retentionDueAt;
      await sweepExpired(ctx, ctx.clock.now(), { retention });
      if (retention) retentionDueAt = ctx.clock.now() + RETENTION_EVERY_MS;
    } catch {
      ctx.log('sweeper: a sweep failed; the next one tries again');
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
