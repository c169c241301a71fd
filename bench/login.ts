/**
 * Staff login flood (DESIGN.md "Performance budgets"): staff login is deliberately slow
 * (argon2id), but a flood of logins must not stall other requests: the p99 latency of a cheap
 * endpoint must stay under 50 ms meanwhile.
 *
 *   npm run bench:login          (builds, then runs dist/bench/login.js)
 *
 * The process forks itself ("server" mode) to run the real app (createApp) on 127.0.0.1, a
 * fresh temporary SQLite file and rate limits high enough never to trigger (every request is
 * still counted, in memory as on any SQLite instance). The parent sets up the first admin through the real setup and
 * TOTP routes, has the server create the login accounts (bench/lib/staff-accounts.ts: one
 * shared password-derived authKey, hashed by the server as the routes do, and a TOTP secret
 * per account), and then:
 *
 *   1. baseline: samples GET /api/instance continuously (one request at a time, every
 *      BENCH_PROBE_INTERVAL_MS) for BENCH_BASELINE_SECONDS, with nothing else going on;
 *   2. flood: sends BENCH_LOGINS successful logins (password + a fresh TOTP code each, one
 *      account per login so no code is a replay), BENCH_LOGIN_CONCURRENCY in flight, while
 *      the same sampler keeps going.
 *
 * It prints logins/s, the sampler's p50/p99/max in both phases side by side, the server's
 * event-loop delay in both phases, and the verdict against the budget.
 *
 * Exit status: 0 when every login and every sample succeeded (whether or not the budget is
 * met: this is a measurement), 1 when some failed, 2 on a setup error or the time limit.
 * Knobs (environment): see bench/README.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import nacl from 'tweetnacl';
import { fromBase64url, STAFF_KDF, staffSecrets, toBase64url } from '../protocol';
import { createApp } from '../server/app';
import { loadConfig } from '../server/config';
import { migrate, openDatabase } from '../server/db/database';
import { ARGON2_CONCURRENCY, argon2Load, THREADPOOL_SIZE } from '../server/http/staff-credentials';
import { hotp, totpStep } from '../server/http/totp';
import { issueSetupLink } from '../server/setup-link';
import { setupAdmin } from './lib/fixtures';
import { seedLoginAccounts, type SeededAccount } from './lib/staff-accounts';
import { intEnv } from './lib/env';

// ---------------------------------------------------------------------------------------------
// Knobs

const knobs = () => ({
  logins: intEnv('BENCH_LOGINS', 200, 1),
  concurrency: intEnv('BENCH_LOGIN_CONCURRENCY', 8, 1),
  warmupLogins: intEnv('BENCH_WARMUP_LOGINS', 10, 0),
  probeIntervalMs: intEnv('BENCH_PROBE_INTERVAL_MS', 5, 0),
  baselineSeconds: intEnv('BENCH_BASELINE_SECONDS', 3, 1),
  budgetMs: intEnv('BENCH_BUDGET_MS', 50, 1),
  timeoutSeconds: intEnv('BENCH_TIMEOUT_SECONDS', 180, 10),
  /** UV_THREADPOOL_SIZE of the server process (unset: libuv's default, 4) */
  serverThreadpool: process.env.BENCH_SERVER_THREADPOOL ?? '',
  inProcess: process.env.BENCH_IN_PROCESS === '1',
  serverNodeOptions: (process.env.BENCH_SERVER_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean),
});

const PROBE_PATH = '/api/instance';
const LOGIN_PATH = '/api/staff/login';
const PASSWORD = 'the shared password of the benchmark accounts';
const LOOP_RESOLUTION_MS = 5;

// ---------------------------------------------------------------------------------------------
// Server side (child process, or this process with BENCH_IN_PROCESS=1)

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

interface ServerInfo {
  port: number;
  instanceId: string;
  setupToken: string;
  threadpool: number;
  argon2Concurrency: number;
}

