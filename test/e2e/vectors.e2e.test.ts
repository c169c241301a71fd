/**
 * The protocol's known-answer vectors, recomputed inside Chromium with the same protocol/
 * code the pages bundle: the browser's hash-wasm argon2id, tweetnacl and TextEncoder must
 * give the bytes Node gives (test/unit/browser-vectors.test.ts runs the same check in Node).
 */
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import vectors from '../vectors/protocol-v1.json';
import { describeInBrowser, launchBrowser, ROOT } from './support';

describeInBrowser('protocol vectors in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  async function bundle(): Promise<string> {
    const result = await build({
      stdin: {
        contents: "import { runProtocolVectors } from './test/vectors/browser-vectors'; (globalThis as any).runProtocolVectors = runProtocolVectors;",
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

  async function runInBrowser(input: unknown): Promise<string[]> {
    const page = await browser.newPage();
    try {
      await page.goto('about:blank');
      await page.addScriptTag({ content: await bundle() });
      return await page.evaluate((v) => (globalThis as any).runProtocolVectors(v), input);
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
    const failures = await runInBrowser(altered);
    expect(failures.some((f) => f.startsWith('staffKdf.authKey'))).toBe(true);
  });
});
