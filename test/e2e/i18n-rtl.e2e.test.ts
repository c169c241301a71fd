/**
 * Urdu and English in a real Chromium at 320 px: the switch on every survivor page applies at
 * once (no reload), sets <html lang dir>, is kept in localStorage under one key only, and is
 * honoured on the next page; the layout really is right to left (text starts at the right,
 * the header is mirrored, nothing scrolls sideways); Urdu is drawn with an Arabic-script font
 * (not boxes); Latin data (codename, fingerprint, handle) stays left to right; messages drawn
 * by code change language too. Screenshots of the Urdu pages are written for review.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { setUpFirstAdmin } from './flows';
import { describeInBrowser, guardPage, launchBrowser, startServer, type RunningServer, switchLanguage } from './support';
import {
  en,
  HEADING_KEY,
  htmlLangDir,
  inPage,
  platformFonts,
  pngSize,
  screenshotDir,
  storageOf,
  SURVIVOR_ROUTES,
  ur,
} from './safety-support';

describeInBrowser('Urdu and English, right to left', () => {
  let server: RunningServer;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function narrowPage(
    options: { locale?: string; javaScriptEnabled?: boolean } = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 320, height: 640 }, ...options });
    const page = await context.newPage();
    await guardPage(page, problems);
    return { context, page };
  }

  /** Geometry of the page in its current language. */
  async function layout(page: Page) {
    return await page.evaluate<{
      h1: string;
      title: string;
      mainDirection: string;
      textLeft: number;
      textRight: number;
      contentLeft: number;
      contentRight: number;
      brandX: number;
      exitX: number;
      scrollWidth: number;
      body: string;
    }>(`(() => {
      const h1 = [...document.querySelectorAll('h1')].find((h) => h.offsetParent !== null);
      const range = document.createRange();
      range.selectNodeContents(h1);
      const text = range.getBoundingClientRect();
      const main = document.querySelector('main').getBoundingClientRect();
      const pad = parseFloat(getComputedStyle(document.querySelector('main')).paddingInlineStart);
      return {
        h1: h1.textContent.trim(),
        title: document.title,
        mainDirection: getComputedStyle(document.querySelector('main')).direction,
        textLeft: text.left, textRight: text.right, contentLeft: main.left + pad, contentRight: main.right - pad,
        brandX: document.querySelector('header a.brand').getBoundingClientRect().left,
        exitX: document.querySelector('[data-quick-exit]').getBoundingClientRect().left,
        scrollWidth: document.documentElement.scrollWidth,
        body: document.body.innerText,
      };
    })()`);
  }

  test('every survivor page switches to Urdu without a reload, right to left at 320 px, and back', async () => {
    const { context, page } = await narrowPage();
    await page.goto(server.url + '/');
    expect(await htmlLangDir(page)).toEqual({ lang: 'en', dir: 'ltr' });
    expect((await storageOf(page)).local).toEqual({});
    const english = await layout(page);
    expect(english.h1).toBe(en['landing.heading']);
    // English: text starts at the left edge of the content, the brand is left of Quick exit.
    expect(Math.abs(english.textLeft - english.contentLeft)).toBeLessThan(2);
    expect(english.brandX).toBeLessThan(english.exitX);

    await page.evaluate('window.__sameDocument = true');
    await switchLanguage(page, 'ur');
    expect(await htmlLangDir(page)).toEqual({ lang: 'ur', dir: 'rtl' });
    expect(await page.evaluate('window.__sameDocument')).toBe(true); // no reload
    expect((await storageOf(page)).local).toEqual({ 'awaaz.lang': 'ur' });
    expect(await page.getByRole('button', { name: 'English' }).getAttribute('lang')).toBe('en');

    const dir = screenshotDir();
    for (const route of SURVIVOR_ROUTES) {
      await page.goto(server.url + route);
      expect(await htmlLangDir(page)).toEqual({ lang: 'ur', dir: 'rtl' });
      const l = await layout(page);
      expect({ route, h1: l.h1 }).toEqual({ route, h1: ur[HEADING_KEY[route]] });
      expect(l.title).toMatch(/آواز/);
      expect(l.mainDirection).toBe('rtl');
      // Right to left: text starts at the right edge of the content; the header is mirrored.
      expect({ route, gap: Math.abs(l.textRight - l.contentRight) < 2 }).toEqual({ route, gap: true });
      expect(l.brandX).toBeGreaterThan(l.exitX);
      expect({ route, scrollWidth: l.scrollWidth }).toEqual({ route, scrollWidth: 320 });
      // No placeholder or English sentence leaks into the Urdu page.
      expect(l.body).not.toMatch(/\{\w+\}/);
      const latinWords = l.body.match(/[A-Za-z]{3,}/g) ?? [];
      // Tor Browser has no Urdu interface: its security levels and menus are named as it shows them.
      expect({
        route,
        latin: latinWords.filter(
          (w) => !/^(English|Esc|Incognito|weather|com|onion|Awaaz|Standard|Safer|Safest|Settings|Security|Level)$/i.test(w),
        ),
      }).toEqual({ route, latin: [] });
      // The heading is drawn with an Arabic-script font, so real glyphs (not boxes) are on screen.
      const fonts = await platformFonts(context, page, 'h1');
      expect(fonts.length).toBeGreaterThan(0);
      expect({ route, fonts: fonts.filter((f) => !/Nastaliq|Naskh|Arabic/i.test(f.familyName)) }).toEqual({ route, fonts: [] });

      const file = path.join(dir, `ur-320${route === '/' ? '-landing' : route.replace('/', '-')}.png`);
      const png = await page.screenshot({ path: file, fullPage: true });
      expect(pngSize(png).width).toBe(320);
      console.log(`screenshot: ${file}`);
    }

    // Back to English from any page, at once; the stored choice is removed (English is what this browser asks for).
    await switchLanguage(page, 'en');
    expect(await htmlLangDir(page)).toEqual({ lang: 'en', dir: 'ltr' });
    expect((await layout(page)).h1).toBe(en['safety.heading']);
    expect((await storageOf(page)).local).toEqual({});
    await context.close();
    expect(problems).toEqual([]);
  });

  test('Latin data stays left to right in Urdu, and messages drawn by code follow the switch', async () => {
    const { context, page } = await narrowPage();
    await page.goto(server.url + '/share');
    await switchLanguage(page, 'ur');
    await page.getByRole('button', { name: ur['share.makeCodename'] }).click();
    const codename = page.getByTestId('codename');
    const words = (await codename.textContent())!.trim();
    expect(words.split(' ')).toHaveLength(8);
    expect(await codename.evaluate(inPage('return [getComputedStyle(e).direction, e.lang]'))).toEqual(['ltr', 'en']);
    const check = page.getByLabel(ur['share.confirmLabel']);
    expect(await check.evaluate(inPage('return getComputedStyle(e).direction'))).toBe('ltr');
    expect(await check.getAttribute('autocomplete')).toBe('off');

    // A wrong codename: the error is in Urdu, and switching language re-words it in place.
    await check.fill('wrong words');
    await page.getByRole('button', { name: ur['share.confirmButton'] }).click();
    await page.locator('#confirm-status').filter({ hasText: ur['share.notSame'] }).waitFor();
    await switchLanguage(page, 'en');
    expect((await page.locator('#confirm-status').textContent())!.trim()).toBe(en['share.notSame']);
    await switchLanguage(page, 'ur');
    expect((await page.locator('#confirm-status').textContent())!.trim()).toBe(ur['share.notSame']);

    // The copy button's own message follows the language too.
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: ur['share.copy'] }).click();
    await page.getByRole('button', { name: ur['copy.done'] }).waitFor();
    await switchLanguage(page, 'en');
    await page.getByRole('button', { name: en['copy.done'] }).waitFor();
    await switchLanguage(page, 'ur');

    await check.fill(words);
    await page.getByRole('button', { name: ur['share.confirmButton'] }).click();
    await page.getByLabel(ur['share.whatLabel']).waitFor();
    // What a survivor types takes its own direction (Urdu right to left, English left to right).
    expect(await page.locator('#what').getAttribute('dir')).toBe('auto');
    // The codename is no longer on the page once confirmed.
    expect((await page.getByTestId('codename').textContent())!.trim()).toBe('');
    expect(await page.locator('#fingerprint').evaluate(inPage('return getComputedStyle(e).direction'))).toBe('ltr');

    // On the return page, an unknown word is named in Urdu with the word kept left to right.
    await page.goto(server.url + '/return');
    await page.getByLabel(ur['return.codenameLabel'].replace(' {hint}', '')).fill('apple banana cherry zzzz mango grape lemon melon');
    await page.getByRole('button', { name: ur['return.open'] }).click();
    const status = page.locator('#login-status');
    await status.filter({ hasText: 'zzzz' }).waitFor();
    const text = (await status.textContent())!;
    expect(text).toContain('لفظ نمبر');
    expect(await status.locator('bdi', { hasText: 'zzzz' }).count()).toBe(1);
    await context.close();
    expect(problems).toEqual([]);
  });

  test('in Urdu, a survivor shares and reads back: every step right to left at 320 px, data left to right', async () => {
    const admin = await browser.newPage();
    await setUpFirstAdmin(admin, server.setupLink, true);
    await admin.close();
    const { context, page } = await narrowPage();
    const dir = screenshotDir();
    const shot = async (name: string) => {
      expect({ name, scrollWidth: await page.evaluate('document.documentElement.scrollWidth') }).toEqual({ name, scrollWidth: 320 });
      const file = path.join(dir, `ur-320-${name}.png`);
      expect(pngSize(await page.screenshot({ path: file, fullPage: true })).width).toBe(320);
      console.log(`screenshot: ${file}`);
    };
    await page.goto(server.url + '/share');
    await switchLanguage(page, 'ur');
    await page.getByRole('button', { name: ur['share.makeCodename'] }).click();
    const words = (await page.getByTestId('codename').textContent())!.trim();
    await shot('share-codename');
    await page.getByLabel(ur['share.confirmLabel']).fill(words);
    await page.getByRole('button', { name: ur['share.confirmButton'] }).click();
    const urduText = 'یہ میرے ساتھ دفتر میں ہوا، 2019 میں۔';
    await page.getByLabel(ur['share.whatLabel'], { exact: true }).fill(urduText);
    await page.getByLabel(ur['share.whenLabel'].replace(' {hint}', '')).fill('2019 کی سردیاں');
    await page.getByLabel(ur['share.whereLabel']).selectOption('workplace');
    // The file picker speaks Urdu: the browser's own button ("Choose Files", "No file chosen")
    // is hidden from sight only; its label, drawn as a button, takes the keyboard's focus ring.
    const picker = page.getByLabel(ur['evidence.add']);
    expect(await picker.evaluate(inPage('return [e.type, e.getBoundingClientRect().width <= 1, getComputedStyle(e).opacity]'))).toEqual([
      'file',
      true,
      '0',
    ]);
    const pickerLabel = page.locator('label.button', { hasText: ur['evidence.add'] });
    expect(await pickerLabel.isVisible()).toBe(true);
    await picker.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await pickerLabel.evaluate(inPage('return getComputedStyle(e).outlineStyle'))).toBe('solid');
    await shot('share-write');
    await page.getByRole('button', { name: ur['share.send'] }).click();
    await page.getByRole('heading', { name: ur['share.doneHeading'] }).waitFor({ timeout: 60_000 });
    const handle = page.locator('#handle');
    expect(await handle.textContent()).toMatch(/^S-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(await handle.evaluate(inPage('return getComputedStyle(e).direction'))).toBe('ltr');
    await shot('share-sent');

    await page.getByRole('link', { name: ur['share.doneReturn'].replace(/^.*\[(.*)\].*$/, '$1') }).click();
    await page.waitForURL(server.url + '/return');
    await page.locator('#codename').fill(words);
    await page.getByRole('button', { name: ur['return.open'], exact: true }).click();
    await page.getByRole('heading', { name: ur['return.listHeading'], exact: true }).waitFor({ timeout: 60_000 });
    const article = page.locator('#cases article').first();
    const text = (await article.textContent())!;
    expect(text).toContain(urduText);
    expect(text).toContain(ur['status.new']);
    expect(text).toContain(ur['context.workplace']);
    expect(text).toContain(ur['testimony.sentOn']);
    // The day it was sent, as people write dates, in the page's language (29 نومبر 2026).
    const day = article.locator('dd time').first();
    const dayIn = (months: string) => new RegExp(`^\\d{1,2} (${months.split(' ').join('|')}) \\d{4}$`);
    expect(await day.textContent()).toMatch(dayIn(ur['date.months']));
    expect(await day.getAttribute('datetime')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(await article.locator('p.text').evaluate(inPage('return getComputedStyle(e).direction'))).toBe('rtl'); // dir=auto on Urdu text
    await shot('return-list');
    // The list follows a change of language too.
    await switchLanguage(page, 'en');
    expect(await article.textContent()).toContain(en['status.new']);
    expect(await day.textContent()).toMatch(dayIn(en['date.months']));
    await context.close();
    expect(problems).toEqual([]);
  });

  test('a browser that asks for Urdu gets Urdu without anything stored', async () => {
    const { context, page } = await narrowPage({ locale: 'ur-PK' });
    await page.goto(server.url + '/return');
    expect(await htmlLangDir(page)).toEqual({ lang: 'ur', dir: 'rtl' });
    expect((await layout(page)).h1).toBe(ur['return.loginHeading']);
    expect(await page.evaluate("document.documentElement.classList.contains('i18n-pending')")).toBe(false);
    expect((await storageOf(page)).local).toEqual({});
    // Choosing English here is remembered (it differs from what the browser asks for).
    await switchLanguage(page, 'en');
    expect((await storageOf(page)).local).toEqual({ 'awaaz.lang': 'en' });
    await page.goto(server.url + '/safety');
    expect(await htmlLangDir(page)).toEqual({ lang: 'en', dir: 'ltr' });
    await context.close();
    expect(problems).toEqual([]);
  });

  test('when the Urdu catalog cannot be fetched, a page opened in Urdu shows in English instead of staying hidden, and the switch tries again', async () => {
    const { context, page } = await narrowPage({ locale: 'ur-PK' });
    await context.route('**/assets/catalog-ur.js', (route) => route.abort());
    await page.goto(server.url + '/safety');
    await page.locator('html:not(.i18n-pending)').waitFor({ state: 'attached' });
    expect(await htmlLangDir(page)).toEqual({ lang: 'en', dir: 'ltr' });
    expect((await layout(page)).h1).toBe(en['safety.heading']);
    expect(await page.locator('h1').first().isVisible()).toBe(true);
    expect((await storageOf(page)).local).toEqual({});
    // The network is back: the switch fetches the catalog and shows Urdu.
    await context.unroute('**/assets/catalog-ur.js');
    await switchLanguage(page, 'ur');
    expect(await htmlLangDir(page)).toEqual({ lang: 'ur', dir: 'rtl' });
    expect((await layout(page)).h1).toBe(ur['safety.heading']);
    await context.close();
    expect(problems).toEqual([]);
  });

  test('without JavaScript the pages still read in English, and Quick exit is a plain link', async () => {
    const { context, page } = await narrowPage({ javaScriptEnabled: false });
    for (const route of SURVIVOR_ROUTES) {
      await page.goto(server.url + route);
      const h1 = page.locator('h1').first();
      expect((await h1.textContent())!.trim()).toBe(en[HEADING_KEY[route]]);
      expect(await h1.isVisible()).toBe(true);
      expect(await page.getByRole('link', { name: 'Quick exit' }).getAttribute('href')).toBe('https://weather.com/');
    }
    await context.close();
  });
});
