/**
 * A long retention sweep and the requests that come meanwhile (SQLite, where a transaction
 * holds the one connection). Closed cases past their period, each carrying evidence files, are
 * erased by the sweep twice, side by side in one run, each time on freshly seeded cases:
 *
 *   1. baseline: everything in one transaction (a batch as large as the whole), as the sweep
 *      did before it went in batches;
 *   2. batches: the sweep's own batches (server/services/retention.ts RETENTION_BATCH).
 *
 * Meanwhile a prober sends GET /api/keysets (one database read) to the real app over HTTP, one
 * request at a time, and records each one's latency. It prints, for each run, the sweep's
 * time, its transactions, and the probes' count, p50 and maximum: the longest a request waited.
 *
 *   npm run build && node dist/bench/retention-sweep.js
 *
 * Knobs (environment): BENCH_CASES (8), BENCH_CASE_MB (25: MiB of files per case).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import nacl from 'tweetnacl';
import { RECORD_BYTES, randomId, toBase64url } from '../protocol';
import { createApp } from '../server/app';
import { loadConfig } from '../server/config';
import { migrate, openDatabase, type Db } from '../server/db/database';
import { RETENTION_BATCH, type RetentionBatch } from '../server/services/retention';
import { sweepExpired } from '../server/sweeper';
import { intEnv } from './lib/env';

const CASES = intEnv('BENCH_CASES', 8, 1);
const CASE_MB = intEnv('BENCH_CASE_MB', 25, 1);
const LONG_AGO = '2000-01-01';

/** Expired closed cases, each of its own survivor, each with one file of CASE_MB MiB in records. */
async function seed(db: Db): Promise<void> {
  const records = Math.ceil((CASE_MB * 1024 * 1024) / RECORD_BYTES);
  for (let i = 0; i < CASES; i++) {
    const survivorId = randomId();
    const caseId = randomId();
    const attachmentId = randomId();
    await db.transaction(async (trx) => {
      await trx('survivors').insert({
        id: survivorId,
        handle: randomId().slice(0, 12),
        sign_pk: toBase64url(nacl.randomBytes(32)),
        box_pk: toBase64url(nacl.randomBytes(32)),
        created_day: LONG_AGO,
        last_visit_day: LONG_AGO,
      });
      await trx('cases').insert({
        id: caseId,
        survivor_id: survivorId,
        status: 'closed',
        created_day: LONG_AGO,
        updated_day: LONG_AGO,
        closed_day: LONG_AGO,
      });
      await trx('attachments').insert({
        id: attachmentId,
        survivor_id: survivorId,
        case_id: caseId,
        size: records * RECORD_BYTES,
        records,
        received: records,
        closed: true,
        created_day: LONG_AGO,
      });
      for (let idx = 0; idx < records; idx++)
        await trx('attachment_records').insert({ attachment_id: attachmentId, idx, data: Buffer.from(nacl.randomBytes(RECORD_BYTES)) });
    });
  }
}

function get(port: number, urlPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`probe answered ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

interface Figures {
  sweepMs: number;
  transactions: number;
  erased: number;
  probes: number;
  p50: number;
  max: number;
}

async function run(db: Db, ctx: Awaited<ReturnType<typeof createApp>>['ctx'], port: number, batch: RetentionBatch): Promise<Figures> {
  await seed(db);
  let transactions = 0;
  const erase = ctx.repos.retention.eraseExpiredClosedCases.bind(ctx.repos.retention);
  ctx.repos.retention.eraseExpiredClosedCases = (...args) => {
    transactions++;
    return erase(...args);
  };
  const latencies: number[] = [];
  let sweeping = true;
  const prober = (async () => {
    while (sweeping) {
      const started = performance.now();
      await get(port, '/api/keysets');
      latencies.push(performance.now() - started);
    }
  })();
  const started = performance.now();
  const swept = await sweepExpired(ctx, ctx.clock.now(), { retention: true, retentionBatch: batch });
  const sweepMs = performance.now() - started;
  sweeping = false;
  await prober;
  ctx.repos.retention.eraseExpiredClosedCases = erase;
  if (swept.failed.length > 0 || swept.retention?.cases !== CASES)
    throw new Error(`the sweep did not erase every case: ${JSON.stringify(swept)}`);
  latencies.sort((a, b) => a - b);
  return {
    sweepMs,
    transactions,
    erased: swept.retention.cases,
    probes: latencies.length,
    p50: latencies[Math.floor(latencies.length / 2)] ?? 0,
    max: latencies[latencies.length - 1] ?? 0,
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-bench-retention-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', RATE_LIMIT_PER_MINUTE: '1000000000' });
  const db = openDatabase(config.database);
  await migrate(db);
  const { app, ctx } = await createApp({ db, config, clientDir: path.resolve(__dirname, '../client'), log: () => undefined });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await get(port, '/api/keysets');

  console.log(`retention sweep on SQLite: ${CASES} expired cases of ${CASE_MB} MiB of files each (${CASES * CASE_MB} MiB)`);
  const whole = { cases: CASES + 1, bytes: Number.MAX_SAFE_INTEGER, accounts: CASES + 1 };
  const rows: [string, Figures][] = [
    ['one transaction (before)', await run(db, ctx, port, whole)],
    ['batches (now)', await run(db, ctx, port, RETENTION_BATCH)],
  ];
  console.log('| sweep | time | transactions | cases | probes | probe p50 | longest probe |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, f] of rows)
    console.log(
      `| ${name} | ${f.sweepMs.toFixed(0)} ms | ${f.transactions} | ${f.erased} | ${f.probes} | ${f.p50.toFixed(1)} ms | ${f.max.toFixed(0)} ms |`,
    );
  server.close();
  await db.destroy();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
