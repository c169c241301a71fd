/**
 * Submission throughput (DESIGN.md "Performance budgets"): the submit endpoint must sustain at
 * least 0.6x the requests per second of a bare Express endpoint that accepts the same body,
 * measured side by side in one run.
 *
 *   npm run bench:submit          (builds, then runs dist/bench/submit.js)
 *
 * It measures once per database setting, each on a fresh database: SQLite with
 * synchronous=FULL (the default) and NORMAL, then PostgreSQL when BENCH_DATABASE_URL names a
 * server, and prints each ratio side by side at the end.
 *
 * The process forks itself ("server" mode) to run, on 127.0.0.1 and random ports:
 *   - the real Awaaz app (createApp) on that database (a temporary SQLite file or a fresh
 *     PostgreSQL database), POW_BITS=0 (solving
 *     costs nothing, but every submission still spends a single-use challenge row) and rate
 *     limits high enough never to trigger (every request is still counted: in memory on SQLite, in the database on PostgreSQL);
 *   - a bare Express app: express.json with the same body limit and one POST route that
 *     answers 201 {ok:true}.
 * The parent sets up an admin, a moderator and a few survivors over HTTP with protocol/,
 * seals every envelope in advance (in worker threads), fetches one proof-of-work challenge per
 * submission, and then only sends pre-built bytes, with a fixed number of requests in flight
 * over keep-alive connections, to both endpoints in alternating rounds. It prints rps and
 * p50/p99 latency of both endpoints, the server's CPU time per request, and whether the ratio
 * meets the budget.
 *
 * Exit status: 0 when every submission was accepted (whether or not the budget is met: this is
 * a measurement), 1 when some submissions failed, 2 on a setup error or the time limit.
 * Knobs (environment): see bench/README.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Session } from 'node:inspector';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import express from 'express';
import nacl from 'tweetnacl';
import { readersOf, type SignedKeyset } from '../protocol';
import { createApp, MAX_BODY_BYTES } from '../server/app';
import { loadConfig } from '../server/config';
import { migrate, openDatabase } from '../server/db/database';
import { issueSetupLink } from '../server/setup-link';
import {
  addStaff,
  currentKeyset,
  pows,
  registerSurvivor,
  setupAdmin,
  testimonyEnvelope,
  testimonyText,
  type Survivor,
} from './lib/fixtures';
import { benchDatabase } from './lib/bench-database';
import { intEnv } from './lib/env';

// ---------------------------------------------------------------------------------------------
// Knobs

const knobs = () => ({
  requests: intEnv('BENCH_REQUESTS', 1000, 1),
  concurrency: intEnv('BENCH_CONCURRENCY', 16, 1),
  warmup: intEnv('BENCH_WARMUP', 100, 0),
  rounds: intEnv('BENCH_ROUNDS', 3, 1),
  survivors: intEnv('BENCH_SURVIVORS', 4, 1),
  moderators: intEnv('BENCH_MODERATORS', 1, 0),
  textBytes: intEnv('BENCH_TEXT_BYTES', 4096, 1),
  timeoutSeconds: intEnv('BENCH_TIMEOUT_SECONDS', 150, 10),
  sealThreads: intEnv('BENCH_SEAL_THREADS', Math.max(1, Math.min(4, os.availableParallelism())), 1),
  inProcess: process.env.BENCH_IN_PROCESS === '1',
  /** extra node flags for the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" */
  serverNodeOptions: (process.env.BENCH_SERVER_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean),
  /** a folder: the server's CPU profile of the measured submit rounds only is written there */
  profileDir: process.env.BENCH_PROFILE_DIR ?? '',
});

/** DESIGN.md "Performance budgets": submit sustains at least this share of bare Express's requests per second */
const SUBMIT_BUDGET = 0.6;

const AWAAZ_PATH = '/api/survivor/cases';
const BARE_PATH = '/bare';

// ---------------------------------------------------------------------------------------------
// Server side (child process, or this process with BENCH_IN_PROCESS=1)

interface ServerStats {
  cpuUserMs: number;
  cpuSystemMs: number;
  elu: EventLoopUtilization;
  cases: number;
  /** CPU time of the main thread alone (Linux: /proc; NaN elsewhere): the rest is SQLite's thread pool, GC helpers, pg's socket */
  mainThreadCpuMs: number;
  /** SQL statements the app has sent so far (knex query events, BEGIN and COMMIT included) */
  statements: number;
  challenges: number;
  internalErrors: string[];
}

