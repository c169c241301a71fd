/**
 * Key derivation in the browsers survivors use (issue 11; DESIGN.md "Performance budgets": at
 * most 10 s for a survivor at Tor Browser's Safer level). Prints, side by side in one run, the
 * survivor's argon2id (19 MiB, t = 2) as the pages run it in Chromium (for reference), in Firefox
 * ESR at Tor Browser's Standard level (hash-wasm) and at its Safer level (no WebAssembly, no
 * JIT: the pure-JavaScript argon2id in the KDF Worker); the staff parameters for new records
 * (STAFF_KDF) and for records made before issue 11 (64 MiB, t = 3); and the proof of work.
 *
 *   npm run bench:kdf          (builds, then runs dist/bench/kdf.js)
 *
 * Starts the built server (dist/server/main.js) on 127.0.0.1 with a temporary data folder and
 * measures inside its /share page, with the engines the survivor-crypto layer exposes
 * (client/lib/kdf.ts browserArgon2, browserSolvePow), under the real CSP, so the Safer figures
 * include fetching and checking the Worker script. Also prints the longest pause of the page's
 * main thread during each job (a timer that should fire every 20 ms): the Worker keeps the page
 * responsive. Exit status: 0 after a measurement (whether or not the budget is met), 2 on a
 * setup error. Also prints the same pure-JavaScript argon2id in Node --jitless as a reference. Knobs (environment): see bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { chromium } from 'playwright-core';
import { STAFF_KDF, SURVIVOR_KDF, type Argon2Engine, type Argon2Params, type argon2 } from '../protocol/kdf';
import { FIREFOX, launchFirefox, type TorLevel } from '../test/support/firefox';
import { CHROMIUM_ARGS, ROOT, startServer } from '../test/support/awaaz-server';
import { intEnv } from './lib/env';

const BUDGET_SAFER_SECONDS = 10;
const LEGACY_STAFF_KDF: Argon2Params = { alg: 'argon2id', m: 64 * 1024, t: 3, p: 1 };

const knobs = () => ({
  rounds: intEnv('BENCH_ROUNDS', 3, 1),
  staffRounds: intEnv('BENCH_STAFF_ROUNDS', 1, 0),
  powRounds: intEnv('BENCH_POW_ROUNDS', 3, 0),
  powBits: intEnv('BENCH_POW_BITS', 14, 1),
  timeoutSeconds: intEnv('BENCH_TIMEOUT_SECONDS', 900, 10),
  chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
});

type Job = { kind: 'argon2'; params: Argon2Params; rounds: number } | { kind: 'pow'; bits: number; rounds: number };
interface JobResult {
  ms: number[];
  /** longest gap between ticks of a 20 ms timer on the page's main thread during the job */
  stallMs: number;
  engine: 'hash-wasm' | 'worker' | 'page';
}

/** What the /share page's bundle exposes (its AwaazCore modules), and where a job leaves its result. */
interface BenchPage {
  AwaazCore: {
    'client/lib/kdf.ts': {
      browserArgon2: Argon2Engine;
      browserSolvePow(challenge: string, bits: number): Promise<number>;
      hasWebAssembly(): boolean;
    };
    'protocol/kdf.ts': { argon2: typeof argon2 };
  };
  __awaazKdfBench?: JobResult | { error: string };
}

/**
 * Runs in the /share page (serialized by the driver): starts one job with the pages' own
 * engines and leaves its result in globalThis.__awaazKdfBench, which `collect` polls (a driver
 * call has a time limit, puppeteer's protocolTimeout of 180 s, which Safer can exceed).
 */
