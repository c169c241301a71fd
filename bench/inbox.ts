/**
 * bench/inbox: the moderator inbox with 10,000 cases. Prints the server time (request in to
 * response finished, measured inside the server process) per page of the inbox for several
 * queries, side by side with a cheap endpoint in the same run. Budget (DESIGN.md): a page in
 * under 50 ms of server time.
 *
 *   npm run bench:inbox            BENCH_CASES=10000 BENCH_SAMPLES=60
 *
 * The cases are written straight through the repositories (the inbox reads only case rows);
 * each case carries a real sealed testimony envelope's bytes, reused across cases because
 * sealing 10,000 with JavaScript Ed25519 would dominate the run and the inbox never opens them.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nacl from 'tweetnacl';
import { randomId, readersOf, sealEnvelope, STATUS_VALUES, toBase64url, verifyEnvelope } from '../protocol';
import { createApp } from '../server/app';
import { loadConfig } from '../server/config';
import { migrate, openDatabase } from '../server/db/database';
import { issueSetupLink } from '../server/setup-link';
import { newHandle } from '../server/services/pseudonyms';
import { intEnv } from './lib/env';
import { addStaff, currentKeyset, setupAdmin, type Staff } from './lib/fixtures';

const CASES = intEnv('BENCH_CASES', 10_000, 1);
const SAMPLES = intEnv('BENCH_SAMPLES', 60, 1);
const BUDGET_MS = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-bench-inbox-'));
  const config = loadConfig({ DATA_DIR: dir, POW_BITS: '0', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_SENSITIVE_PER_MINUTE: '1000000' });
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

  try {
    const token = (await issueSetupLink(ctx.repos.instance, base)).split('#')[1];
    const admin = await setupAdmin(base, ctx.instanceId, token, ['admin']);
    const moderators: Staff[] = [await addStaff(base, ctx.instanceId, admin, 'mod.a'), await addStaff(base, ctx.instanceId, admin, 'mod.b')];
    const keyset = await currentKeyset(base);

    const started = Date.now();
    const survivorBox = nacl.box.keyPair();
    const survivorSign = nacl.sign.keyPair();
    const sample = sealEnvelope({ kind: 'testimony', caseId: randomId(), body: { testimony: { what: 'x'.repeat(2000), when: '2018', context: 'workplace', wantsReplies: true } }, recipients: [survivorBox.publicKey, ...readersOf(keyset.keyset)], signer: survivorSign });
    // its hash and key digests, as the server computes them when it accepts an envelope
    const verified = verifyEnvelope(sample, [survivorSign.publicKey]);
    const perSurvivor = 5;
    for (let i = 0; i < CASES; i += perSurvivor) {
      await db.transaction(async (trx) => {
        const survivorId = randomId();
        await ctx.repos.survivors.insert(trx, { id: survivorId, handle: newHandle(), signPk: toBase64url(nacl.randomBytes(32)), boxPk: toBase64url(nacl.randomBytes(32)) }, '2026-01-01');
        for (let j = 0; j < perSurvivor && i + j < CASES; j++) {
          const n = i + j;
          const day = new Date(Date.UTC(2026, 0, 1) + (n % 365) * 86_400_000).toISOString().slice(0, 10);
          const caseId = randomId();
          await trx('cases').insert({ id: caseId, survivor_id: survivorId, status: STATUS_VALUES[n % STATUS_VALUES.length], created_day: day, updated_day: day, assignee_id: n % 3 === 0 ? moderators[n % 2].staffId : null, awaiting_staff: n % 5 === 0 });
          await ctx.repos.envelopes.insert(trx, { envelope: { ...sample, caseId }, verified, seq: 0, fromStaff: false, day });
        }
      });
    }
    // The envelope rows above reuse one sealed body under each case's id (their signatures would
    // not verify); the inbox reads only case rows, so this costs the queries nothing they skip.
    const total = Number((await db('cases').count<{ n: number }[]>({ n: '*' }))[0].n);
    console.log(`bench:inbox: ${total} cases, ${SAMPLES} samples per query, node ${process.version}, ${os.cpus().length} CPUs (filled in ${((Date.now() - started) / 1000).toFixed(1)} s)`);

    const mod = moderators[0];
    const lastPage = Math.ceil(total / 50);
    const queries: [string, (i: number) => string][] = [
      ['GET /api/instance (baseline)', () => '/api/instance'],
      ['inbox page 1', () => '/api/staff/cases?page=1'],
      ['inbox, pages 1..last in turn', (i) => `/api/staff/cases?page=${1 + (i % lastPage)}`],
      [`inbox last page (${lastPage})`, () => `/api/staff/cases?page=${lastPage}`],
      ['status=in_review', () => '/api/staff/cases?status=in_review'],
      ['assignee=me', () => '/api/staff/cases?assignee=me'],
      ['assignee=none, oldest first', () => '/api/staff/cases?assignee=none&sort=oldest'],
      ['from/to one month, page 2', () => '/api/staff/cases?from=2026-03-01&to=2026-03-31&page=2'],
    ];
    for (const [label, url] of queries) {
      for (let i = 0; i < 5; i++) await mod.client.expect(200, 'GET', url(i)); // warm-up, not recorded
      currentLabel = label;
      for (let i = 0; i < SAMPLES; i++) await mod.client.expect(200, 'GET', url(i));
      currentLabel = '';
    }

    console.log('\nquery                              samples   p50 ms   p99 ms   max ms');
    console.log('-'.repeat(72));
    let worst = 0;
    for (const [label] of queries) {
      const times = (serverTimes.get(label) ?? []).sort((a, b) => a - b);
      const p99 = percentile(times, 99);
      if (!label.includes('baseline')) worst = Math.max(worst, p99);
      console.log(`${label.padEnd(34)} ${String(times.length).padStart(7)} ${percentile(times, 50).toFixed(2).padStart(8)} ${p99.toFixed(2).padStart(8)} ${times[times.length - 1].toFixed(2).padStart(8)}`);
    }
    console.log(`\nworst inbox p99 ${worst.toFixed(2)} ms (budget < ${BUDGET_MS} ms: ${worst < BUDGET_MS ? 'met' : 'MISSED'})`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the post-response session touch finish
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
