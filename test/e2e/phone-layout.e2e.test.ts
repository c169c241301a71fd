/**
 * Cheap phones (issue 11): at 360 px wide, in a real Chromium, every survivor page in English
 * and in Urdu (right to left), and every staff page, with a phone photo (a large JPEG with
 * EXIF) attached and previewed where a page takes evidence:
 *  - no element is wider than the viewport or sticks out of it, and nothing scrolls sideways;
 *  - every button (and the file chooser, or its label when the input itself is visually
 *    hidden, and Quick exit) can be tapped: inside the viewport once scrolled to, not covered
 *    by anything (the sticky header included), at least 44 px high and wide.
 * The wall and a story's page show a published story full of long unbroken words. Flows use
 * element ids rather than wording, so that they read the same in both languages.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { jpegWithExif } from '../support/evidence-files';
import { canvasImage } from './attachments-support';
import { ADMIN, createInvite, finishTotpEnrolment, staffSignIn } from './flows';
import { describeInBrowser, guardPage, launchBrowser, startServer, type RunningServer } from './support';

const WIDTH = 360;
/**
 * A published story for the wall and its own page, written straight into the database (these
 * pages only read it; test/e2e/publishing.e2e.test.ts walks the whole consent path), with the
 * long unbroken words that push narrow pages sideways: a link and a run-on word.
 */
const STORY = {
  alias: 'phn2story9',
  title:
    'What happened at the office, and what the committee did not do: https://example.org/reports/2024/harassment-committee-minutes-final-v3.pdf',
  text: 'It started in my second month.\n\nThe minutes are at https://example.org/reports/2024/harassment-committee-minutes-final-v3-annex-b-complete.pdf and nobody read them. Supercalifragilisticexpialidociousnessnessnessness.\n\nیہ میرے ساتھ دفتر میں ہوا۔',
};
/** Apple's and WCAG 2.5.5's target size: a thumb, not a mouse pointer. */
const MIN_TAP = 44;

/**
 * What is wrong with the layout as it is now (an empty list when nothing is). Runs in the
 * page, so it is a string (this file has no DOM types); it scrolls each button into view.
 */
const LAYOUT_PROBE = `(() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  // Drawn for screen readers only (the usual visually-hidden patterns): a file input styled
  // that way is tapped through its label, and a 1 px box cannot push the page sideways by
  // itself without the scroll width saying so.
  const visuallyHidden = (e) => {
    const r = e.getBoundingClientRect();
    const cs = getComputedStyle(e);
    return r.width <= 2 || r.height <= 2 || cs.opacity === '0' || cs.clipPath.startsWith('inset(50%') || (cs.position === 'absolute' && cs.clip !== 'auto');
  };
  const scroll = document.documentElement.scrollWidth;
  if (scroll > vw) out.push('the page scrolls sideways: scrollWidth ' + scroll + ' > ' + vw);
  if (window.innerWidth !== ${WIDTH}) out.push('the viewport is ' + window.innerWidth + ' px wide, not ${WIDTH}');
  for (const e of document.querySelectorAll('body *')) {
    if (!shown(e)) continue;
    const r = e.getBoundingClientRect();
    if (visuallyHidden(e)) continue;
    if (r.width > vw + 0.5 || r.left < -0.5 || r.right > vw + 0.5) out.push('wider than the viewport or outside it: ' + name(e) + ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']');
  }
  const targets = [...document.querySelectorAll('button, a.button, a.quick-exit, input[type=submit], input[type=file], select')]
    .filter(shown)
    .flatMap((t) => (t.type === 'file' && visuallyHidden(t) ? [...t.labels].filter(shown) : [t]));
  for (const t of targets) {
    t.scrollIntoView({ block: 'center', inline: 'nearest' });
    const r = t.getBoundingClientRect();
    const what = name(t) + ' "' + (t.textContent || t.value || '').trim().slice(0, 40) + '"';
    if (r.left < -0.5 || r.right > vw + 0.5) out.push('button outside the viewport: ' + what);
    if (r.width < ${MIN_TAP} || r.height < ${MIN_TAP}) out.push('button too small to tap (' + Math.round(r.width) + 'x' + Math.round(r.height) + '): ' + what);
    const x = Math.min(Math.max(r.left + r.width / 2, 0), vw - 1);
    const y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    const labelled = hit && t.labels && [...t.labels].some((l) => l.contains(hit));
    if (!hit || !(t === hit || t.contains(hit) || labelled)) out.push('button covered by ' + (hit ? name(hit) : 'nothing') + ': ' + what);
  }
  window.scrollTo(0, 0);
  return { problems: out, buttons: targets.length };
})()`;

/** What was found, by state (each probe also fails at once on a problem, naming the state). */
type Findings = Record<string, string[]>;

