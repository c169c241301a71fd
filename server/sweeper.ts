/**
 * The sweeper erases what has expired: rate-limit counters whose minute is over, challenges
 * past their expiry, uploads that no message carried within two UTC days, and the matching
 * escrow's evaluation counts of earlier UTC days. It runs at
 * start and then a second after every clock minute, when the counters of the minute just
 * ended expire (their windows are aligned to the clock: server/db/rate-limit-store.ts), so
 * the database files never hold a counter more than a few seconds older than its minute.
 */
import { utcDay } from '../protocol';
import type { AppContext } from './app';
import { purgeExpiredCounters } from './db/rate-limit-store';

export interface Swept {
  counters: number;
  challenges: number;
  uploads: number;
  matchingCounts: number;
}

/** One sweep, as one erasure (ctx.erase: no copy of what it deletes is left in the files). */
export function sweepExpired(ctx: AppContext, now = ctx.clock.now()): Promise<Swept> {
  return ctx.erase(async (trx) => ({
    counters: await purgeExpiredCounters(trx, now),
    challenges: await ctx.repos.challenges.purgeExpired(trx, now),
    uploads: await ctx.repos.attachments.deleteStale(trx, now),
    matchingCounts: await ctx.repos.matching.purgeEvaluationsBefore(trx, utcDay(new Date(now))),
  }));
}

/** How long after each clock minute the sweep runs: the counters of that minute expire exactly at it. */
const AFTER_MINUTE_MS = 1_000;

/** Sweeps now, then a second after every clock minute; returns the function that stops it. */
export function startSweeper(ctx: AppContext): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async () => {
    try {
      await sweepExpired(ctx);
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
