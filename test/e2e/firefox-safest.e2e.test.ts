/**
 * Tor Browser at its Safest security level: JavaScript is off, so Awaaz cannot encrypt and
 * cannot work. Every page that needs scripts says so first, in English and in Urdu (a page
 * without scripts cannot know which language its reader chose): that it needs the Safer or
 * Standard level, how to set it, and why; and it offers no control that cannot work. The
 * public pages, which need no script, stay as they are.
 */
import type { Browser, Page } from 'puppeteer-core';
import { en } from '../../i18n/en';
import { plain } from '../../i18n/format';
import { NOSCRIPT_KEYS, noscriptEn, noscriptUr, type NoscriptMessageKey } from '../../i18n/noscript';
import { firefoxPresent, launchFirefox } from '../support/firefox';
import { describeInBrowser, startServer, type RunningServer } from './support';

const describeInFirefox = firefoxPresent() ? describeInBrowser : describe.skip;

const SURVIVOR_PAGES = ['/', '/share', '/return', '/safety'];
const STAFF_PAGES = ['/staff', '/setup', '/invite'];

interface NoticePart {
  lang: string | null;
  dir: string | null;
  text: string;
}

interface SeenPage {
  /** the id (or tag) of the first element shown in <main> */
  firstId: string;
  noticeVisible: boolean;
  parts: NoticePart[];
  /** every control a reader could use, and every text about one (the Esc hint), shown */
  controls: string[];
  /** links shown in <main> to a page that cannot work here either */
  deadLinks: string[];
}

/** What the page shows (a string run in the page, so this Node-side file needs no DOM types). */
async function readPage(page: Page): Promise<SeenPage> {
  return (await page.evaluate(`(() => {
    const visible = (e) => e.checkVisibility({ checkVisibilityCSS: true });
    const main = document.querySelector('main');
    const first = [...main.querySelectorAll('*')].find((e) => e.tagName !== 'NOSCRIPT' && visible(e));
    const notice = document.getElementById('noscript');
    const parts = notice ? [...notice.querySelectorAll(':scope > div')].map((d) => ({ lang: d.getAttribute('lang'), dir: d.getAttribute('dir'), text: d.innerText })) : [];
    const controls = [...document.querySelectorAll('button, input, select, textarea, form, [data-needs-script]')].filter(visible).map((e) => e.outerHTML.slice(0, 120));
    const deadLinks = [...main.querySelectorAll('a[href="/share"], a[href="/return"]')].filter(visible).map((e) => e.outerHTML.slice(0, 120));
    return { firstId: first ? first.id || first.tagName : '', noticeVisible: !!notice && visible(notice), parts, controls, deadLinks };
  })()`)) as SeenPage;
}

function expected(catalog: Record<NoscriptMessageKey, string>, lang: 'en' | 'ur', dir: 'ltr' | 'rtl'): NoticePart {
  return { lang, dir, text: NOSCRIPT_KEYS.map((k) => plain(catalog[k])).join('\n\n') };
}

describeInFirefox('Tor Browser at Safest (no JavaScript), in Firefox ESR', () => {
  let server: RunningServer;
  let firefox: Browser;
  let page: Page;
  beforeAll(async () => {
    server = await startServer();
    firefox = await launchFirefox('safest');
    page = await firefox.newPage();
  });
  afterAll(async () => {
    await firefox?.close();
    await server?.stop();
  });

  test.each([...SURVIVOR_PAGES, ...STAFF_PAGES])(
    '%s says first, in English and in Urdu, that it needs the Safer or Standard level, and offers no dead control',
    async (route) => {
      await page.goto(server.url + route);
      const seen = await readPage(page);
      expect(seen.noticeVisible).toBe(true);
      expect(seen.firstId).toBe('noscript');
      expect(seen.parts.map((p) => ({ ...p, text: p.text.trim() }))).toEqual([
        expected(noscriptEn, 'en', 'ltr'),
        expected(noscriptUr, 'ur', 'rtl'),
      ]);
      expect(seen.parts[0].text).toContain('the Safer or Standard security level');
      expect(seen.parts[0].text).toContain('the shield icon → Settings → Security Level → “Safer” or “Standard”');
      expect(seen.parts[0].text).toContain('encrypt your words on your own device');
      expect(seen.controls).toEqual([]);
      expect(seen.deadLinks).toEqual([]);
    },
  );

  test('scripts really are off: the landing page never fills in the fingerprint', async () => {
    await page.goto(server.url + '/');
    expect(await page.$eval('#fingerprint', (e) => e.textContent)).toBe('Loading…');
    expect(await page.$eval('#lang-switch', (e) => e.hasAttribute('hidden'))).toBe(true);
  });

  test.each(['/stories', '/stats'])('%s needs no script: it shows its content and no notice', async (route) => {
    await page.goto(server.url + route);
    const seen = await readPage(page);
    expect(seen.noticeVisible).toBe(false);
    expect(seen.firstId).not.toBe('noscript');
    expect(((await page.$eval('main h1', (e) => e.textContent)) ?? '').trim().length).toBeGreaterThan(0);
  });

  test('the safety page still reads without scripts, with what each Tor Browser level means', async () => {
    await page.goto(server.url + '/safety');
    const text = ((await page.evaluate("document.querySelector('main').innerText")) as string).replace(/\s+/g, ' ');
    for (const key of [
      'safety.torLevelsHeading',
      'safety.torStandard',
      'safety.torSafer',
      'safety.torSafest',
      'safety.torWhy',
      'safety.torHow',
    ] as const)
      expect(text).toContain(plain(en[key]));
  });
});