async function probe(page: Page, state: string, findings: Findings): Promise<void> {
  // Images decoded and fonts loaded: the layout is final.
  await page.waitForFunction(`[...document.images].every((i) => i.complete) && document.fonts.status === 'loaded'`);
  const { problems, buttons } = await page.evaluate<{ problems: string[]; buttons: number }>(LAYOUT_PROBE);
  // Every state has something to tap (Quick exit at least): a probe that found no button checked nothing.
  findings[state] = buttons > 0 ? problems : [...problems, 'no button found to check'];
  expect({ state, problems: findings[state] }).toEqual({ state, problems: [] });
}

/** Every state was probed, and none has a problem. */
function expectClean(findings: Findings, states: number): void {
  expect(Object.keys(findings).length).toBe(states);
  expect(Object.values(findings).flat()).toEqual([]);
}

/** Chooses a photo in the page's first (or given) file input and waits until its cleaned preview is drawn. */
async function attachPhoto(page: Page, photo: Buffer, within = 'body'): Promise<void> {
  await page
    .locator(`${within} input[type=file]`)
    .first()
    .setInputFiles([{ name: 'IMG_20240501_102213.jpg', mimeType: 'image/jpeg', buffer: photo }]);
  const preview = page.locator(`${within} ul.evidence img.evidence-preview`).first();
  await preview.waitFor({ timeout: 30_000 });
  await page.waitForFunction((sel: string) => {
    const img = (
      globalThis as unknown as { document: { querySelector(s: string): { complete: boolean; naturalWidth: number } | null } }
    ).document.querySelector(sel);
    return !!img && img.complete && img.naturalWidth > 0;
  }, `${within} ul.evidence img.evidence-preview`);
}

