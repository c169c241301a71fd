/**
 * Accessibility in a real Chromium:
 *  - axe-core (injected; the context bypasses CSP for this test only, since axe is not served
 *    by Awaaz) finds no serious or critical violation on every survivor page and the public
 *    pages (stories, statistics), in English and in Urdu, in each important state (share: intro, codename, write, sent; return: sign-in, list),
 *    nor on the staff pages (setup, invite, staff sign-in and workspace, English);
 *  - at 320 px wide nothing scrolls sideways, in either language;
 *  - a survivor can share a testimony by keyboard alone, every focus stop is visibly outlined,
 *    the skip link appears when focused, and Quick exit is reachable by Tab and Enter.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN, openView, setUpFirstAdmin, staffSignIn } from './flows';
import { describeInBrowser, guardPage, launchBrowser, startServer, type RunningServer, switchLanguage } from './support';
import { en, inPage, neutralSite, ur, type NeutralSite } from './safety-support';

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

describeInBrowser('accessibility', () => {
  let server: RunningServer;
  let neutral: NeutralSite;
  let browser: Browser;
  const problems: string[] = [];
  const report: string[] = [];

  beforeAll(async () => {
    neutral = await neutralSite();
    server = await startServer({ QUICK_EXIT_URL: `${neutral.url}/weather` });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    if (report.length) console.log(`axe, minor and moderate findings (not failures):\n${report.join('\n')}`);
    await browser?.close();
    await server?.stop();
    await neutral?.close();
  });

  async function axeContext(width = 320): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width, height: 700 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    return { context, page };
  }

  /** Runs axe on the page as it is now and checks the width; returns serious and critical violations. */
  async function check(page: Page, state: string): Promise<string[]> {
    if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.addScriptTag({ content: AXE });
    const { violations } = await page.evaluate<{ violations: Violation[] }>('axe.run(document, { resultTypes: ["violations"] })');
    const failing: string[] = [];
    for (const v of violations) {
      const line = `${state}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`;
      if (v.impact === 'serious' || v.impact === 'critical') failing.push(`${line}\n    ${v.nodes[0]?.failureSummary ?? ''}`);
      else report.push(line);
    }
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    if (width > 320) {
      const wide = await page.evaluate(
        "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 321 && e.getClientRects().length).slice(0, 5).map((e) => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))",
      );
      failing.push(`${state}: scrolls sideways at 320 px (scrollWidth ${width}; widest: ${JSON.stringify(wide)})`);
    }
    return failing;
  }

  test('staff pages (English): setup, invite, staff sign-in and workspace', async () => {
    const { context, page } = await axeContext();
    const failing: string[] = [];
    await page.goto(server.setupLink);
    await page.getByRole('button', { name: 'Create admin' }).waitFor();
    failing.push(...(await check(page, 'setup form')));
    await page.goto(server.url + '/invite#not-a-valid-invite-token-at-all-000000000000');
    await page.locator('h1:visible').first().waitFor();
    failing.push(...(await check(page, 'invite, unusable link')));
    await page.goto(server.url + '/staff');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    failing.push(...(await check(page, 'staff sign-in')));

    // Set the instance up (admin who is also a moderator), then look at the workspace.
    const admin = await context.newPage();
    await setUpFirstAdmin(admin, server.setupLink, true);
    await staffSignIn(page, server.url, ADMIN);
    failing.push(...(await check(page, 'staff workspace')));
    // Every other view of the workspace, each at its own address.
    for (const view of ['Publishing', 'Team', 'Audit', 'Account'] as const) {
      await openView(page, view);
      failing.push(...(await check(page, `staff workspace, ${view} view`)));
    }
    await context.close();
    expect(failing).toEqual([]);
    expect(problems).toEqual([]);
  });

  describe.each(['en', 'ur'] as const)('survivor pages in %s', (lang) => {
    const m = lang === 'en' ? en : ur;

    test('every page and state: no serious or critical axe violation, no sideways scroll at 320 px', async () => {
      const { context, page } = await axeContext();
      const failing: string[] = [];
      await page.goto(server.url + '/');
      if (lang === 'ur') await switchLanguage(page, 'ur');
      expect(await page.evaluate('document.documentElement.lang')).toBe(lang);
      failing.push(...(await check(page, `${lang} landing`)));

      await page.goto(server.url + '/safety');
      failing.push(...(await check(page, `${lang} safety`)));

      // The public pages, drawn by the server, in the same language.
      await page.goto(server.url + '/stories');
      expect(await page.evaluate('document.documentElement.lang')).toBe(lang);
      failing.push(...(await check(page, `${lang} stories`)));
      await page.goto(server.url + '/stats');
      failing.push(...(await check(page, `${lang} statistics`)));

      await page.goto(server.url + '/share');
      await page.getByRole('button', { name: m['share.makeCodename'] }).waitFor();
      failing.push(...(await check(page, `${lang} share: intro`)));
      await page.getByRole('button', { name: m['share.makeCodename'] }).click();
      const codename = (await page.getByTestId('codename').textContent())!.trim();
      failing.push(...(await check(page, `${lang} share: codename`)));
      await page.getByLabel(m['share.confirmLabel']).fill('not it');
      await page.getByRole('button', { name: m['share.confirmButton'] }).click();
      await page.locator('#confirm-status:visible').waitFor();
      failing.push(...(await check(page, `${lang} share: codename, with an error`)));
      await page.getByLabel(m['share.confirmLabel']).fill(codename);
      await page.getByRole('button', { name: m['share.confirmButton'] }).click();
      await page.getByLabel(m['share.whatLabel'], { exact: true }).waitFor();
      failing.push(...(await check(page, `${lang} share: write`)));

      await page.goto(server.url + '/return');
      await page.getByRole('button', { name: m['return.open'], exact: true }).waitFor();
      failing.push(...(await check(page, `${lang} return: sign-in`)));
      await context.close();
      expect(failing).toEqual([]);
      expect(problems).toEqual([]);
    });
  });

  test('sent and list states, in both languages (needs a moderator)', async () => {
    const { context, page } = await axeContext();
    const failing: string[] = [];
    // The staff test above set the instance up; if it ran alone, set it up here.
    const info = (await (await fetch(server.url + '/api/instance')).json()) as { setupComplete: boolean };
    if (!info.setupComplete) await setUpFirstAdmin(await context.newPage(), server.setupLink, true);
    for (const lang of ['en', 'ur'] as const) {
      const m = lang === 'en' ? en : ur;
      await page.goto(server.url + '/share');
      if ((await page.evaluate('document.documentElement.lang')) !== lang) await switchLanguage(page, lang);
      await page.getByRole('button', { name: m['share.makeCodename'] }).click();
      const codename = (await page.getByTestId('codename').textContent())!.trim();
      await page.getByLabel(m['share.confirmLabel']).fill(codename);
      await page.getByRole('button', { name: m['share.confirmButton'] }).click();
      await page.getByLabel(m['share.whatLabel'], { exact: true }).fill(`accessible testimony in ${lang}`);
      await page.locator('#context').selectOption('online');
      await page.getByRole('button', { name: m['share.send'] }).click();
      await page.getByRole('heading', { name: m['share.doneHeading'] }).waitFor({ timeout: 60_000 });
      failing.push(...(await check(page, `${lang} share: sent`)));

      await page.goto(server.url + '/return');
      await page.locator('#codename').fill(codename);
      await page.getByRole('button', { name: m['return.open'], exact: true }).click();
      await page.getByRole('heading', { name: m['return.listHeading'], exact: true }).waitFor({ timeout: 60_000 });
      await page.locator('#cases article').first().waitFor();
      failing.push(...(await check(page, `${lang} return: list`)));
    }
    await context.close();
    expect(failing).toEqual([]);
    expect(problems).toEqual([]);
  });

  test('by keyboard alone: skip link, visible focus on every stop, the whole share flow, quick exit', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 700 } });
    const page = await context.newPage();
    await guardPage(page, problems);
    const focused = () =>
      page.evaluate<{ tag: string; id: string; text: string; outline: boolean; inView: boolean }>(`(() => {
        const e = document.activeElement;
        const s = getComputedStyle(e);
        const r = e.getBoundingClientRect();
        return { tag: e.tagName, id: e.id, text: (e.innerText || e.value || '').trim().slice(0, 40), outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2, inView: r.bottom > 0 && r.top < innerHeight && r.width > 0 };
      })()`);
    /** Presses Tab until the focused element matches, checking that every stop on the way is visibly focused. */
    async function tabTo(match: (f: { tag: string; id: string; text: string }) => boolean, limit = 30): Promise<void> {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        expect({ stop: f.id || f.text || f.tag, outline: f.outline, inView: f.inView }).toEqual({
          stop: f.id || f.text || f.tag,
          outline: true,
          inView: true,
        });
        if (match(f)) return;
      }
      throw new Error('focus never reached the element');
    }

    await page.goto(server.url + '/');
    // Let the page finish starting (translation, the keyset check) before the first key: a Tab
    // pressed while it still rewrites the header once lost focus to <body> under load.
    await page.waitForLoadState('networkidle');
    // First stop: the skip link, shown when focused; Enter moves focus to the main content.
    await page.keyboard.press('Tab');
    const skip = await focused();
    expect(skip.text).toBe(en['common.skip']);
    expect(skip.inView).toBe(true);
    await page.keyboard.press('Enter');
    expect((await focused()).id).toBe('main');
    await tabTo((f) => f.text === en['action.share']);
    await page.keyboard.press('Enter');
    await page.waitForURL(server.url + '/share');

    await tabTo((f) => f.id === 'make-codename');
    await page.keyboard.press('Enter');
    // The new step's heading takes focus, so a screen reader announces it.
    expect((await focused()).text).toBe(en['share.codenameHeading']);
    const codename = (await page.getByTestId('codename').textContent())!.trim();
    await tabTo((f) => f.id === 'codename-check');
    await page.keyboard.type(codename);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: en['share.writeHeading'] }).waitFor();
    expect((await focused()).text).toBe(en['share.writeHeading']);
    await tabTo((f) => f.id === 'what');
    await page.keyboard.type('typed with the keyboard only');
    await tabTo((f) => f.id === 'when');
    await page.keyboard.type('last year');
    await tabTo((f) => f.id === 'context');
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('#context').inputValue()).not.toBe('');
    await tabTo((f) => f.tag === 'INPUT' && f.id === '');
    await page.keyboard.press('ArrowDown'); // radio: "No"
    expect(await page.locator('input[name="replies"]:checked').getAttribute('value')).toBe('no');
    await tabTo((f) => f.text === en['share.send']);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: en['share.doneHeading'] }).waitFor({ timeout: 60_000 });
    expect((await page.locator('#handle').textContent())!).toMatch(/^S-/);

    // The language switch and Quick exit are reachable and work from the keyboard too.
    await page.goto(server.url + '/return');
    await tabTo((f) => f.id === 'lang-switch');
    await page.keyboard.press('Enter');
    // The Urdu catalog is fetched on demand (from when the switch takes focus): wait for it to apply.
    await page.locator('html[dir="rtl"]').waitFor({ state: 'attached' });
    expect((await focused()).id).toBe('lang-switch');
    await tabTo((f) => f.id === 'quick-exit');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${neutral.url}/weather`);
    await context.close();
    expect(problems).toEqual([]);
  });

  test('labels and landmarks: every field is labelled, every page has header, nav, main and footer', async () => {
    const { context, page } = await axeContext(1024);
    for (const route of ['/', '/share', '/return', '/safety']) {
      await page.goto(server.url + route);
      for (const landmark of ['banner', 'main', 'contentinfo', 'navigation'] as const) {
        expect({ route, landmark, count: await page.getByRole(landmark).count() }).toEqual({ route, landmark, count: 1 });
      }
      const unlabelled = await page
        .locator('input, textarea, select')
        .evaluateAll(inPage('return e.filter((f) => f.labels.length === 0 && !f.getAttribute("aria-label")).map((f) => f.id || f.name)'));
      expect({ route, unlabelled }).toEqual({ route, unlabelled: [] });
    }
    await context.close();
  });
});