interface Server extends ServerInfo {
  seed(count: number, shared: { kdf: { params: typeof STAFF_KDF; salt: string }; authKey: string }): Promise<SeededAccount[]>;
  /** starts a fresh event-loop delay histogram */
  loopReset(): Promise<void>;
  loopRead(): Promise<LoopDelay & { internalErrors: string[]; argon2Waiting: number }>;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-bench-login-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    PORT: '0',
    POW_BITS: '0',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    RATE_LIMIT_SENSITIVE_PER_MINUTE: '1000000000',
  });
  const db = openDatabase(config.database);
  await migrate(db);
  const internalErrors: string[] = [];
  const { app, ctx } = await createApp({
    db,
    config,
    clientDir: path.resolve(__dirname, '../client'),
    log: (line) => internalErrors.push(line),
  });
  const setupToken = (await issueSetupLink(ctx.repos.instance, config.publicUrl, ctx.clock)).url.split('#')[1];
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  let histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  histogram.enable();
  const ms = (ns: number) => ns / 1e6;
  return {
    port: (server.address() as AddressInfo).port,
    instanceId: ctx.instanceId,
    setupToken,
    threadpool: THREADPOOL_SIZE,
    argon2Concurrency: ARGON2_CONCURRENCY,
    seed: (count, shared) => seedLoginAccounts(ctx, count, shared),
    loopReset() {
      histogram.disable();
      histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
      histogram.enable();
      return Promise.resolve();
    },
    loopRead() {
      // The histogram records the time between ticks of a LOOP_RESOLUTION_MS timer: the lag is what exceeds it.
      const lag = (ns: number) => Math.max(0, ms(ns) - LOOP_RESOLUTION_MS);
      return Promise.resolve({
        p50: lag(histogram.percentile(50)),
        p99: lag(histogram.percentile(99)),
        max: lag(histogram.max),
        internalErrors: internalErrors.slice(0, 5),
        argon2Waiting: argon2Load().waiting,
      });
    },
    async close() {
      histogram.disable();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

type ToServer = { id: number } & (
  { type: 'seed'; count: number; shared: Parameters<Server['seed']>[1] } | { type: 'loopReset' } | { type: 'loopRead' } | { type: 'stop' }
);
type FromServer =
  | ({ type: 'ready' } & ServerInfo)
  | { type: 'failed'; message: string }
  | { id: number; type: 'answer'; value: unknown }
  | { id: number; type: 'error'; message: string };

async function serverProcess(): Promise<void> {
  const send = (m: FromServer) => process.send!(m);
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(3), knobs().timeoutSeconds * 1000 + 10_000).unref();
  let s: Server;
  try {
    s = await startServer();
  } catch (e) {
    send({ type: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exit(1);
  }
  // Fire and forget: the handler answers every message itself, an error included.
  process.on('message', (m: ToServer) => void answer(m));
  async function answer(m: ToServer): Promise<void> {
    try {
      if (m.type === 'seed') send({ id: m.id, type: 'answer', value: await s.seed(m.count, m.shared) });
      if (m.type === 'loopReset') send({ id: m.id, type: 'answer', value: await s.loopReset() });
      if (m.type === 'loopRead') send({ id: m.id, type: 'answer', value: await s.loopRead() });
      if (m.type === 'stop') {
        await s.close().catch(() => undefined);
        send({ id: m.id, type: 'answer', value: null });
        setTimeout(() => process.exit(0), 50); // exit (not kill) so that --cpu-prof can write its profile
      }
    } catch (e) {
      send({ id: m.id, type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }
  send({
    type: 'ready',
    port: s.port,
    instanceId: s.instanceId,
    setupToken: s.setupToken,
    threadpool: s.threadpool,
    argon2Concurrency: s.argon2Concurrency,
  });
}

function forkServer(nodeOptions: string[], threadpool: string): Promise<Server> {
  const env = { ...process.env, ...(threadpool ? { UV_THREADPOOL_SIZE: threadpool } : {}) };
  const child: ChildProcess = fork(__filename, ['server'], { execArgv: nodeOptions, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const waiting = new Map<number, (m: FromServer) => void>();
  const ask = <T>(message: { type: ToServer['type'] } & Record<string, unknown>, timeoutMs = 60_000) =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error('the server process is gone'));
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`the server process did not answer "${message.type}" in time`)), timeoutMs);
      waiting.set(id, (m) => {
        clearTimeout(timer);
        if (m.type === 'error') reject(new Error(m.message));
        else resolve((m as Extract<FromServer, { type: 'answer' }>).value as T);
      });
      child.send({ ...message, id }, (err) => err && reject(err));
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server process exited early (code ${code})`)));
    child.on('message', (m: FromServer) => {
      if (m.type === 'failed') return reject(new Error(`the server process failed to start: ${m.message}`));
      if (m.type === 'ready') {
        const { type: _ready, ...info } = m;
        return resolve({
          ...info,
          seed: (count, shared) => ask<SeededAccount[]>({ type: 'seed', count, shared }, 120_000),
          loopReset: () => ask<void>({ type: 'loopReset' }),
          loopRead: () => ask({ type: 'loopRead' }),
          async close() {
            child.removeAllListeners('exit');
            const exited = new Promise<void>((r) =>
              child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r()),
            );
            await ask({ type: 'stop' }, 10_000).catch(() => undefined);
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(timer);
          },
        });
      }
      if ('id' in m) {
        const done = waiting.get(m.id);
        waiting.delete(m.id);
        done?.(m);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Load side

function request(
  agent: http.Agent,
  port: number,
  method: 'GET' | 'POST',
  urlPath: string,
  body?: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent,
        headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

class Samples {
  readonly ms: number[] = [];
  readonly failures = new Map<string, number>();
  fail(what: string): void {
    this.failures.set(what, (this.failures.get(what) ?? 0) + 1);
  }
  percentile(p: number): number {
    const sorted = [...this.ms].sort((a, b) => a - b);
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  }
}

/** Samples the cheap endpoint, one request at a time, until stopped. */
function startProbe(port: number, intervalMs: number): { stop(): Promise<Samples> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples = new Samples();
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await request(agent, port, 'GET', PROBE_PATH);
        if (res.status !== 200) samples.fail(`${res.status} ${res.body.slice(0, 120)}`);
      } catch (e) {
        samples.fail(`network error: ${e instanceof Error ? e.message : String(e)}`);
      }
      samples.ms.push(performance.now() - started);
      if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return samples;
    },
  };
}

/** Sends one successful login per account, `concurrency` at a time. */
async function flood(
  port: number,
  accounts: SeededAccount[],
  authKey: string,
  concurrency: number,
): Promise<{ samples: Samples; seconds: number; ok: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const samples = new Samples();
  const secrets = accounts.map((a) => fromBase64url(a.totpSecret));
  let ok = 0;
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) {
      const i = next++;
      const body = Buffer.from(JSON.stringify({ username: accounts[i].username, authKey, totp: hotp(secrets[i], totpStep(Date.now())) }));
      const started = performance.now();
      try {
        const res = await request(agent, port, 'POST', LOGIN_PATH, body);
        if (res.status === 200) ok++;
        else samples.fail(`${res.status} ${res.body.slice(0, 160)}`);
      } catch (e) {
        samples.fail(`network error: ${e instanceof Error ? e.message : String(e)}`);
      }
      samples.ms.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { samples, seconds, ok };
}

function printFailures(name: string, s: Samples): void {
  if (s.failures.size === 0) return;
  console.log(`\n${name}: ${[...s.failures.values()].reduce((a, b) => a + b, 0)} failed:`);
  for (const [what, n] of [...s.failures].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${n} x ${what}`);
}

async function main(): Promise<void> {
  const k = knobs();
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  setTimeout(() => {
    console.error(`\nbench:login: gave up after ${k.timeoutSeconds} s (BENCH_TIMEOUT_SECONDS); lower BENCH_LOGINS`);
    process.exit(2);
  }, k.timeoutSeconds * 1000).unref();

  console.log(
    `bench:login: ${k.logins} logins (+${k.warmupLogins} warm-up), ${k.concurrency} in flight; probe GET ${PROBE_PATH} one at a time every ${k.probeIntervalMs} ms; ` +
      `node ${process.version}, ${os.availableParallelism()} CPUs`,
  );
  const server = k.inProcess ? await startServer() : await forkServer(k.serverNodeOptions, k.serverThreadpool);
  console.log(
    `server: ${k.inProcess ? 'in this process (BENCH_IN_PROCESS=1)' : 'child process'}${k.serverNodeOptions.length ? ` with ${k.serverNodeOptions.join(' ')}` : ''}; ` +
      `libuv thread pool ${server.threadpool}, argon2 jobs at once ${server.argon2Concurrency} (server/http/staff-credentials.ts)`,
  );
  let exitCode = 0;
  try {
    const base = `http://127.0.0.1:${server.port}`;
    await setupAdmin(base, server.instanceId, server.setupToken);
    // One password-derived authKey for every login account, derived once as a browser would.
    const salt = nacl.randomBytes(16);
    const { authKey } = await staffSecrets(PASSWORD, salt, STAFF_KDF);
    const authKeyB64 = toBase64url(authKey);
    const accounts = await server.seed(k.logins + k.warmupLogins, {
      kdf: { params: STAFF_KDF, salt: toBase64url(salt) },
      authKey: authKeyB64,
    });
    console.log(`setup: admin (setup + TOTP), ${accounts.length} login accounts with TOTP (${elapsed()})`);

    // Warm-up (JIT, SQLite pages, connections), not measured.
    const warmProbe = startProbe(server.port, k.probeIntervalMs);
    const warm = await flood(server.port, accounts.slice(0, k.warmupLogins), authKeyB64, k.concurrency);
    await warmProbe.stop();
    if (warm.ok !== k.warmupLogins) {
      printFailures('warm-up logins', warm.samples);
      exitCode = 1;
    }

    // 1. Baseline: the cheap endpoint alone.
    await server.loopReset();
    const baselineProbe = startProbe(server.port, k.probeIntervalMs);
    await new Promise((r) => setTimeout(r, k.baselineSeconds * 1000));
    const baseline = await baselineProbe.stop();
    const baselineLoop = await server.loopRead();

    // 2. The flood, with the same sampler running.
    await server.loopReset();
    const duringProbe = startProbe(server.port, k.probeIntervalMs);
    const result = await flood(server.port, accounts.slice(k.warmupLogins), authKeyB64, k.concurrency);
    const during = await duringProbe.stop();
    const duringLoop = await server.loopRead();
    console.log(`measured (${elapsed()})\n`);

    const cols: [string, number][] = [
      ['GET /api/instance', 22],
      ['samples', 9],
      ['p50 ms', 9],
      ['p99 ms', 9],
      ['max ms', 9],
      ['server loop lag p99', 21],
      ['server loop lag max', 21],
    ];
    const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[i][1]) : c.padStart(cols[i][1]))).join('');
    const head = row(cols.map(([c]) => c));
    console.log(head);
    console.log('-'.repeat(head.length));
    for (const [name, s, loop] of [
      ['baseline (no flood)', baseline, baselineLoop],
      ['during the flood', during, duringLoop],
    ] as const) {
      console.log(
        row([
          name,
          String(s.ms.length),
          s.percentile(50).toFixed(2),
          s.percentile(99).toFixed(2),
          s.percentile(100).toFixed(1),
          loop.p99.toFixed(1),
          loop.max.toFixed(1),
        ]),
      );
    }
    console.log(
      `\nlogins: ${result.ok} of ${k.logins} succeeded in ${result.seconds.toFixed(2)} s = ${(k.logins / result.seconds).toFixed(1)} logins/s; ` +
        `login latency p50 ${result.samples.percentile(50).toFixed(0)} ms, p99 ${result.samples.percentile(99).toFixed(0)} ms`,
    );
    printFailures('logins', result.samples);
    printFailures('baseline samples', baseline);
    printFailures('samples during the flood', during);
    if (duringLoop.internalErrors.length)
      console.log(
        `server logged ${duringLoop.internalErrors.length}+ internal error(s), first: ${duringLoop.internalErrors[0].split('\n')[0]}`,
      );
    if (result.ok !== k.logins || baseline.failures.size || during.failures.size) exitCode = 1;

    const p99 = during.percentile(99);
    console.log(
      `p99 of GET ${PROBE_PATH}: ${baseline.percentile(99).toFixed(2)} ms without the flood, ${p99.toFixed(2)} ms during it ` +
        `(budget < ${k.budgetMs} ms during the flood: ${p99 < k.budgetMs ? 'met' : 'MISSED'})`,
    );
    if (exitCode) console.log('some requests failed (see above): exit status 1');
  } finally {
    await server.close();
  }
  console.log(`done in ${elapsed()}`);
  process.exit(exitCode);
}

if (process.argv[2] === 'server') {
  void serverProcess();
} else if (require.main === module) {
  main().catch((e) => {
    console.error(`bench:login failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(2);
  });
}
