/**
 * First visit of /share and /return on a slow link (DESIGN.md budget: at most 3 s with about
 * 400 kbps down and up, 400 ms round trip and a CPU four times slower), in Chromium, with the
 * pages sent compressed (as served) and, side by side in the same run, uncompressed.
 *
 *   npm run bench:first-visit          (builds, then runs dist/bench/first-visit.js)
 *
 * One app (createApp on a fresh SQLite file, the built pages of dist/client, a first admin set
 * up so that the keyset is there) behind three listeners on 127.0.0.1 that differ only in the
 * Accept-Encoding the app sees (a browser cannot be told what to send): "plain" removes it, so
 * the same server sends the plain bytes; "gzip" offers gzip only, as browsers do over http
 * (an onion service); "br" passes Chromium's own header through (it offers br here, 127.0.0.1
 * being a trustworthy origin, as it does over https). Each visit is a fresh browser context
 * (nothing cached, no cookie, no storage: a first visit) with the link and the CPU slowed down
 * through CDP (Network.emulateNetworkConditions, Emulation.setCPUThrottlingRate), and measures
 * from the start of navigation to the page being usable:
 *   /share   "Create my codename" enabled (scripts run, keyset fetched and its signature checked)
 *   /return  the sign-in form shown in the page's language, its scripts run (load event)
 * The bytes each side put on the wire are printed too, with what the built files weigh. Rounds
 * alternate the order of the sides. Exit status: 0 after a measurement
 * (whether or not the budget is met), 2 on a setup error. Knobs: see bench/README.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createApp } from '../server/app';
import { loadConfig } from '../server/config';
import { migrate, openDatabase } from '../server/db/database';
import { issueSetupLink } from '../server/setup-link';
import { CHROMIUM_ARGS } from '../test/support/awaaz-server';
import { intEnv } from './lib/env';
import { setupAdmin } from './lib/fixtures';

const ROOT = path.resolve(__dirname, '../..');
const CLIENT_DIR = path.join(ROOT, 'dist/client');
const BUDGET_MS = 3000;

const knobs = () => ({
  rounds: intEnv('BENCH_ROUNDS', 3, 1),
  kbps: intEnv('BENCH_KBPS', 400, 1),
  rttMs: intEnv('BENCH_RTT_MS', 400, 0),
  cpuSlowdown: intEnv('BENCH_CPU_SLOWDOWN', 4, 1),
  timeoutSeconds: intEnv('BENCH_TIMEOUT_SECONDS', 300, 10),
  chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
});

const ROUTES = ['/share', '/return'];

/**
 * Whether the page is usable yet (runs in the page; a function, not a string, because the
 * page's CSP refuses eval). /share: "Create my codename" enabled; /return: the sign-in form
 * shown in the page's language. Both: the load event has passed.
 */
function ready(route: string): boolean {
  const doc = (
    globalThis as unknown as {
      document: {
        readyState: string;
        documentElement: { classList: { contains(c: string): boolean } };
        getElementById(id: string): { disabled?: boolean; offsetParent: unknown } | null;
      };
    }
  ).document;
  if (doc.readyState !== 'complete' || doc.documentElement.classList.contains('i18n-pending')) return false;
  if (route === '/share') {
    const button = doc.getElementById('make-codename');
    return !!button && !button.disabled;
  }
  const form = doc.getElementById('login-form');
  return !!form && form.offsetParent !== null;
}
/**
 * How each listener rewrites Accept-Encoding before the app sees it: "plain" removes it (no
 * compression); "gzip" says what a browser says over http to a host that is not local (an
 * onion service): no br; "br" leaves Chromium's own header (it offers br to 127.0.0.1, a
 * trustworthy origin, as over https).
 */
const SIDES = { plain: undefined, gzip: 'gzip, deflate', br: null } as const;
type Side = keyof typeof SIDES;

interface Visit {
  ms: number;
  /** bytes received for the page and what it loaded, as they came over the wire (headers included) */
  wireBytes: number;
  encodings: Set<string>;
  urls: string[];
}

async function visit(browser: Browser, base: string, route: string, k: ReturnType<typeof knobs>): Promise<Visit> {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const bytesPerSecond = (k.kbps * 1000) / 8;
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: k.rttMs,
      downloadThroughput: bytesPerSecond,
      uploadThroughput: bytesPerSecond,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: k.cpuSlowdown });
    let wireBytes = 0;
    const encodings = new Set<string>();
    const urls: string[] = [];
    cdp.on('Network.loadingFinished', (e) => (wireBytes += e.encodedDataLength));
    cdp.on('Network.responseReceived', (e) => {
      urls.push(new URL(e.response.url).pathname);
      const enc = Object.entries(e.response.headers).find(([h]) => h.toLowerCase() === 'content-encoding')?.[1];
      if (/\.(js|css)$|^\/(share|return)$/.test(new URL(e.response.url).pathname)) encodings.add(String(enc ?? 'none'));
    });
    await page.goto(base + route, { waitUntil: 'commit' });
    await page.waitForFunction(ready, route, { polling: 'raf', timeout: 120_000 });
    // Time since the navigation started, by the page's own clock (not this process's).
    const ms = await page.evaluate<number>('performance.now()');
    return { ms, wireBytes, encodings, urls };
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** What the files a visit loaded weigh on disk, plain and as each built copy (br is not offered over http). */
function builtWeights(urls: string[]): { plain: number; gzip: number; br: number } {
  const out = { plain: 0, gzip: 0, br: 0 };
  for (const url of new Set(urls)) {
    const file = url.startsWith('/assets/') ? path.join(CLIENT_DIR, url) : path.join(CLIENT_DIR, `${url.slice(1)}.html`);
    if (!fs.existsSync(file)) continue;
    const size = fs.statSync(file).size;
    out.plain += size;
    out.gzip += fs.existsSync(`${file}.gz`) ? fs.statSync(`${file}.gz`).size : size;
    out.br += fs.existsSync(`${file}.br`) ? fs.statSync(`${file}.br`).size : size;
  }
  return out;
}

