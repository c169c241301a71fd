/**
 * The two homes of the rate-limit counters (server/db/rate-limit-store.ts) count alike: the
 * same hits give the same totals and windows, whether the counters are rows (PostgreSQL's
 * choice, run here on this engine's database) or in the process (SQLite's choice). The app
 * picks one by engine; test/integration/rate-limit.test.ts drives the limiters over HTTP.
 */
import { clockFrom } from '../../server/clock';
import { DatabaseRateLimitCounters, MemoryRateLimitCounters, type RateLimitCounters } from '../../server/db/rate-limit-store';
import { makeTestServer, type TestServer } from '../support/harness';

const MINUTE = 60_000;
/** Twenty seconds into a clock minute, so a window ends 40 s later. */
const START = Math.floor(Date.now() / MINUTE) * MINUTE + 20_000;

let t: TestServer;
beforeAll(async () => {
  t = await makeTestServer();
});
afterAll(() => t.close());

const homes: [string, (now: () => number) => RateLimitCounters][] = [
  ['in the database', (now) => new DatabaseRateLimitCounters(t.db, clockFrom(now))],
  ['in memory', (now) => new MemoryRateLimitCounters(clockFrom(now))],
];

describe.each(homes)('counters %s', (home, make) => {
  let now = START;
  let counters: RateLimitCounters;
  const key = (name: string) => `${home.replace(' ', '-')}:${name}`;
  beforeAll(async () => {
    await t.db('rate_limits').delete();
    counters = make(() => now);
  });

  test('hits add up within a window that ends on the next clock minute', async () => {
    const hits = [await counters.increment(key('a'), MINUTE), await counters.increment(key('a'), MINUTE)];
    const other = await counters.increment(key('b'), MINUTE);
    expect(hits.map((h) => h.totalHits)).toEqual([1, 2]);
    expect(other.totalHits).toBe(1);
    expect(hits[0].resetTime?.getTime()).toBe(START - 20_000 + MINUTE);
  });

  test('a decrement takes one hit back and never goes below zero; a reset forgets the key', async () => {
    await counters.decrement(key('b'));
    await counters.decrement(key('b'));
    expect((await counters.rows()).find((r) => r.key === key('b'))?.hits).toBe(0);
    await counters.reset(key('b'));
    expect((await counters.rows()).map((r) => r.key)).toEqual([key('a')]);
  });

  test('once the minute is over a counter starts again, and the sweep purges only expired ones', async () => {
    now = START + 40_000; // the window's end
    await counters.increment(key('c'), MINUTE);
    expect(await counters.purgeExpired(t.db, now)).toBe(1); // key a, whose window is over
    expect(await counters.rows()).toEqual([{ key: key('c'), hits: 1, resetAt: START - 20_000 + 2 * MINUTE }]);
    const again = await counters.increment(key('a'), MINUTE);
    expect(again.totalHits).toBe(1);
  });
});

test("rows left in the table by a version that kept counters there are erased by the memory home's sweep too", async () => {
  await t.db('rate_limits').delete();
  await t.db('rate_limits').insert([
    { key: 'all:left-over-ended', hits: 3, reset_at: START - 20_000 },
    { key: 'all:left-over-current', hits: 1, reset_at: START - 20_000 + MINUTE },
  ]);
  const memory = new MemoryRateLimitCounters(clockFrom(() => START));
  expect(await memory.purgeExpired(t.db, START)).toBe(1);
  expect(await memory.purgeExpired(t.db, START - 20_000 + MINUTE)).toBe(1);
  expect(await t.db('rate_limits').count({ n: '*' })).toEqual([{ n: 0 }]);
});

test('only the database home writes rows', async () => {
  await t.db('rate_limits').delete();
  const memory = new MemoryRateLimitCounters(clockFrom(() => START));
  await memory.increment('memory:x', MINUTE);
  expect(await t.db('rate_limits').count({ n: '*' })).toEqual([{ n: 0 }]);
  const database = new DatabaseRateLimitCounters(
    t.db,
    clockFrom(() => START),
  );
  await database.increment('database:x', MINUTE);
  expect((await t.db('rate_limits').select('key')).map((r: { key: string }) => r.key)).toEqual(['database:x']);
});
