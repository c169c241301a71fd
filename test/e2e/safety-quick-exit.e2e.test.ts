/**
 * Quick exit and the safety page in a real Chromium. Awaaz runs with QUICK_EXIT_URL pointing
 * at a neutral page served on 127.0.0.1 by the test. Escape pressed three times, or the
 * button, on every survivor page: the page is emptied (fields, codename, sessionStorage, and
 * the clipboard if the codename was copied)
 * before it is replaced by the neutral page with location.replace, so the tab's history does
 * not grow and Back does not return to Awaaz. It also works before the server has answered
 * anything, with the address baked into the page. Moving between survivor pages keeps one
 * history entry. The safety page exists in both languages and every survivor page links to it.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeInBrowser, guardPage, launchBrowser, startServer, type RunningServer, switchLanguage } from './support';
import { en, htmlLangDir, neutralSite, storageOf, SURVIVOR_ROUTES, ur, type NeutralSite } from './safety-support';

describeInBrowser('quick exit and the safety page', () => {
  let server: RunningServer;
  let neutral: NeutralSite;
  let browser: Browser;
  let exitUrl: string;
  /** the organisation's own support contacts, shown under "If you are in danger now" */
  const SUPPORT = 'Helpline 0800-00000 (9 to 5), مددگار لائن';
  const problems: string[] = [];

  beforeAll(async () => {
    neutral = await neutralSite();
    exitUrl = `${neutral.url}/weather`;
    server = await startServer({ QUICK_EXIT_URL: exitUrl, SUPPORT_CONTACTS: SUPPORT });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await neutral?.close();
  });

  async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
    const page = await context.newPage();
    await guardPage(page, problems);
    return { context, page };
  }

  const historyLength = (page: Page) => page.evaluate<number>('history.length');

  /** Back from the exit page must not land on Awaaz (there is either nothing, or what came before it). */
  async function expectNoWayBack(page: Page): Promise<void> {
    await page.goBack({ waitUntil: 'load' }).catch(() => null);
    expect(page.url().startsWith(server.url)).toBe(false);
  }

  type Held = { text: string; fields: string[]; session: number; title: string };
  const PROBE = 'test-probe:state-at-exit';
  /**
   * Records what the Awaaz page still held when it was left: a listener added by the test
   * writes it into this origin's localStorage on pagehide; the test reads (and removes) it
   * when it comes back to Awaaz in the same browser.
   */
  async function recordAtExit(page: Page): Promise<void> {
    await page.evaluate(
      `addEventListener('pagehide', () => localStorage.setItem('${PROBE}', JSON.stringify({ text: document.body ? document.body.innerText : '', fields: [...document.querySelectorAll('input, textarea')].map((f) => f.value), session: sessionStorage.length, title: document.title })))`,
    );
  }
  async function readAtExit(page: Page): Promise<Held> {
    const json = await page.evaluate<string | null>(
      `(() => { const v = localStorage.getItem('${PROBE}'); localStorage.removeItem('${PROBE}'); return v; })()`,
    );
    expect(json).not.toBeNull();
    return JSON.parse(json!) as Held;
  }

  test('Escape three times: the page is emptied and replaced, history does not grow, Back does not return', async () => {
    const { context, page } = await freshPage();
    await page.goto(server.url + '/');
    // Moving to the share page replaces the history entry too.
    const before = await historyLength(page);
    await page.getByRole('link', { name: 'Share what happened' }).click();
    await page.waitForURL(server.url + '/share');
    expect(await historyLength(page)).toBe(before);

    await page.getByRole('button', { name: 'Create my codename' }).click();
    const codename = (await page.getByTestId('codename').textContent())!.trim();
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: en['share.copy'] }).click();
    await page.getByRole('button', { name: en['copy.done'] }).waitFor();
    await page.getByLabel('To be sure you kept it').fill(codename);
    await page.evaluate("sessionStorage.setItem('probe', 'left by a script')");
    await recordAtExit(page);

    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.waitForURL(exitUrl);
    expect(await page.locator('h1').textContent()).toBe('Weather today');
    expect(await historyLength(page)).toBe(before);

    await expectNoWayBack(page);
    // Back in the same tab: sessionStorage (which belongs to the tab) was emptied on exit.
    await page.goto(server.url + '/safety');
    expect((await storageOf(page)).session).toEqual({});
    const held = await readAtExit(page);
    expect(held.text).toBe('');
    expect(held.fields.every((v) => v === '')).toBe(true);
    expect(held.text).not.toContain(codename.split(' ')[0]);
    expect(held.session).toBe(0);
    expect(held.title).toBe('');
    // The codename she copied left the clipboard too (read from a blank page of the same
    // origin: the survivor pages' Permissions-Policy denies reading it).
    const reader = await context.newPage();
    await reader.route(`${server.url}/clipboard-reader`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>r</title>' }),
    );
    await reader.goto(`${server.url}/clipboard-reader`);
    await reader.bringToFront();
    expect(await reader.evaluate('navigator.clipboard.readText()')).toBe('');
    await context.close();
    expect(problems).toEqual([]);
  });

  test.each(SURVIVOR_ROUTES)('the Quick exit button on %s leaves at once, replacing the history entry', async (route) => {
    const { context, page } = await freshPage();
    await page.goto(server.url + route);
    // wait for the configured address to arrive, then use the button
    await page
      .locator('[data-quick-exit]')
      .and(page.locator(`[href="${exitUrl}"]`))
      .waitFor();
    const before = await historyLength(page);
    await page.getByRole('link', { name: 'Quick exit' }).click();
    await page.waitForURL(exitUrl);
    expect(await historyLength(page)).toBe(before);
    await expectNoWayBack(page);
    await context.close();
    expect(problems).toEqual([]);
  });

  test('Escape three times also works on a page in Urdu, from inside a text field', async () => {
    const { context, page } = await freshPage();
    await page.goto(server.url + '/return');
    await switchLanguage(page, 'ur');
    await page.getByLabel(ur['return.codenameLabel'].replace(' {hint}', '')).fill('some secret words');
    const before = await historyLength(page);
    for (let i = 0; i < 3; i++) await page.keyboard.press('Escape');
    await page.waitForURL(exitUrl);
    expect(await historyLength(page)).toBe(before);
    await context.close();
  });

  test('quick exit works before the server has answered anything, with the address baked into the page', async () => {
    const { context, page } = await freshPage();
    // The instance facts never arrive; the default neutral site is intercepted here (no internet).
    await context.route('**/api/instance', () => undefined);
    await context.route('https://weather.com/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Weather</title><h1>Weather</h1>' }),
    );
    await page.goto(server.url + '/share', { waitUntil: 'domcontentloaded' });
    for (let i = 0; i < 3; i++) await page.keyboard.press('Escape');
    await page.waitForURL('https://weather.com/');
    await context.close();
  });

  test('two presses, or three spread over more than two seconds, do not leave', async () => {
    const { context, page } = await freshPage();
    await page.goto(server.url + '/safety');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.waitForTimeout(2300);
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    expect(page.url()).toBe(server.url + '/safety');
    // two more within the window make three: now it leaves
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.waitForURL(exitUrl);
    await context.close();
  });

  test('moving between survivor pages keeps a single history entry', async () => {
    const { context, page } = await freshPage();
    await page.goto(server.url + '/');
    const before = await historyLength(page);
    await page.getByRole('link', { name: 'how to stay safe' }).click();
    await page.waitForURL(server.url + '/safety');
    await page.getByRole('link', { name: 'I have a codename' }).click();
    await page.waitForURL(server.url + '/return');
    // the skip link moves focus without adding an entry either
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id')).toBe('main');
    await page.getByRole('link', { name: 'Home' }).click();
    await page.waitForURL(server.url + '/');
    expect(await historyLength(page)).toBe(before);
    await context.close();
    expect(problems).toEqual([]);
  });

  test('every survivor page links to the safety page, which exists in both languages and names the real exit site', async () => {
    const { context, page } = await freshPage();
    for (const route of SURVIVOR_ROUTES.filter((r) => r !== '/safety')) {
      await page.goto(server.url + route);
      expect({ route, visible: await page.locator('a[href="/safety"]').first().isVisible() }).toEqual({ route, visible: true });
    }
    await page.goto(server.url + '/safety');
    const headings = [
      'safety.heading',
      'safety.exitHeading',
      'safety.deviceHeading',
      'safety.privateHeading',
      'safety.codenameHeading',
      'safety.protectsHeading',
      'safety.cannotHeading',
    ] as const;
    for (const key of headings) await page.getByRole('heading', { name: en[key], exact: true }).waitFor();
    await page
      .locator('#exit-site')
      .filter({ hasText: new URL(exitUrl).host })
      .waitFor();
    const body = await page.locator('main').innerText();
    expect(body).toContain('Tor Browser');
    expect(body).toContain('private window');
    expect(body).toMatch(/reads what you type/);
    await page.locator('#support-contacts').filter({ hasText: SUPPORT }).waitFor();
    expect(await page.locator('#support-contacts').innerText()).toBe(en['safety.supportContacts'].replace('{contacts}', SUPPORT));
    await switchLanguage(page, 'ur');
    expect(await htmlLangDir(page)).toEqual({ lang: 'ur', dir: 'rtl' });
    for (const key of headings) await page.getByRole('heading', { name: ur[key], exact: true }).waitFor();
    expect(await page.locator('#exit-site').textContent()).toBe(new URL(exitUrl).host);
    expect(await page.locator('#support-contacts').innerText()).toContain(ur['safety.supportContacts'].replace(' {contacts}', ''));
    expect(await page.locator('#support-contacts-text').textContent()).toBe(SUPPORT);
    await context.close();
    expect(problems).toEqual([]);
  });
});
