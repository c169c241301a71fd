/**
 * Helpers for the survivor-safety browser tests (i18n, safety, trace, a11y): a neutral
 * "exit" site on 127.0.0.1, the catalogs, and small page probes. The pages run under the
 * app's CSP, so probes are passed as strings (this Node-side file has no DOM types).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { en } from '../../i18n/en';
import { ur } from '../../i18n/ur';

export { en, ur };

/** The survivor pages, by route. */
export const SURVIVOR_ROUTES = ['/', '/share', '/return', '/safety'] as const;
/** Each page's main heading key as it first appears. */
export const HEADING_KEY = {
  '/': 'landing.heading',
  '/share': 'action.share',
  '/return': 'return.loginHeading',
  '/safety': 'safety.heading',
} as const;

/** The Chromium flags of support.ts launchBrowser, for launchPersistentContext. */
export { CHROMIUM_ARGS } from '../support/awaaz-server';

export interface NeutralSite {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

/** A tiny neutral page ("Weather today") on 127.0.0.1, standing in for the quick-exit site. */
export async function neutralSite(): Promise<NeutralSite> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('<!doctype html><html lang="en"><title>Weather</title><h1>Weather today</h1><p>Sunny, 31°.</p></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function htmlLangDir(page: Page): Promise<{ lang: string; dir: string }> {
  return await page.evaluate<{ lang: string; dir: string }>('({ lang: document.documentElement.lang, dir: document.documentElement.dir })');
}

export async function storageOf(page: Page): Promise<{ local: Record<string, string>; session: Record<string, string> }> {
  return await page.evaluate<{ local: Record<string, string>; session: Record<string, string> }>(
    '({ local: Object.fromEntries(Object.entries(localStorage)), session: Object.fromEntries(Object.entries(sessionStorage)) })',
  );
}

/** The fonts Chromium really used to draw an element's text (CDP), e.g. to prove Urdu glyphs are not boxes. */
export async function platformFonts(
  context: BrowserContext,
  page: Page,
  selector: string,
): Promise<{ familyName: string; glyphCount: number }[]> {
  const cdp = await context.newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    return fonts.map((f) => ({ familyName: f.familyName, glyphCount: f.glyphCount }));
  } finally {
    await cdp.detach();
  }
}

/** Where screenshots go for a person to look at (printed by the tests). */
export function screenshotDir(): string {
  const dir = process.env.AWAAZ_SCREENSHOT_DIR ?? path.join(os.tmpdir(), 'awaaz-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  expectPng(png);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function expectPng(png: Buffer): void {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
}

/** A function for locator.evaluate written as a string body (the element is `e`), so no DOM types are needed here. */
export function inPage<T = unknown>(body: string): (e: unknown, arg?: unknown) => T {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the test's own page code, kept a string so this file needs no DOM types
  return new Function('e', 'arg', body) as (e: unknown, arg?: unknown) => T;
}
