/**
 * RFC 9497's vectors for ristretto255-SHA512 in OPRF mode, recomputed inside Chromium through
 * the same protocol/oprf.ts and @noble/curves the matching escrow's lazy script bundles
 * (test/unit/oprf.test.ts runs them in Node).
 */
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import oprfVectors from '../vectors/oprf-rfc9497.json';
import { describeInBrowser, launchBrowser, ROOT } from './support';

const VECTORS_PAGE = 'http://localhost/oprf-vectors';

describeInBrowser('RFC 9497 OPRF vectors in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  async function runInBrowser(input: unknown): Promise<string[]> {
    const bundle = await build({
      stdin: {
        contents: "import { runOprfVectors } from './test/vectors/oprf-vectors'; (globalThis as any).runOprfVectors = runOprfVectors;",
        resolveDir: ROOT,
        sourcefile: 'oprf-vectors-entry.ts',
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      absWorkingDir: path.resolve(ROOT),
      logLevel: 'silent',
    });
    const page = await browser.newPage();
    try {
      await page.route(VECTORS_PAGE, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>oprf</title>' }),
      );
      await page.goto(VECTORS_PAGE);
      await page.addScriptTag({ content: bundle.outputFiles[0].text });
      return await page.evaluate((v) => (globalThis as any).runOprfVectors(v) as string[], input);
    } finally {
      await page.close();
    }
  }

  test('every vector matches in the browser', async () => {
    expect(await runInBrowser(oprfVectors)).toEqual([]);
  });

  test('an altered vector is reported in the browser too', async () => {
    const altered = JSON.parse(JSON.stringify(oprfVectors));
    altered.vectors[0].evaluationElementHex = '00'.repeat(32);
    const failures = await runInBrowser(altered);
    expect(failures).toEqual([expect.stringMatching(/^Test Vector 1, Batch Size 1: EvaluationElement/)]);
  });
});