describeInBrowser('a 360 px phone', () => {
  let server: RunningServer;
  let browser: Browser;
  const problems: string[] = [];
  let photo: Buffer;
  let survivor: { codename: string; handle: string } | undefined;
  let staff: { context: BrowserContext; page: Page } | undefined;

  beforeAll(async () => {
    server = await startServer();
    const db = server.openDb();
    await db('publications').insert({
      alias: STORY.alias,
      draft_id: null,
      case_id: null,
      title: STORY.title,
      text: STORY.text,
      context: 'workplace',
      month: '2024-05',
      published_day: '2026-01-15',
      revoked_day: null,
    });
    await db.destroy();
    browser = await launchBrowser();
    const blank = await browser.newPage();
    // A phone photo: 3000 x 4000 pixels, with a GPS EXIF block, taken turned (orientation 6).
    photo = Buffer.from(jpegWithExif(await canvasImage(blank, 'image/jpeg', 4000, 3000), 6));
    await blank.close();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function phone(locale = 'en-US'): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      viewport: { width: WIDTH, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale,
    });
    const page = await context.newPage();
    await guardPage(page, problems);
    return { context, page };
  }

  test('staff pages: setup, two-factor enrolment, sign-in, workspace, invite', async () => {
    const findings: Findings = {};
    staff = await phone();
    const p = staff.page;
    await p.goto(server.setupLink);
    await p.getByRole('button', { name: 'Create admin' }).waitFor();
    await probe(p, 'setup form', findings);
    await p.getByLabel('Username').fill(ADMIN.username);
    await p.getByLabel('Password', { exact: false }).first().fill(ADMIN.password);
    await p.getByLabel('Password again').fill(ADMIN.password);
    await p.getByLabel('I will also read testimonies as a moderator').setChecked(true);
    await p.getByRole('button', { name: 'Create admin' }).click();
    await p.getByRole('img', { name: /QR code/ }).waitFor({ timeout: 60_000 });
    await probe(p, 'setup, two-factor enrolment', findings);
    await finishTotpEnrolment(p, ADMIN.username);
    await p.getByRole('heading', { name: 'Awaaz is set up' }).waitFor({ timeout: 30_000 });
    await probe(p, 'setup done', findings);

    // Right after setup the workspace opens without a second sign-in; sign out to see the sign-in form.
    await p.goto(`${server.url}/staff`);
    await p.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
    await p.getByRole('button', { name: 'Log out', exact: true }).click();
    await p.getByRole('button', { name: 'Sign in' }).waitFor();
    await probe(p, 'staff sign-in', findings);
    await staffSignIn(p, server.url, ADMIN);
    await probe(p, 'staff workspace', findings);
    const link = await createInvite(p, 'moderator');
    await probe(p, 'staff workspace, invite link shown', findings);

    const invitee = await phone();
    await invitee.page.goto(link);
    await invitee.page.getByRole('button', { name: 'Create my account' }).waitFor();
    await probe(invitee.page, 'invite form', findings);
    await invitee.context.close();
    expectClean(findings, 7);
    expect(problems).toEqual([]);
  });

  test('survivor pages in English: home, safety, the wall, a story, statistics, every step of sharing with a photo', async () => {
    const findings: Findings = {};
    const { context, page } = await phone();
    survivor = await survivorPages(page, 'en', findings);
    await context.close();
    expectClean(findings, 11);
    expect(problems).toEqual([]);
  });

  test('staff case view with the photo decrypted and previewed, and a reply', async () => {
    if (!staff || !survivor) throw new Error('the tests above set up the staff page and the survivor');
    const findings: Findings = {};
    const p = staff.page;
    await staffSignIn(p, server.url, ADMIN);
    await p.getByRole('button', { name: `Open case of ${survivor.handle}`, exact: false }).waitFor();
    await probe(p, 'staff workspace, the case in the inbox', findings);
    await p.getByRole('button', { name: `Open case of ${survivor.handle}`, exact: false }).click();
    await p.locator('#case-body article').first().waitFor({ timeout: 30_000 });
    await probe(p, 'staff case view', findings);
    await p
      .getByRole('button', { name: /^Download and decrypt/ })
      .first()
      .click();
    await p.locator('#case-body img.evidence-preview').waitFor({ timeout: 60_000 });
    await probe(p, 'staff case view, photo previewed', findings);
    await p.getByLabel('Reply to the survivor').fill('Thank you for writing to us. We have read your testimony and the photo.');
    await p.getByRole('button', { name: 'Send reply' }).click();
    await p.locator('#case-thread').filter({ hasText: 'We have read your testimony' }).waitFor({ timeout: 30_000 });
    await probe(p, 'staff case view, after a reply', findings);
    expectClean(findings, 4);
    expect(problems).toEqual([]);
  });

  test.each([['en-US'], ['ur-PK']])(
    'return page (%s): signed in, a thread with a reply, a photo attached to the answer',
    async (locale) => {
      if (!survivor) throw new Error('the English survivor test shares the testimony');
      const findings: Findings = {};
      const { context, page } = await phone(locale);
      await page.goto(`${server.url}/return`);
      await page.locator('#login-form button[type=submit]').waitFor();
      await probe(page, 'return, sign-in', findings);
      await page.locator('#codename').fill(survivor.codename);
      await page.locator('#login-form button[type=submit]').click();
      await page.locator('#cases .thread').filter({ hasText: 'We have read your testimony' }).waitFor({ timeout: 60_000 });
      await probe(page, 'return, thread', findings);
      await attachPhoto(page, photo, '#cases');
      await probe(page, 'return, thread, photo attached to the answer', findings);
      await context.close();
      expectClean(findings, 3);
      expect(problems).toEqual([]);
    },
  );

  test('survivor pages in Urdu, right to left: the same pages and steps', async () => {
    const findings: Findings = {};
    const { context, page } = await phone('ur-PK');
    await survivorPages(page, 'ur', findings);
    await context.close();
    expectClean(findings, 11);
    expect(problems).toEqual([]);
  });

  /** Home, safety, the wall, a story, statistics, then share with a photo: eleven states; returns the survivor. */
  async function survivorPages(page: Page, lang: 'en' | 'ur', findings: Findings): Promise<{ codename: string; handle: string }> {
    for (const [route, state] of [
      ['/', 'home'],
      ['/safety', 'safety'],
      ['/stories', 'stories'],
      [`/stories/${STORY.alias}`, 'a story'],
      ['/stats', 'statistics'],
    ] as const) {
      const res = await page.goto(server.url + route);
      expect({ route, status: res?.status(), lang: await page.evaluate('document.documentElement.lang') }).toEqual({
        route,
        status: 200,
        lang,
      });
      await probe(page, state, findings);
    }
    await page.goto(`${server.url}/share`);
    expect(await page.evaluate('document.documentElement.dir')).toBe(lang === 'ur' ? 'rtl' : 'ltr');
    await page.locator('#make-codename:enabled').waitFor({ timeout: 30_000 });
    await probe(page, 'share, introduction', findings);
    await page.locator('#make-codename').click();
    // The words alone, however the step lays them out (numbered or not).
    const codename = ((await page.getByTestId('codename').textContent()) ?? '').match(/[a-z]+/g)?.join(' ') ?? '';
    expect(codename.split(' ')).toHaveLength(8);
    await probe(page, 'share, codename', findings);
    await page.locator('#codename-check').fill(codename);
    await page.locator('#confirm-form button[type=submit]').click();
    await page.locator('#what').waitFor();
    await probe(page, 'share, writing', findings);
    await page
      .locator('#what')
      .fill(lang === 'ur' ? 'یہ میرے ساتھ دفتر میں ہوا، 2019 میں۔' : 'It happened at the office, in the spring of 2019.');
    await page.locator('#context').selectOption('workplace');
    await attachPhoto(page, photo, '#step-write');
    await probe(page, 'share, writing, photo attached and previewed', findings);
    await page.locator('#testimony-form > button[type=submit]').click();
    const refused = page.locator('#write-status[data-kind="error"]');
    await page.locator('#step-done:visible').or(refused).waitFor({ timeout: 90_000 });
    if (await refused.isVisible()) throw new Error(`the testimony was not sent: ${await refused.textContent()}`);
    await probe(page, 'share, sent', findings);
    const handle = (await page.locator('#handle').textContent())!.trim();
    await page.goto(`${server.url}/return`);
    await page.locator('#login-form button[type=submit]').waitFor();
    await probe(page, 'return, sign-in', findings);
    return { codename, handle };
  }
});