interface Servers {
  awaazPort: number;
  barePort: number;
  instanceId: string;
  setupToken: string;
  stats(): Promise<ServerStats>;
  /** starts the server's CPU profiler, or stops it and writes the profile to `file` */
  profile(file?: string): Promise<void>;
  close(): Promise<void>;
}

/** The main thread's user + system time, from Linux's per-thread accounting (clock ticks of 10 ms). */
function mainThreadCpuMs(): number {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

function listen(app: express.Express): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function startServers(databaseEnv: Record<string, string>): Promise<Servers> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-bench-'));
  // However this process ends (time limit, parent gone), the database goes with it.
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    PORT: '0',
    POW_BITS: '0',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    RATE_LIMIT_SENSITIVE_PER_MINUTE: '1000000000',
    ...databaseEnv,
  });
  const db = openDatabase(config.database);
  await migrate(db);
  let statements = 0;
  db.on('query', () => statements++);
  const internalErrors: string[] = [];
  const { app, ctx } = await createApp({
    db,
    config,
    clientDir: path.resolve(__dirname, '../client'),
    log: (line) => internalErrors.push(line),
  });
  const setupToken = (await issueSetupLink(ctx.repos.instance, config.publicUrl, ctx.clock)).url.split('#')[1];

  const bare = express();
  bare.disable('x-powered-by');
  bare.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));
  bare.post(BARE_PATH, (req, res) => {
    res.status(201).json({ ok: req.body !== undefined });
  });

  const inspector = new Session();
  const awaazServer = await listen(app);
  const bareServer = await listen(bare);
  return {
    awaazPort: (awaazServer.address() as AddressInfo).port,
    barePort: (bareServer.address() as AddressInfo).port,
    instanceId: ctx.instanceId,
    setupToken,
    async stats() {
      const cpu = process.cpuUsage();
      const count = async (table: string) => Number((await db(table).count<{ n: number | string }[]>({ n: '*' }))[0].n);
      const sent = statements; // before the counts below add their own
      return {
        statements: sent,
        mainThreadCpuMs: mainThreadCpuMs(),
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        elu: performance.eventLoopUtilization(),
        cases: await count('cases'),
        challenges: await count('challenges'),
        internalErrors: internalErrors.slice(0, 5),
      };
    },
    async profile(file?: string) {
      const post = (method: string) =>
        new Promise<unknown>((resolve, reject) => inspector.post(method, (err, result) => (err ? reject(err) : resolve(result))));
      if (file === undefined) {
        inspector.connect();
        await post('Profiler.enable');
        await post('Profiler.start');
        return;
      }
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      inspector.disconnect();
      fs.writeFileSync(file, JSON.stringify(profile));
    },
    async close() {
      for (const s of [awaazServer, bareServer]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

type ToServer = { id: number; type: 'stats' | 'stop' | 'profile'; file?: string };
type FromServer =
  | { type: 'ready'; awaazPort: number; barePort: number; instanceId: string; setupToken: string }
  | { type: 'failed'; message: string }
  | { id: number; type: 'stats'; stats: ServerStats }
  | { id: number; type: 'stopped' }
  | { id: number; type: 'profiled' };

/** The forked server process: starts both apps, answers the parent's questions, exits with it. */
async function serverProcess(): Promise<void> {
  const send = (m: FromServer) => process.send!(m);
  // Never outlive the parent, nor the time limit.
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(3), knobs().timeoutSeconds * 1000 + 10_000).unref();
  let servers: Servers;
  try {
    servers = await startServers(JSON.parse(process.argv[3] ?? '{}') as Record<string, string>);
  } catch (e) {
    send({ type: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exit(1);
  }
  const answer = async (m: ToServer): Promise<void> => {
    if (m.type === 'stats') send({ id: m.id, type: 'stats', stats: await servers.stats() });
    if (m.type === 'profile') {
      await servers.profile(m.file);
      send({ id: m.id, type: 'profiled' });
    }
    if (m.type === 'stop') {
      await servers.close().catch(() => undefined);
      send({ id: m.id, type: 'stopped' });
      // exit (not kill) so that --cpu-prof can write its profile
      setTimeout(() => process.exit(0), 50);
    }
  };
  // A failed answer ends the run: the parent would otherwise wait for it until its timeout.
  process.on('message', (m: ToServer) => {
    answer(m).catch((e) => {
      send({ type: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      process.exit(1);
    });
  });
  send({
    type: 'ready',
    awaazPort: servers.awaazPort,
    barePort: servers.barePort,
    instanceId: servers.instanceId,
    setupToken: servers.setupToken,
  });
}

/** Servers in a child process, behind the same interface as in-process ones. */
function forkServers(nodeOptions: string[], databaseEnv: Record<string, string>): Promise<Servers & { child: ChildProcess }> {
  const child = fork(__filename, ['server', JSON.stringify(databaseEnv)], {
    execArgv: nodeOptions,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, (m: FromServer) => void>();
  const ask = (type: ToServer['type'], file?: string) =>
    new Promise<FromServer>((resolve, reject) => {
      if (!child.connected) return reject(new Error('the server process is gone'));
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`the server process did not answer "${type}" within 10 s`)), 10_000);
      waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      child.send({ id, type, ...(file === undefined ? {} : { file }) } satisfies ToServer, (err) => err && reject(err));
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server process exited early (code ${code})`)));
    child.on('message', (m: FromServer) => {
      if (m.type === 'failed') reject(new Error(`the server process failed to start: ${m.message}`));
      else if (m.type === 'ready') {
        resolve({
          child,
          awaazPort: m.awaazPort,
          barePort: m.barePort,
          instanceId: m.instanceId,
          setupToken: m.setupToken,
          async stats() {
            const answer = await ask('stats');
            return (answer as Extract<FromServer, { type: 'stats' }>).stats;
          },
          async profile(file?: string) {
            await ask('profile', file);
          },
          async close() {
            child.removeAllListeners('exit');
            const exited = new Promise<void>((r) =>
              child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r()),
            );
            await ask('stop').catch(() => undefined);
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(timer);
          },
        });
      } else if ('id' in m) {
        waiting.get(m.id)?.(m);
        waiting.delete(m.id);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Sealing envelopes in worker threads (tweetnacl is pure JS: about 10 ms per envelope)

interface SealJob {
  survivors: { signSecretKey: Uint8Array; boxPublicKey: Uint8Array }[];
  keyset: SignedKeyset;
  /** survivor index for each envelope */
  owners: number[];
  textBytes: number;
}

/** The envelopes as JSON text (the proof of work is not signed, so it is added later). */
function sealEnvelopes(job: SealJob): string[] {
  const signers = job.survivors.map((s) => nacl.sign.keyPair.fromSecretKey(s.signSecretKey));
  return job.owners.map((owner) =>
    JSON.stringify(testimonyEnvelope(signers[owner], job.survivors[owner].boxPublicKey, job.keyset, testimonyText(job.textBytes))),
  );
}

async function sealInThreads(job: SealJob, threads: number): Promise<string[]> {
  const n = job.owners.length;
  const per = Math.ceil(n / threads);
  const parts = await Promise.all(
    Array.from({ length: Math.min(threads, n) }, (_, t) => {
      const slice: SealJob = { ...job, owners: job.owners.slice(t * per, (t + 1) * per) };
      return new Promise<string[]>((resolve, reject) => {
        const worker = new Worker(__filename, { workerData: slice });
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => code !== 0 && reject(new Error(`a sealing thread exited with ${code}`)));
      });
    }),
  );
  return parts.flat();
}

// ---------------------------------------------------------------------------------------------
// Load generator

interface Shot {
  body: Buffer;
  headers: http.OutgoingHttpHeaders;
}

interface LoadResult {
  latencies: number[];
  seconds: number;
  ok: number;
  failures: Map<string, number>;
}

function post(agent: http.Agent, port: number, urlPath: string, shot: Shot): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: urlPath, method: 'POST', agent, headers: { ...shot.headers, 'content-length': shot.body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end(shot.body);
  });
}

/** Sends every shot once, `concurrency` at a time, over keep-alive connections. */
async function load(port: number, urlPath: string, shots: Shot[], concurrency: number, expected: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const latencies = new Array<number>(shots.length);
  const failures = new Map<string, number>();
  let ok = 0;
  let next = 0;
  const worker = async () => {
    while (next < shots.length) {
      const i = next++;
      const started = performance.now();
      let outcome: string | undefined;
      try {
        const res = await post(agent, port, urlPath, shots[i]);
        if (res.status !== expected) outcome = `${res.status} ${res.body.slice(0, 200)}`;
      } catch (e) {
        outcome = `network error: ${e instanceof Error ? e.message : String(e)}`;
      }
      latencies[i] = performance.now() - started;
      if (outcome === undefined) ok++;
      else failures.set(outcome, (failures.get(outcome) ?? 0) + 1);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, shots.length) }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, seconds, ok, failures };
}

// ---------------------------------------------------------------------------------------------
// Measurement: both endpoints in alternating rounds, so that both see the same machine

class Tally {
  readonly latencies: number[] = [];
  seconds = 0;
  ok = 0;
  requests = 0;
  cpuMs = 0;
  mainCpuMs = 0;
  statements = 0;
  loopActive = 0;
  loopIdle = 0;
  readonly failures = new Map<string, number>();

  constructor(readonly name: string) {}

  add(r: LoadResult, before: ServerStats, after: ServerStats): void {
    this.latencies.push(...r.latencies);
    this.seconds += r.seconds;
    this.ok += r.ok;
    this.requests += r.latencies.length;
    this.statements += after.statements - before.statements;
    this.mainCpuMs += after.mainThreadCpuMs - before.mainThreadCpuMs;
    this.cpuMs += after.cpuUserMs + after.cpuSystemMs - before.cpuUserMs - before.cpuSystemMs;
    this.loopActive += after.elu.active - before.elu.active;
    this.loopIdle += after.elu.idle - before.elu.idle;
    for (const [what, n] of r.failures) this.failures.set(what, (this.failures.get(what) ?? 0) + n);
  }

  get rps(): number {
    return this.requests / this.seconds;
  }
  get mainCpuMsPerRequest(): number {
    return this.mainCpuMs / this.requests;
  }
  get statementsPerRequest(): number {
    return this.statements / this.requests;
  }
  get cpuMsPerRequest(): number {
    return this.cpuMs / this.requests;
  }
  get loopBusy(): number {
    return this.loopActive / (this.loopActive + this.loopIdle || 1);
  }
  percentile(p: number): number {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  }
}

async function measureRound(
  servers: Servers,
  tally: Tally,
  port: number,
  urlPath: string,
  shots: Shot[],
  concurrency: number,
): Promise<void> {
  const before = await servers.stats();
  const result = await load(port, urlPath, shots, concurrency, 201);
  const after = await servers.stats();
  tally.add(result, before, after);
}

function printTable(tallies: Tally[]): void {
  const cols: [string, number][] = [
    ['endpoint', 28],
    ['requests', 9],
    ['rps', 8],
    ['p50 ms', 9],
    ['p99 ms', 9],
    ['max ms', 9],
    ['server CPU ms/req', 19],
    ['main thread', 13],
    ['server loop busy', 18],
    ['SQL/req', 9],
  ];
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[i][1]) : c.padStart(cols[i][1]))).join('');
  const head = row(cols.map(([c]) => c));
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const t of tallies) {
    console.log(
      row([
        t.name,
        String(t.requests),
        t.rps.toFixed(0),
        t.percentile(50).toFixed(2),
        t.percentile(99).toFixed(2),
        t.percentile(100).toFixed(1),
        t.cpuMsPerRequest.toFixed(3),
        t.mainCpuMsPerRequest.toFixed(3),
        `${(t.loopBusy * 100).toFixed(0)} %`,
        t.statementsPerRequest.toFixed(2),
      ]),
    );
  }
}

function printFailures(t: Tally): void {
  if (t.failures.size === 0) return;
  console.log(`\n${t.name}: ${t.requests - t.ok} of ${t.requests} requests failed:`);
  for (const [what, n] of [...t.failures].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${n} x ${what}`);
}

async function main(): Promise<void> {
  const k = knobs();
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

  console.log(
    `bench:submit: ${k.requests} requests per endpoint in ${k.rounds} round(s), ${k.concurrency} in flight, ${k.warmup} warm-up, ${k.textBytes}-byte testimonies, ` +
      `${k.survivors} survivors, admin + ${k.moderators} moderator(s); node ${process.version}, ${os.availableParallelism()} CPUs`,
  );
  console.log(
    `server: ${k.inProcess ? 'in this process (BENCH_IN_PROCESS=1)' : 'child process'}${k.serverNodeOptions.length ? ` with ${k.serverNodeOptions.join(' ')}` : ''}`,
  );

  // Each database setting in turn, on a fresh database: SQLite with synchronous=FULL (the
  // default) and NORMAL, then PostgreSQL when BENCH_DATABASE_URL names a server.
  const variants: { label: string; env: Record<string, string>; pg: boolean }[] = [
    { label: 'SQLite, synchronous=FULL (default)', env: { SQLITE_SYNCHRONOUS: 'FULL' }, pg: false },
    { label: 'SQLite, synchronous=NORMAL', env: { SQLITE_SYNCHRONOUS: 'NORMAL' }, pg: false },
    ...(process.env.BENCH_DATABASE_URL ? [{ label: 'PostgreSQL', env: {}, pg: true }] : []),
  ];
  const results: (VariantResult & { label: string })[] = [];
  let exitCode = 0;
  for (const variant of variants) {
    console.log(`\n=== ${variant.label} ===`);
    const pg = variant.pg ? await benchDatabase() : undefined;
    // The time limit holds for each setting's run.
    const deadline = setTimeout(() => {
      console.error(
        `\nbench:submit: gave up after ${k.timeoutSeconds} s (BENCH_TIMEOUT_SECONDS) on ${variant.label}; lower BENCH_REQUESTS`,
      );
      process.exit(2);
    }, k.timeoutSeconds * 1000);
    deadline.unref();
    try {
      const r = await runVariant(k, { ...variant.env, ...(pg?.env ?? {}) }, elapsed);
      results.push({ label: variant.label, ...r });
      exitCode = Math.max(exitCode, r.exitCode);
    } finally {
      clearTimeout(deadline);
      await pg?.drop();
    }
  }

  console.log('\nsummary: submit against bare Express, per database setting (budget: ratio >= 0.6, DESIGN.md)');
  console.log('setting                               submit rps  submit p99 ms   bare rps   ratio  CPU ratio  budget');
  console.log('-'.repeat(104));
  for (const r of results) {
    console.log(
      `${r.label.padEnd(36)} ${r.submitRps.toFixed(0).padStart(11)} ${r.submitP99.toFixed(1).padStart(14)} ${r.bareRps.toFixed(0).padStart(10)} ${r.ratio.toFixed(2).padStart(7)} ${r.cpuRatio.toFixed(2).padStart(10)}  ${r.ratio >= SUBMIT_BUDGET ? 'met' : 'MISSED'}`,
    );
  }
  const [full, normal] = results;
  // Compared through each run's ratio to bare Express, which discounts what else the machine
  // was doing during each run (the runs are minutes apart).
  if (full && normal)
    console.log(
      `synchronous=FULL: ratio ${full.ratio.toFixed(2)} against NORMAL's ${normal.ratio.toFixed(2)}, ${((full.ratio / normal.ratio) * 100).toFixed(0)}% of NORMAL's throughput relative to bare Express (the cost of surviving a power cut)`,
    );
  process.exit(exitCode);
}

interface VariantResult {
  submitRps: number;
  bareRps: number;
  submitP99: number;
  ratio: number;
  cpuRatio: number;
  exitCode: number;
}

/** One run of the measurement against servers on one database setting. */
async function runVariant(k: ReturnType<typeof knobs>, databaseEnv: Record<string, string>, elapsed: () => string): Promise<VariantResult> {
  const servers = k.inProcess ? await startServers(databaseEnv) : await forkServers(k.serverNodeOptions, databaseEnv);
  let exitCode = 0;
  let result: VariantResult | undefined;
  try {
    const base = `http://127.0.0.1:${servers.awaazPort}`;

    // Staff and survivors, as their browsers would do it.
    const admin = await setupAdmin(base, servers.instanceId, servers.setupToken);
    for (let i = 1; i <= k.moderators; i++) await addStaff(base, servers.instanceId, admin, `moderator${i}`);
    const survivors: Survivor[] = [];
    for (let i = 0; i < k.survivors; i++) survivors.push(await registerSurvivor(base, servers.instanceId));
    const keyset = await currentKeyset(base);
    console.log(
      `setup: admin, ${k.moderators} moderator(s), ${survivors.length} survivors; keyset v${keyset.keyset.version} with ${readersOf(keyset.keyset).length} moderator keys (${elapsed()})`,
    );

    // One sealed envelope and one fresh challenge per submission, all made before measuring.
    // Challenges live 5 minutes, so they are fetched after the (slow) sealing.
    const total = k.warmup + k.requests;
    const owners = Array.from({ length: total }, (_, i) => i % survivors.length);
    const envelopes = await sealInThreads(
      {
        survivors: survivors.map((s) => ({ signSecretKey: s.keys.sign.secretKey, boxPublicKey: s.keys.box.publicKey })),
        keyset,
        owners,
        textBytes: k.textBytes,
      },
      k.sealThreads,
    );
    console.log(`sealed ${total} envelopes in ${k.sealThreads} thread(s) (${elapsed()})`);
    const challenges = await pows(base, total);
    const shots: Shot[] = envelopes.map((envelope, i) => ({
      body: Buffer.from(`{"envelope":${envelope},"keysetVersion":${keyset.keyset.version},"pow":${JSON.stringify(challenges[i])}}`, 'utf8'),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${survivors[owners[i]].token}` },
    }));
    const sizes = shots.map((s) => s.body.length);
    console.log(`fetched ${total} challenges; bodies are ${Math.min(...sizes)}-${Math.max(...sizes)} bytes (${elapsed()})`);

    // Warm-up both servers (JIT, connections, SQLite pages), then measure in alternating
    // rounds. The bare endpoint gets exactly the same bytes; it parses them and answers.
    const warm = shots.slice(0, k.warmup);
    const measured = shots.slice(k.warmup);
    if (warm.length) {
      const w1 = await load(servers.barePort, BARE_PATH, warm, k.concurrency, 201);
      const w2 = await load(servers.awaazPort, AWAAZ_PATH, warm, k.concurrency, 201);
      const failed = warm.length - w1.ok + (warm.length - w2.ok);
      console.log(`warm-up: ${warm.length} requests to each endpoint${failed ? `, ${failed} failed` : ''} (${elapsed()})`);
      const warmTally = new Tally('warm-up submissions');
      for (const [what, n] of w2.failures) warmTally.failures.set(what, n);
      warmTally.requests = warm.length;
      warmTally.ok = w2.ok;
      printFailures(warmTally);
      if (failed) exitCode = 1;
    }
    const submit = new Tally(`POST ${AWAAZ_PATH}`);
    const bare = new Tally(`POST ${BARE_PATH} (bare)`);
    const per = Math.ceil(measured.length / k.rounds);
    for (let r = 0; r < k.rounds; r++) {
      const chunk = measured.slice(r * per, (r + 1) * per);
      if (chunk.length === 0) break;
      const runBare = () => measureRound(servers, bare, servers.barePort, BARE_PATH, chunk, k.concurrency);
      const runSubmit = async () => {
        if (k.profileDir) await servers.profile();
        await measureRound(servers, submit, servers.awaazPort, AWAAZ_PATH, chunk, k.concurrency);
        if (k.profileDir) await servers.profile(path.join(k.profileDir, `submit-${process.pid}-${Date.now()}-round${r + 1}.cpuprofile`));
      };
      // alternate which goes first, so that neither always follows the other
      if (r % 2 === 0) {
        await runBare();
        await runSubmit();
      } else {
        await runSubmit();
        await runBare();
      }
    }
    console.log(`measured (${elapsed()})\n`);

    printTable([submit, bare]);
    printFailures(submit);
    printFailures(bare);

    const stats = await servers.stats();
    console.log(`\nserver: ${stats.cases} cases stored (expected ${total}), ${stats.challenges} unspent challenges left`);
    if (stats.internalErrors.length)
      console.log(`server logged ${stats.internalErrors.length}+ internal error(s), first: ${stats.internalErrors[0].split('\n')[0]}`);
    if (submit.ok !== submit.requests || bare.ok !== bare.requests || stats.cases !== total) exitCode = 1;

    const ratio = submit.rps / bare.rps;
    const cpuRatio = bare.cpuMsPerRequest / submit.cpuMsPerRequest;
    console.log(`server CPU per request, bare/submit: ${cpuRatio.toFixed(2)} (what the ratio would be if both were CPU-bound on one core)`);
    console.log(`ratio ${ratio.toFixed(2)} (budget >= ${SUBMIT_BUDGET}: ${ratio >= SUBMIT_BUDGET ? 'met' : 'MISSED'})`);
    if (exitCode) console.log('some requests failed (see above): exit status 1');
    result = { submitRps: submit.rps, bareRps: bare.rps, submitP99: submit.percentile(99), ratio, cpuRatio, exitCode };
  } finally {
    await servers.close();
  }
  console.log(`done in ${elapsed()}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Entry: main process, forked server process, or sealing thread.

if (!isMainThread) {
  parentPort!.postMessage(sealEnvelopes(workerData as SealJob));
} else if (process.argv[2] === 'server') {
  void serverProcess();
} else if (require.main === module) {
  main().catch((e) => {
    console.error(`bench:submit failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(2);
  });
}