function startJob(job: Job): void {
  const g = globalThis as unknown as BenchPage;
  g.__awaazKdfBench = undefined;
  const run = async (): Promise<JobResult> => {
    const kdf = g.AwaazCore['client/lib/kdf.ts'];
    const protocol = g.AwaazCore['protocol/kdf.ts'];
    let last = performance.now();
    let stallMs = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      stallMs = Math.max(stallMs, now - last);
      last = now;
    }, 20);
    const ms: number[] = [];
    try {
      for (let i = 0; i < job.rounds; i++) {
        const start = performance.now();
        if (job.kind === 'argon2') {
          // A survivor's codename and salt shape (eight words, "awaaz/v1/survivor/" + instance id).
          const password = new TextEncoder().encode(`abandon ability able about above absent absorb round${i}`);
          await protocol.argon2(
            password,
            new TextEncoder().encode('awaaz/v1/survivor/AAAAAAAAAAAAAAAAAAAAAA'),
            job.params,
            kdf.browserArgon2,
          );
        } else {
          await kdf.browserSolvePow(`bench-kdf-${i}-${Math.random()}`, job.bits);
        }
        ms.push(performance.now() - start);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      clearInterval(timer);
    }
    const webAssembly = kdf.hasWebAssembly();
    return { ms, stallMs, engine: job.kind === 'pow' ? (webAssembly ? 'page' : 'worker') : webAssembly ? 'hash-wasm' : 'worker' };
  };
  run().then(
    (result) => (g.__awaazKdfBench = result),
    (e) => (g.__awaazKdfBench = { error: String(e) }),
  );
}

const readResult = () => (globalThis as unknown as BenchPage).__awaazKdfBench;

interface Evaluator {
  evaluate<A, R>(fn: (arg: A) => R, arg: A): Promise<R>;
}

/** Starts a job in the page and waits for its result, a second at a time. */
async function collect(page: Evaluator, job: Job): Promise<JobResult> {
  await page.evaluate(startJob, job);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const result = await page.evaluate(readResult, undefined);
    if (result && 'error' in result) throw new Error(`in the page: ${result.error}`);
    if (result) return result;
  }
}

/**
 * The same pure-JavaScript argon2id (@noble/hashes) in Node without its JIT (`--jitless`): a
 * reference measured in the same run, so a figure taken on a busy machine can be read against
 * what the machine gives at that moment.
 */
