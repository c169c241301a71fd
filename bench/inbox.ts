/**
 * bench/inbox: the moderator inbox at 10,000, 100,000 and 1,000,000 cases, on SQLite or on
 * PostgreSQL (BENCH_DATABASE_URL). Prints the server time (request in to response finished,
 * measured inside the server process) p50/p99 per inbox query, its first page and a deep one,
 * side by side with a cheap endpoint in the same run. Budget (issue 13): every inbox query's
 * p99 under 50 ms at 1,000,000 cases on PostgreSQL and at 100,000 on SQLite.
 *
 *   npm run bench:inbox            BENCH_SIZES=10000,100000,1000000 BENCH_SAMPLES=100
 *   BENCH_DATABASE_URL=postgres://role@127.0.0.1:5432/db npm run bench:inbox
 *
 * The cases are written straight into the database in large multi-row inserts, one
 * transaction per size step (the inbox reads only the case, survivor and staff rows, so no
 * envelopes are stored: sealing a million would dominate the run and the inbox never opens
 * them). One survivor has five cases; days spread over three years, so a day holds many cases
 * and ties are ordered by id. A deep page starts at a cursor near the end of its listing.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomId, STATUS_VALUES } from '../protocol';
import { schemas } from '../protocol/api';
import { createApp } from '../server/app';
import { loadConfig } from '../server/config';
import { isPostgres, migrate, openDatabase, type Db } from '../server/db/database';
import { inboxCursor } from '../server/services/staff-cases';
import { issueSetupLink } from '../server/setup-link';
import { benchDatabase } from './lib/bench-database';
import { intEnv } from './lib/env';
import { addStaff, setupAdmin, type Staff } from './lib/fixtures';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 100) {
    console.error(`BENCH_SIZES must be whole numbers of cases, at least 100, comma-separated (got "${s}")`);
    process.exit(2);
  }
  return n;
});
const SAMPLES = intEnv('BENCH_SAMPLES', 100, 1);
const BUDGET_MS = 50;
const CASES_PER_SURVIVOR = 5;
const DAYS = 3 * 365;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Adds cases `from` .. `to - 1` (and their survivors) in one transaction of multi-row inserts. */
async function seed(db: Db, from: number, to: number, moderators: string[]): Promise<void> {
  const start = Date.UTC(2024, 0, 1);
  // knex writes a multi-row insert on SQLite as one compound SELECT, which may hold 500 rows.
  const batch = isPostgres(db) ? 2000 : 400;
  await db.transaction(async (trx) => {
    for (let first = from; first < to; first += batch) {
      const last = Math.min(to, first + batch);
      const survivors: Record<string, unknown>[] = [];
      const cases: Record<string, unknown>[] = [];
      const reads: Record<string, unknown>[] = [];
      let survivorId = '';
      for (let n = first; n < last; n++) {
        if (n % CASES_PER_SURVIVOR === 0 || survivorId === '') {
          survivorId = randomId();
          survivors.push({ id: survivorId, handle: `B-${n}`, sign_pk: randomId(), box_pk: randomId(), created_day: '2024-01-01' });
        }
        const day = new Date(start + (n % DAYS) * 86_400_000).toISOString().slice(0, 10);
        cases.push({
          id: randomId(),
          survivor_id: survivorId,
          status: STATUS_VALUES[n % STATUS_VALUES.length],
          created_day: day,
          updated_day: day,
          assignee_id: n % 3 === 0 ? moderators[n % 2] : null,
          awaiting_staff: n % 5 === 0,
        });
        // The first moderator has read every case waiting for staff: the unread count's worst
        // case, which walks all of them to find none.
        if (n % 5 === 0) reads.push({ staff_id: moderators[0], case_id: cases[cases.length - 1].id, seq: 0 });
      }
      await trx('survivors').insert(survivors);
      await trx('cases').insert(cases);
      if (reads.length) await trx('case_reads').insert(reads);
    }
  });
  // PostgreSQL's autovacuum would analyze the grown table shortly; do it now so the plans are
  // the ones a running instance gets. SQLite's planner needs no statistics for these indexes.
  if (isPostgres(db)) await db.raw('ANALYZE cases, survivors, staff, case_reads');
}

interface Listing {
  label: string;
  query: string;
}

const LISTINGS: Listing[] = [
  { label: 'newest', query: '' },
  { label: 'oldest', query: 'sort=oldest' },
  { label: 'status=in_review', query: 'status=in_review' },
  { label: 'assignee=me', query: 'assignee=me' },
  { label: 'assignee=none, oldest', query: 'assignee=none&sort=oldest' },
  { label: 'from/to one month', query: 'from=2024-03-01&to=2024-03-31' },
  { label: 'status=new, assignee=none', query: 'status=new&assignee=none' },
];

/**
 * A cursor near the end of a listing: the position of the case `PAGE + 10` before its last,
 * found once (untimed) by asking the server's own listing for its last page in the other order.
 */
