/**
 * Putting one request in the middle of another, deterministically: the repository call that
 * sits in the gap runs the other request first (through the real API), and on PostgreSQL a test
 * can wait until that request is blocked on a lock the first one holds (on SQLite, until it
 * waits for the one connection the first one holds).
 */
import type { Db } from '../../server/db/database';

/** Runs `meanwhile` once the first call of repo.`name` has answered, then lets that call return its answer. */
export function interleave<R extends object>(repo: R, name: keyof R & string, meanwhile: () => Promise<unknown>) {
  const original = (repo[name] as (...args: unknown[]) => Promise<unknown>).bind(repo);
  let done = false;
  return jest.spyOn(repo, name as never).mockImplementation((async (...args: unknown[]) => {
    const result = await original(...args);
    if (!done) {
      done = true;
      await meanwhile();
    }
    return result;
  }) as never);
}

/** PostgreSQL: returns once another session of this database waits for a lock (at most 20 s). */
export async function someoneWaitsOnALock(db: Db): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await db.raw(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SQLite: returns once a query waits for the one connection (which the caller's transaction holds; at most 20 s). */
export async function someoneWaitsForTheConnection(db: Db): Promise<void> {
  const pool = db.client.pool as { numPendingAcquires(): number };
  for (let i = 0; i < 400 && pool.numPendingAcquires() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
}
