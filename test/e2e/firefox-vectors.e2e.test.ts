/**
 * WebCrypto and tweetnacl give the same bytes in Firefox ESR (Tor Browser's engine), at Tor
 * Browser's Standard and Safer levels (Safer turns off the JIT and WebAssembly, not WebCrypto):
 * test/vectors/provider-vectors.ts, bundled as the pages bundle protocol/, runs in a page.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'puppeteer-core';
import publishingVectors from '../vectors/publishing-v1.json';
import { firefoxPresent, launchFirefox, type TorLevel } from '../support/firefox';
import { describeInBrowser, ROOT } from './support';

const describeInFirefox = firefoxPresent() ? describeInBrowser : describe.skip;

async function bundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents:
        "import { runProviderVectors } from './test/vectors/provider-vectors'; (globalThis as any).runProviderVectors = runProviderVectors;",
      resolveDir: ROOT,
      sourcefile: 'provider-vectors-entry.ts',
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

describeInFirefox('crypto provider vectors in Firefox ESR', () => {
  // A blank page on localhost: a secure context (WebCrypto) with no CSP, so the test can add its script.
  let server: http.Server;
  let url: string;
  let script: string;
  beforeAll(async () => {
    script = await bundle();
    server = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>vectors</title>'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://localhost:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const level of ['standard', 'safer'] as TorLevel[]) {
    test(`at ${level}: WebCrypto Ed25519/X25519 is detected and gives the vectors' bytes, as tweetnacl does`, async () => {
      let firefox: Browser | undefined;
      try {
        firefox = await launchFirefox(level);
        const page = await firefox.newPage();
        await page.goto(url);
        await page.addScriptTag({ content: script });
        const report = await page.evaluate((v) => (globalThis as any).runProviderVectors(v, 8) as unknown, publishingVectors);
        expect(report).toEqual({ detected: 'webcrypto', webCryptoSelfTest: true, failures: [] });
        // Safer really is without WebAssembly (and so without the JIT that comes with it here).
        expect(await page.evaluate('typeof WebAssembly')).toBe(level === 'safer' ? 'undefined' : 'object');
      } finally {
        await firefox?.close();
      }
    });
  }
});
