/**
 * Evidence encryption speed in the browser (issue 5): encrypting and decrypting a 25 MB file
 * in Chromium must each run at 30 MB/s or more. Printed beside a baseline measured in the same
 * page on the same bytes: one nacl.secretbox over the whole file, which is as fast as tweetnacl
 * goes and what record-by-record sealing costs against.
 *
 *   npm run bench:attachments          (builds, then runs dist/bench/attachments.js)
 *
 * Bundles bench/lib/attachments-page.ts (the client's own record functions) with esbuild,
 * serves it from 127.0.0.1, and runs it in Chromium (playwright-core, /usr/bin/chromium or
 * CHROMIUM_PATH, a fresh user-data directory, the flags the e2e tests use). MB = 10^6 bytes.
 * Exit status: 0 after a measurement (whether or not the budget is met), 2 on a setup error.
 * Knobs (environment): see bench/README.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { RoundTimes } from './lib/attachments-page';
import { CHROMIUM_ARGS } from '../test/support/awaaz-server';
import { intEnv } from './lib/env';

const ROOT = path.resolve(__dirname, '../..');
const BUDGET_MB_S = 30;

const knobs = () => ({
  mib: intEnv('BENCH_ATTACHMENT_MIB', 25, 1),
  rounds: intEnv('BENCH_ROUNDS', 5, 1),
  timeoutSeconds: intEnv('BENCH_TIMEOUT_SECONDS', 300, 10),
  chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
});

async function pageScript(): Promise<string> {
  const out = await build({
    absWorkingDir: ROOT,
    entryPoints: ['bench/lib/attachments-page.ts'],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    minify: true, // as the pages are built (scripts/build.mjs)
    external: ['crypto'],
    write: false,
    logLevel: 'warning',
  });
  return out.outputFiles[0].text;
}

function serve(script: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      if (req.url === '/bench.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<!doctype html><title>attachments bench</title><script src="/bench.js"></script>');
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const k = knobs();
  setTimeout(() => {
    console.error(`bench:attachments: gave up after ${k.timeoutSeconds} s (BENCH_TIMEOUT_SECONDS)`);
    process.exit(2);
  }, k.timeoutSeconds * 1000).unref();
  if (!fs.existsSync(k.chromium)) {
    console.error(`bench:attachments: no Chromium at ${k.chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);
    process.exit(2);
  }
  const size = k.mib * 1024 * 1024;
  const server = await serve(await pageScript());
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: k.chromium, args: CHROMIUM_ARGS });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const agent = await page.evaluate<string>('navigator.userAgent');
    console.log(
      `bench:attachments: ${k.mib} MiB (${(size / 1e6).toFixed(1)} MB) of random bytes, ${k.rounds} rounds, in ${/(?:Headless)?Chrome\/[\d.]+/.exec(agent)?.[0] ?? agent}; ${os.availableParallelism()} CPUs`,
    );
    const rounds = await page.evaluate<RoundTimes[]>(`attachmentBench.run(${size}, ${k.rounds})`);

    const mbs = (ms: number) => size / 1e6 / (ms / 1000);
    const fmt = (n: number) => n.toFixed(1).padStart(6);
    console.log('\nround   client encrypt   baseline encrypt   client decrypt   baseline decrypt   (MB/s)');
    rounds.forEach((r, i) =>
      console.log(
        `${String(i + 1).padStart(5)}   ${fmt(mbs(r.clientEncrypt))}           ${fmt(mbs(r.baselineEncrypt))}             ${fmt(mbs(r.clientDecrypt))}           ${fmt(mbs(r.baselineDecrypt))}`,
      ),
    );
    const m = (key: keyof RoundTimes) => mbs(median(rounds.map((r) => r[key])));
    const rows: [string, number, number][] = [
      ['encrypt', m('clientEncrypt'), m('baselineEncrypt')],
      ['decrypt', m('clientDecrypt'), m('baselineDecrypt')],
    ];
    console.log('\nmedian    client, record by record (64 KiB, from a Blob)   baseline, one nacl.secretbox   client/baseline');
    for (const [what, c, b] of rows)
      console.log(`${what.padEnd(9)} ${fmt(c)} MB/s${' '.repeat(37)}${fmt(b)} MB/s${' '.repeat(17)}${(c / b).toFixed(2)}`);
    const met = rows.every(([, c]) => c >= BUDGET_MB_S);
    console.log(`\nbudget >= ${BUDGET_MB_S} MB/s for the client's encrypt and decrypt: ${met ? 'met' : 'MISSED'}`);
  } finally {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(2);
});