async function deepCursor(db: Db, listing: Listing, me: string): Promise<string | undefined> {
  const query = schemas.caseListQuery.parse(Object.fromEntries(new URLSearchParams(listing.query)));
  const q = db('cases').select('created_day', 'id');
  if (query.status) q.where('status', query.status);
  if (query.assignee === 'none') q.whereNull('assignee_id');
  else if (query.assignee) q.where('assignee_id', query.assignee === 'me' ? me : query.assignee);
  if (query.from) q.where('created_day', '>=', query.from);
  if (query.to) q.where('created_day', '<=', query.to);
  // the listing's own order reversed, so the row sits near its end
  const reversed = query.sort === 'oldest' ? 'desc' : 'asc';
  const row = (await q
    .orderBy([
      { column: 'created_day', order: reversed },
      { column: 'id', order: reversed },
    ])
    .offset(60)
    .first()) as { created_day: string; id: string } | undefined;
  return row ? inboxCursor(query, { day: row.created_day, id: row.id }) : undefined;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-bench-inbox-'));
  const database = await benchDatabase();
  const config = loadConfig({
    DATA_DIR: dir,
    POW_BITS: '0',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    RATE_LIMIT_SENSITIVE_PER_MINUTE: '1000000000',
    ...database.env,
  });
  const db = openDatabase(config.database);
  await migrate(db);
  const { app, ctx } = await createApp({ db, config, clientDir: path.join(dir, 'no-pages'), log: () => undefined });

  // Server time: from the request arriving to the response being handed to the socket.
  const serverTimes = new Map<string, number[]>();
  let currentLabel = '';
  const server = http.createServer((req, res) => {
    const start = process.hrtime.bigint();
    const label = currentLabel;
    res.on('finish', () => {
      const list = serverTimes.get(label) ?? [];
      list.push(Number(process.hrtime.bigint() - start) / 1e6);
      serverTimes.set(label, list);
    });
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const budgetSize = database.engine === 'pg' ? 1_000_000 : 100_000;
  const verdicts: string[] = [];

  try {
    const token = (await issueSetupLink(ctx.repos.instance, base, ctx.clock)).url.split('#')[1];
    const admin = await setupAdmin(base, ctx.instanceId, token, ['admin']);
    const moderators: Staff[] = [
      await addStaff(base, ctx.instanceId, admin, 'mod.a'),
      await addStaff(base, ctx.instanceId, admin, 'mod.b'),
    ];
    const mod = moderators[0];
    console.log(
      `bench:inbox on ${database.engine === 'pg' ? 'PostgreSQL' : `SQLite (synchronous=${config.database.client === 'sqlite' ? config.database.synchronous : ''})`}, ` +
        `${SAMPLES} samples per query (taken in turn) after 5 warm-up, node ${process.version}, ${os.cpus().length} CPUs`,
    );
    console.log(
      `budget: every inbox query's p99 < ${BUDGET_MS} ms at ${budgetSize.toLocaleString('en')} cases on ${database.engine === 'pg' ? 'PostgreSQL' : 'SQLite'}`,
    );

    let seeded = 0;
    for (const size of SIZES) {
      const started = Date.now();
      await seed(
        db,
        seeded,
        size,
        moderators.map((m) => m.staffId),
      );
      seeded = size;
      const total = Number((await db('cases').count<{ n: number }[]>({ n: '*' }))[0].n);
      console.log(
        `\n${total.toLocaleString('en')} cases (grown in ${((Date.now() - started) / 1000).toFixed(1)} s; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`,
      );

      const queries: [string, string][] = [
        ['GET /api/instance (baseline)', '/api/instance'],
        ['unread count (navigation, every case read)', '/api/staff/inbox/unread'],
      ];
      for (const l of LISTINGS) {
        queries.push([`${l.label}, first page`, `/api/staff/cases${l.query ? `?${l.query}` : ''}`]);
        const cursor = await deepCursor(db, l, mod.staffId);
        if (cursor) queries.push([`${l.label}, deep page`, `/api/staff/cases?${l.query ? `${l.query}&` : ''}cursor=${cursor}`]);
      }
      serverTimes.clear();
      for (const [, url] of queries) for (let i = 0; i < 5; i++) await mod.client.expect(200, 'GET', url); // warm-up, not recorded
      // Round-robin over the queries, so that a burst of other work on the machine falls on
      // all of them (the baseline too) rather than on whichever query was running.
      for (let i = 0; i < SAMPLES; i++) {
        for (const [label, url] of queries) {
          currentLabel = label;
          await mod.client.expect(200, 'GET', url);
        }
      }
      currentLabel = '';

      console.log('query                                      samples   p50 ms   p99 ms   max ms');
      console.log('-'.repeat(80));
      let worst = 0;
      let worstLabel = '';
      for (const [label] of queries) {
        const times = (serverTimes.get(label) ?? []).sort((a, b) => a - b);
        const p99 = percentile(times, 99);
        if (!label.includes('baseline') && p99 > worst) [worst, worstLabel] = [p99, label];
        console.log(
          `${label.padEnd(42)} ${String(times.length).padStart(7)} ${percentile(times, 50).toFixed(2).padStart(8)} ${p99.toFixed(2).padStart(8)} ${times[times.length - 1].toFixed(2).padStart(8)}`,
        );
      }
      const verdict = `${total.toLocaleString('en')} cases: worst inbox p99 ${worst.toFixed(2)} ms (${worstLabel})${size === budgetSize ? ` (budget < ${BUDGET_MS} ms: ${worst < BUDGET_MS ? 'met' : 'MISSED'})` : ''}`;
      verdicts.push(verdict);
      console.log(verdict);
    }
    console.log(`\nsummary (${database.engine === 'pg' ? 'PostgreSQL' : 'SQLite'}):\n${verdicts.map((v) => `  ${v}`).join('\n')}`);
    if (!SIZES.includes(budgetSize))
      console.log(`  (the budget is set at ${budgetSize.toLocaleString('en')} cases, not measured in this run)`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the post-response session touch finish
    await db.destroy();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench:inbox failed: ${String(err instanceof Error ? (err.stack ?? err.message) : err).slice(0, 2000)}`);
  process.exit(1);
});
