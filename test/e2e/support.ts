/**
 * Browser test support: a real Awaaz server process (dist/server/main.js, as `npm start` runs
 * it) on a temporary SQLite file, and a real Chromium driven by playwright-core.
 * Under CI a missing Chromium fails the run; locally the browser tests are skipped with a
 * loud message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM_CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
export const CHROMIUM = CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p));

if (!CHROMIUM) {
  if (process.env.CI) throw new Error('Chromium is required for the browser tests in CI: apt-get install -y chromium (or set CHROMIUM_PATH)');
  console.warn('\n!!! BROWSER TESTS SKIPPED: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH). CI fails without it. !!!\n');
}

/** `describe` when Chromium is here; a loudly announced skip otherwise (never under CI, see above). */
export const describeInBrowser = CHROMIUM ? describe : describe.skip;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface RunningServer {
  url: string;
  setupLink: string;
  dataDir: string;
  dbFile: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts the built server the way `npm start` does and waits for its setup link. */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const main = path.join(ROOT, 'dist/server/main.js');
  if (!fs.existsSync(main)) throw new Error('dist/server/main.js is missing: run `npm run build` first');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-e2e-'));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, DATA_DIR: dataDir, POW_BITS: '8', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const setupLink = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print a setup link:\n${out}`)), 20_000);
    const check = () => {
      const m = /(http:\/\/\S+\/setup#\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    setupLink,
    dataDir,
    dbFile: path.join(dataDir, 'awaaz.sqlite3'),
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects CSP violations and page errors; a test asserts the list stays empty. */
export async function guardPage(page: Page, problems: string[]): Promise<void> {
  // Runs in the page (a string, so this Node-side file needs no DOM types).
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && /CSP violation|Content Security Policy|Refused to/i.test(text)) problems.push(text);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
}

export interface SentRequest {
  url: string;
  method: string;
  body: string;
}

/** Records every request a context sends (URL, method, body). */
export function recordRequests(context: BrowserContext): SentRequest[] {
  const sent: SentRequest[] = [];
  context.on('request', (req) => sent.push({ url: req.url(), method: req.method(), body: req.postData() ?? '' }));
  return sent;
}

export async function newGuardedPage(browser: Browser, problems: string[]): Promise<{ context: BrowserContext; page: Page; sent: SentRequest[] }> {
  const context = await browser.newContext();
  const sent = recordRequests(context);
  const page = await context.newPage();
  await guardPage(page, problems);
  return { context, page, sent };
}

/** The SQLite file and its write-ahead log, as raw bytes (test/support/database-files.ts, shared with the integration tests). */
export { databaseBytes } from '../support/database-files';
