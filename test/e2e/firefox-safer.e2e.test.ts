/**
 * Tor Browser at its Safer security level (Firefox ESR with the preferences Tor Browser sets: no WebAssembly, no JIT):
 * everything a survivor and a moderator do works. See firefox-flows.ts firefoxJourney.
 * And Urdu, which a page fetches on demand (client/lib/i18n.ts), under its integrity hash, in Tor Browser's engine too.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import type { Browser } from 'puppeteer-core';
import { en } from '../../i18n/en';
import { ur } from '../../i18n/ur';
import { firefoxPresent, launchFirefox } from '../support/firefox';
import { firefoxJourney, firefoxPage } from './firefox-flows';
import { ADMIN } from './flows';
import { describeInBrowser, startServer, type RunningServer } from './support';

const describeInFirefox = firefoxPresent() ? describeInBrowser : describe.skip;

describeInFirefox('Tor Browser at Safer, in Firefox ESR', () => {
  firefoxJourney('safer', ADMIN);
});

describeInFirefox('Urdu at Safer, in Firefox ESR', () => {
  let server: RunningServer;
  let firefox: Browser;
  beforeAll(async () => {
    server = await startServer();
    firefox = await launchFirefox('safer');
  });
  afterAll(async () => {
    await firefox?.close();
    await server?.stop();
  });

  test('an English page fetches no Urdu; the switch fetches it under its hash and applies it; the next page opens in Urdu', async () => {
    const problems: string[] = [];
    const { context, page } = await firefoxPage(firefox, problems);
    const catalogRequests: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/assets/catalog-')) catalogRequests.push(new URL(req.url()).pathname);
    });
    const state = async () =>
      (await page.evaluate(
        "({ lang: document.documentElement.lang, dir: document.documentElement.dir, pending: document.documentElement.classList.contains('i18n-pending'), h1: document.querySelector('h1').textContent.trim(), stored: localStorage.getItem('awaaz.lang') })",
      )) as { lang: string; dir: string; pending: boolean; h1: string; stored: string | null };

    await page.bringToFront();
    await page.goto(`${server.url}/safety`);
    expect(await state()).toEqual({ lang: 'en', dir: 'ltr', pending: false, h1: en['safety.heading'], stored: null });
    expect(catalogRequests).toEqual([]);

    await page.locator('#lang-switch').click();
    await page.waitForSelector('html[lang="ur"] #lang-switch:not([aria-busy])');
    expect(await state()).toEqual({ lang: 'ur', dir: 'rtl', pending: false, h1: ur['safety.heading'], stored: 'ur' });
    expect(catalogRequests).toEqual(['/assets/catalog-ur.js']);

    await page.goto(`${server.url}/return`);
    expect(await state()).toEqual({ lang: 'ur', dir: 'rtl', pending: false, h1: ur['return.loginHeading'], stored: 'ur' });
    expect(await page.$eval('#lang-switch', (e) => e.textContent?.trim())).toBe('English');
    await context.close();
    expect(problems).toEqual([]);
  });
});
