/**
 * The protocol's known-answer vectors, recomputed inside Chromium with the same protocol/
 * code the pages bundle: the browser's hash-wasm argon2id, tweetnacl, WebCrypto SHA-256 and
 * TextEncoder must give the bytes Node gives (test/unit/browser-vectors.test.ts,
 * test/unit/publishing-vectors.test.ts and test/unit/grants-v2-vectors.test.ts run the same
 * checks in Node).
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import vectors from '../vectors/protocol-v1.json';
import publishingVectors from '../vectors/publishing-v1.json';
import grantVectors from '../vectors/grants-v2.json';
import { describeInBrowser, launchBrowser, ROOT } from './support';

const VECTORS_PAGE = 'http://localhost/vectors';

describeInBrowser('protocol vectors in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  async function bundle(): Promise<string> {
    const result = await build({
      stdin: {
        contents:
          "import { runProtocolVectors } from './test/vectors/browser-vectors'; import { runPublishingVectors } from './test/vectors/publishing-vectors';" +
          " import { runProviderVectors } from './test/vectors/provider-vectors';" +
          " import { runGrantVectors } from './test/vectors/grants-v2-vectors'; import { cryptoProvider } from './protocol/crypto-provider';" +
          ' (globalThis as any).runGrantVectors = async (v: unknown) => { const provider = await cryptoProvider();' +
          ' return { provider: provider.name, sync: await runGrantVectors(v), async: await runGrantVectors(v, provider) }; };' +
          ' (globalThis as any).runProtocolVectors = runProtocolVectors; (globalThis as any).runPublishingVectors = runPublishingVectors;' +
          ' (globalThis as any).runProviderVectors = runProviderVectors;',
        resolveDir: ROOT,
        sourcefile: 'vectors-entry.ts',
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      external: ['crypto'],
      write: false,
      absWorkingDir: path.resolve(ROOT),
      logLevel: 'silent',
    });
    return result.outputFiles[0].text;
  }

  async function runInBrowser(
    input: unknown,
    runner: 'runProtocolVectors' | 'runPublishingVectors' | 'runProviderVectors' | 'runGrantVectors' = 'runProtocolVectors',
  ): Promise<any> {
    const page = await browser.newPage();
    try {
      // A secure context, as the pages have, for WebCrypto's SHA-256 (about:blank has none here).
      // The route answers inside the browser: nothing listens on that address.
      await page.route(VECTORS_PAGE, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>vectors</title>' }),
      );
      await page.goto(VECTORS_PAGE);
      await page.addScriptTag({ content: await bundle() });
      return await page.evaluate(([v, name]) => (globalThis as any)[name](v) as unknown, [input, runner] as const);
    } finally {
      await page.close();
    }
  }

  test('every vector matches in the browser', async () => {
    expect(await runInBrowser(vectors)).toEqual([]);
  });

  test('an altered vector is reported in the browser too', async () => {
    const altered = JSON.parse(JSON.stringify(vectors));
    altered.staffKdf.authKeyHex = '00'.repeat(32);
    const failures = (await runInBrowser(altered)) as string[];
    expect(failures.some((f) => f.startsWith('staffKdf.authKey'))).toBe(true);
  });

  test('every publishing and signing vector matches in the browser', async () => {
    expect(await runInBrowser(publishingVectors, 'runPublishingVectors')).toEqual([]);
  });

  test('WebCrypto Ed25519/X25519 is detected, and gives the same bytes as tweetnacl (vectors, RFC answers, random operations)', async () => {
    expect(await runInBrowser(publishingVectors, 'runProviderVectors')).toEqual({
      detected: 'webcrypto',
      webCryptoSelfTest: true,
      failures: [],
    });
  });

  test('every key grants v2 vector matches in the browser, with tweetnacl and with WebCrypto', async () => {
    expect(await runInBrowser(grantVectors, 'runGrantVectors')).toEqual({ provider: 'webcrypto', sync: [], async: [] });
  });

  test('an altered publishing vector is reported in the browser too', async () => {
    const altered = JSON.parse(JSON.stringify(publishingVectors));
    altered.story.textHash = altered.story.textHash.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'));
    altered.consent.sig = altered.consent.sig.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'));
    const failures = await runInBrowser(altered, 'runPublishingVectors');
    expect(failures).toEqual(expect.arrayContaining([expect.stringMatching(/^story\.textHash/), expect.stringMatching(/^consent\.sig/)]));
  });
});
