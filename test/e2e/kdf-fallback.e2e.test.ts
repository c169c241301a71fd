/**
 * Key derivation where WebAssembly is missing (issue 11). A codename made in one browser must
 * open in any other, so the pure-JavaScript argon2id that the pages run in a Worker (Tor
 * Browser's Safer level) must give the bytes of hash-wasm's, and of the protocol vector
 * (computed with the native argon2 package). Checked in the built /share page, with the code
 * the survivor-crypto layer exposes: in Chromium, and in Firefox ESR (Tor Browser's engine) at
 * Standard and at Safer, where the page must really take the Worker path. The worker script is
 * fetched under its integrity hash, so tampered bytes never run, and the CSP lets only blob:
 * workers start.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import type { Browser as ChromiumBrowser } from 'playwright-core';
import type { Browser as FirefoxBrowser } from 'puppeteer-core';
import vectors from '../vectors/protocol-v1.json';
import { firefoxPresent, launchFirefox, type TorLevel } from '../support/firefox';
import { describeInBrowser, guardPage, launchBrowser, startServer, type RunningServer } from './support';

const WORKER = '/assets/kdf-worker.js';

interface KdfProbe {
  /** what the page sees */
  webAssembly: boolean;
  /** the engine the pages use (browserArgon2), then each engine alone */
  page: string;
  worker: string;
  wasm: string | null;
  signPk: string;
  /** resource loads of the worker script so far, after the page's own derivation and after all */
  workerLoadsAfterPage: number;
  workerLoads: number;
  /** a proof of work solved the way the page solves it, and checked */
  powValid: boolean;
}

/**
 * Runs in the page (serialized by the driver): derives the survivor vector's master with the
 * page's engine first, then with the Worker and, where there is WebAssembly, with hash-wasm.
 */
async function probeKdf(v: { codename: string; instanceId: string }): Promise<KdfProbe> {
  const core = (globalThis as any).AwaazCore;
  const kdf = core['client/lib/kdf.ts'];
  const protocol = core['protocol/kdf.ts'];
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const b64url = (b: Uint8Array) =>
    btoa(String.fromCharCode(...b))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  const loads = () => performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/assets/kdf-worker.js').length;
  const pageMaster: Uint8Array = await protocol.survivorMaster(v.codename, v.instanceId, kdf.browserArgon2);
  const workerLoadsAfterPage = loads();
  const signPk = b64url(protocol.survivorKeyPairs(pageMaster).sign.publicKey);
  const worker: Uint8Array = await protocol.survivorMaster(v.codename, v.instanceId, kdf.workerArgon2);
  const webAssembly: boolean = kdf.hasWebAssembly();
  const wasm: Uint8Array | null = webAssembly ? await protocol.survivorMaster(v.codename, v.instanceId, protocol.wasmArgon2) : null;
  const challenge = 'kdf-fallback-e2e-challenge';
  const nonce: number = await kdf.browserSolvePow(challenge, 10);
  const powValid: boolean = core['protocol/pow.ts'].checkPow(challenge, nonce, 10);
  return {
    webAssembly,
    page: hex(pageMaster),
    worker: hex(worker),
    wasm: wasm && hex(wasm),
    signPk,
    workerLoadsAfterPage,
    workerLoads: loads(),
    powValid,
  };
}

const survivor = { codename: vectors.survivorKdf.codename, instanceId: vectors.survivorKdf.instanceId };

function expectSameKeys(probe: KdfProbe): void {
  expect(probe.page).toBe(vectors.survivorKdf.masterHex);
  expect(probe.worker).toBe(vectors.survivorKdf.masterHex);
  expect(probe.signPk).toBe(vectors.survivorKdf.signPk);
  expect(probe.powValid).toBe(true);
}

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

describeInBrowser('key derivation engines in Chromium', () => {
  let browser: ChromiumBrowser;
  const problems: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());
  afterEach(() => expect(problems).toEqual([]));

  test('hash-wasm on the page and the pure-JavaScript argon2id in the Worker give the vector; the Worker script loads only when asked for', async () => {
    const page = await browser.newPage();
    await guardPage(page, problems);
    await page.goto(`${server.url}/share`);
    const probe = await page.evaluate(probeKdf, survivor);
    expect(probe.webAssembly).toBe(true);
    expect(probe.wasm).toBe(vectors.survivorKdf.masterHex);
    expectSameKeys(probe);
    // With WebAssembly the page never fetches the fallback; the explicit Worker call fetches it once.
    expect(probe.workerLoadsAfterPage).toBe(0);
    expect(probe.workerLoads).toBe(1);
    await page.close();
  });

  test('a Worker script that fails its integrity check never runs: the derivation is refused', async () => {
    const page = await browser.newPage();
    page.on('console', () => undefined);
    await page.route(`**${WORKER}`, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/javascript',
        body: 'onmessage = () => postMessage({ ok: true, key: new Uint8Array(32) });',
      }),
    );
    await page.goto(`${server.url}/share`);
    const outcome = await page.evaluate(async (v) => {
      const core = (globalThis as any).AwaazCore;
      try {
        await core['protocol/kdf.ts'].survivorMaster(v.codename, v.instanceId, core['client/lib/kdf.ts'].workerArgon2);
        return 'derived';
      } catch (e) {
        return `refused: ${e instanceof Error ? e.name : String(e)}`;
      }
    }, survivor);
    expect(outcome).toMatch(/^refused/);
    await page.close();
  });

  test('the CSP lets a worker start only from a blob: URL, not from a script address', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/share`);
    // In the page (a string: this Node-side file has no DOM types).
    const violation = await page.evaluate(`new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective));
      setTimeout(() => resolve('no violation: the worker was allowed'), 5000);
      try {
        new Worker('${WORKER}');
      } catch (e) {
        resolve('threw ' + e.name);
      }
    })`);
    expect(violation).toMatch(/worker-src|threw SecurityError/);
    await page.close();
  });
});

const describeInFirefox = firefoxPresent() ? describe : describe.skip;

describeInFirefox.each(['standard', 'safer'] as TorLevel[])('key derivation in Firefox ESR at Tor Browser %s', (level) => {
  let browser: FirefoxBrowser;
  beforeAll(async () => {
    browser = await launchFirefox(level);
  }, 60_000);
  afterAll(() => browser?.close());

  test(
    level === 'safer'
      ? 'without WebAssembly the page derives the keys in the Worker, and they are the vector'
      : 'hash-wasm and the Worker both give the vector; the page uses hash-wasm',
    async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.url}/share`, { waitUntil: 'load' });
      const probe = await page.evaluate(probeKdf, survivor);
      expectSameKeys(probe);
      if (level === 'safer') {
        expect(probe.webAssembly).toBe(false);
        expect(await page.evaluate('typeof WebAssembly')).toBe('undefined');
        expect(probe.wasm).toBeNull();
        // The page's own derivation went through the fetched Worker script (fetched once, then reused).
        expect(probe.workerLoadsAfterPage).toBe(1);
      } else {
        expect(probe.webAssembly).toBe(true);
        expect(probe.wasm).toBe(vectors.survivorKdf.masterHex);
        expect(probe.workerLoadsAfterPage).toBe(0);
        expect(probe.workerLoads).toBe(1);
      }
      expect(errors).toEqual([]);
      await page.close();
    },
    240_000,
  );
});