function jitlessNodeMs(params: Argon2Params, rounds: number): number[] {
  const code = `const { argon2id } = require('@noble/hashes/argon2.js'); const out = [];
    for (let i = 0; i < ${rounds}; i++) { const t = performance.now();
      argon2id(new TextEncoder().encode('abandon ability able about above absent absorb round' + i), new TextEncoder().encode('awaaz/v1/survivor/AAAAAAAAAAAAAAAAAAAAAA'), { m: ${params.m}, t: ${params.t}, p: ${params.p}, dkLen: 32 });
      out.push(performance.now() - t); }
    console.log(JSON.stringify(out));`;
  const run = spawnSync(process.execPath, ['--jitless', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`node --jitless: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as number[];
}

interface Target {
  name: string;
  open(url: string): Promise<{ run(job: Job): Promise<JobResult>; close(): Promise<void> }>;
}

const targets = (chromiumPath: string): Target[] => [
  {
    name: 'Chromium',
    async open(url) {
      const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
      const page = await browser.newPage();
      await page.goto(url);
      return { run: (job) => collect(page, job), close: () => browser.close() };
    },
  },
  ...(['standard', 'safer'] as TorLevel[]).map((level): Target => ({
    name: `Firefox ESR, Tor ${level === 'standard' ? 'Standard' : 'Safer'}`,
    async open(url) {
      const browser = await launchFirefox(level);
      const page = await browser.newPage();
      await page.goto(url, { waitUntil: 'load' });
      return { run: (job) => collect(page as unknown as Evaluator, job), close: () => browser.close() };
    },
  })),
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const paramsLabel = (p: Argon2Params) => `${p.m / 1024} MiB, t = ${p.t}`;

async function main(): Promise<void> {
  const k = knobs();
  setTimeout(() => {
    console.error(`bench:kdf: gave up after ${k.timeoutSeconds} s (BENCH_TIMEOUT_SECONDS)`);
    process.exit(2);
  }, k.timeoutSeconds * 1000).unref();
  if (!fs.existsSync(k.chromium)) throw new Error(`no Chromium at ${k.chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);
  if (!FIREFOX) throw new Error('no Firefox ESR (apt-get install firefox-esr, or set FIREFOX_PATH)');

  const jobs: { label: string; job: Job; budget?: boolean }[] = [
    { label: `survivor (${paramsLabel(SURVIVOR_KDF)})`, job: { kind: 'argon2', params: SURVIVOR_KDF, rounds: k.rounds }, budget: true },
    ...(k.staffRounds > 0
      ? [
          {
            label: `staff, new records (${paramsLabel(STAFF_KDF)})`,
            job: { kind: 'argon2', params: STAFF_KDF, rounds: k.staffRounds } as Job,
          },
          {
            label: `staff, older records (${paramsLabel(LEGACY_STAFF_KDF)})`,
            job: { kind: 'argon2', params: LEGACY_STAFF_KDF, rounds: k.staffRounds } as Job,
          },
        ]
      : []),
    ...(k.powRounds > 0
      ? [{ label: `proof of work (${k.powBits} bits)`, job: { kind: 'pow', bits: k.powBits, rounds: k.powRounds } as Job }]
      : []),
  ];

  console.log(
    `bench:kdf: argon2id as the pages run it (client/lib/kdf.ts), in the built /share page; ${k.rounds} survivor rounds, ${k.staffRounds} per staff setting, ${k.powRounds} proofs of work; ${os.availableParallelism()} CPUs, load average ${os.loadavg()[0].toFixed(1)}`,
  );
  const server = await startServer();
  const results = new Map<string, Map<string, JobResult>>();
  try {
    for (const target of targets(k.chromium)) {
      const session = await target.open(`${server.url}/share`);
      try {
        const row = new Map<string, JobResult>();
        for (const { label, job } of jobs) {
          const r = await session.run(job);
          row.set(label, r);
          console.log(
            `  ${target.name}: ${label}: ${r.ms.map(seconds).join(', ')} (${r.engine}; main thread paused at most ${Math.round(r.stallMs)} ms)`,
          );
        }
        results.set(target.name, row);
      } finally {
        await session.close();
      }
    }
  } finally {
    await server.stop();
  }

  const names = [...results.keys()];
  const width = 44;
  console.log(`\nmedian time (engine; longest main-thread pause)\n${''.padEnd(width)}${names.map((n) => n.padEnd(36)).join('')}`);
  for (const { label } of jobs) {
    const cells = names.map((n) => {
      const r = results.get(n)!.get(label)!;
      return `${seconds(median(r.ms))} (${r.engine}; ${Math.round(r.stallMs)} ms)`.padEnd(36);
    });
    console.log(`${label.padEnd(width)}${cells.join('')}`);
  }
  const reference = jitlessNodeMs(SURVIVOR_KDF, k.rounds);
  console.log(
    `\nreference, same run: the same pure-JavaScript argon2id in Node --jitless, ${jobs[0].label}: ${reference.map(seconds).join(', ')} (median ${seconds(median(reference))})`,
  );
  const safer = results.get('Firefox ESR, Tor Safer')!.get(jobs[0].label)!;
  const saferMedian = median(safer.ms) / 1000;
  console.log(`load average at the end: ${os.loadavg()[0].toFixed(1)} (the machine's other work slows every figure alike)`);
  console.log(
    `\nbudget: survivor key derivation at Tor Browser Safer <= ${BUDGET_SAFER_SECONDS} s: ${saferMedian <= BUDGET_SAFER_SECONDS ? 'met' : 'MISSED'} (median ${saferMedian.toFixed(2)} s, first ${(safer.ms[0] / 1000).toFixed(2)} s with the Worker script's fetch)`,
  );
}

main().catch((e) => {
  console.error(`bench:kdf: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  process.exit(2);
});
