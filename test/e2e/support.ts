/**
 * Browser test support: a real Awaaz server process (dist/server/main.js, as `npm start` runs
 * it) on a temporary SQLite file, or on PostgreSQL when TEST_DATABASE_URL is set
 * (test/support/awaaz-server.ts), and a real Chromium driven by playwright-core. A test reads
 * the server's database with `server.openDb()` and what a copy of it holds with
 * `server.storedBytes()`, on either engine.
 * Under CI a missing Chromium fails the run; locally the browser tests are skipped with a
 * loud message.
 */
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../support/awaaz-server';

export { ROOT, startServer, type RunningServer } from '../support/awaaz-server';

const CHROMIUM_CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
export const CHROMIUM = CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p));

if (!CHROMIUM) {
  if (process.env.CI)
    throw new Error('Chromium is required for the browser tests in CI: apt-get install -y chromium (or set CHROMIUM_PATH)');
  console.warn(
    '\n!!! BROWSER TESTS SKIPPED: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH). CI fails without it. !!!\n',
  );
}

/** `describe` when Chromium is here; a loudly announced skip otherwise (never under CI, see above). */
export const describeInBrowser = CHROMIUM ? describe : describe.skip;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
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

export async function newGuardedPage(
  browser: Browser,
  problems: string[],
): Promise<{ context: BrowserContext; page: Page; sent: SentRequest[] }> {
  const context = await browser.newContext();
  const sent = recordRequests(context);
  const page = await context.newPage();
  await guardPage(page, problems);
  return { context, page, sent };
}

/**
 * Presses a survivor page's language switch and waits until the page is in that language: a
 * language other than English has its catalog fetched on demand (client/lib/i18n.ts), so the
 * switch completes once that small script has arrived, not within the click.
 */
export async function switchLanguage(page: Page, to: 'en' | 'ur'): Promise<void> {
  await page.getByRole('button', { name: to === 'ur' ? 'اردو' : 'English' }).click();
  // Selectors, not a function: the pages' CSP forbids the eval that waitForFunction would need.
  await page.locator(`html[lang="${to}"] #lang-switch:not([aria-busy])`).waitFor({ state: 'attached' });
}