async function main(): Promise<void> {
  const k = knobs();
  setTimeout(() => {
    console.error(`bench:first-visit: gave up after ${k.timeoutSeconds} s (BENCH_TIMEOUT_SECONDS)`);
    process.exit(2);
  }, k.timeoutSeconds * 1000).unref();
  if (!fs.existsSync(k.chromium)) {
    console.error(`bench:first-visit: no Chromium at ${k.chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);
    process.exit(2);
  }
  if (!fs.existsSync(path.join(CLIENT_DIR, 'share.html.gz'))) {
    console.error('bench:first-visit: dist/client has no compressed pages: run `npm run build` first');
    process.exit(2);
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-bench-first-visit-'));
  const config = loadConfig({ DATA_DIR: dir, POW_BITS: '0', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_SENSITIVE_PER_MINUTE: '1000000' });
  const db = openDatabase(config.database);
  await migrate(db);
  const { app, ctx } = await createApp({ db, config, clientDir: CLIENT_DIR, log: () => undefined });
  const listen = (side: Side) =>
    new Promise<http.Server>((resolve) => {
      const server = http.createServer((req, res) => {
        const accept = SIDES[side];
        if (accept === undefined) delete req.headers['accept-encoding'];
        else if (accept !== null) req.headers['accept-encoding'] = accept;
        app(req, res);
      });
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  const servers: Record<Side, http.Server> = { plain: await listen('plain'), gzip: await listen('gzip'), br: await listen('br') };
  const base = (side: Side) => `http://127.0.0.1:${(servers[side].address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: k.chromium, args: CHROMIUM_ARGS });
  try {
    const token = (await issueSetupLink(ctx.repos.instance, base('br'), ctx.clock)).url.split('#')[1];
    await setupAdmin(base('br'), ctx.instanceId, token, ['admin', 'moderator']);
    const version = browser.version();
    console.log(
      `bench:first-visit: ${k.kbps} kbps down and up, ${k.rttMs} ms round trip, CPU ${k.cpuSlowdown}x slower, ${k.rounds} rounds; Chromium ${version}; ${os.availableParallelism()} CPUs, load average ${os.loadavg()[0].toFixed(1)}`,
    );

    const results = new Map<string, Visit[]>();
    for (let round = 0; round < k.rounds; round++) {
      const sides = Object.keys(SIDES) as Side[];
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const route of ROUTES) {
        for (const side of order) {
          const v = await visit(browser, base(side), route, k);
          const key = `${route} ${side}`;
          results.set(key, [...(results.get(key) ?? []), v]);
          console.log(
            `round ${round + 1}  ${route.padEnd(8)} ${side.padEnd(6)} ${(v.ms / 1000).toFixed(2)} s   ${kb(v.wireBytes).padStart(9)} on the wire   content-encoding: ${[...v.encodings].join(', ')}`,
          );
        }
      }
    }

    console.log('\nmedian of the rounds: first visit until usable, and the bytes on the wire (headers included)');
    console.log(
      'page      plain (no compression)   gzip (http, onion)       br (https)               gzip/plain   built files: plain / gzip / br',
    );
    let met = true;
    for (const route of ROUTES) {
      const m = (side: Side) => {
        const visits = results.get(`${route} ${side}`)!;
        return { ms: median(visits.map((v) => v.ms)), bytes: median(visits.map((v) => v.wireBytes)), urls: visits[0].urls };
      };
      const [plain, gzip, br] = [m('plain'), m('gzip'), m('br')];
      const w = builtWeights(br.urls);
      met &&= gzip.ms <= BUDGET_MS && br.ms <= BUDGET_MS;
      const cell = (x: { ms: number; bytes: number }) => `${(x.ms / 1000).toFixed(2)} s, ${kb(x.bytes).padStart(8)}`.padEnd(25);
      console.log(
        `${route.padEnd(9)} ${cell(plain)}${cell(gzip)}${cell(br)}${(gzip.ms / plain.ms).toFixed(2).padEnd(13)}${kb(w.plain)} / ${kb(w.gzip)} / ${kb(w.br)}`,
      );
    }
    console.log(
      `\nbudget: first visit of /share and /return at most ${BUDGET_MS / 1000} s on this link, compressed (gzip and br): ${met ? 'met' : 'MISSED'}`,
    );
  } finally {
    await browser.close();
    for (const s of Object.values(servers)) s.close();
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(2);
});
