/**
 * The codename as a survivor sees it, in a real Chromium: eight numbered words in a grid read
 * row by row (2 columns on a phone, 4 on a wide screen), left to right and numbered 1 to 8 on
 * the Urdu page too, read in order by a screen reader; the list's text and the Copy button
 * both give the plain codename; no word of the list overflows its cell, on the narrowest
 * phone (320 px), at 640 px, or where the grid turns to 4 columns (768 px). And a codename
 * made from the BIP39 list before the list changed still opens on /return.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import type { Browser, Page } from 'playwright-core';
import {
  normalizeCodename,
  RETIRED_WORDS,
  signLogin,
  solvePow,
  survivorKeyPairs,
  survivorMaster,
  toBase64url,
  WORDLIST,
} from '../../protocol/survivor';
import { setUpFirstAdmin } from './flows';
import { describeInBrowser, guardPage, launchBrowser, startServer, type RunningServer, switchLanguage } from './support';
import { en, inPage, ur } from './safety-support';

interface Cell {
  text: string;
  left: number;
  right: number;
  top: number;
}

describeInBrowser('the codename on the share page', () => {
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

  async function codenameAt(width: number, language: 'en' | 'ur'): Promise<{ page: Page; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    await guardPage(page, problems);
    await page.goto(server.url + '/share');
    if (language === 'ur') await switchLanguage(page, 'ur');
    await page.getByRole('button', { name: (language === 'ur' ? ur : en)['share.makeCodename'] }).click();
    await page.getByTestId('codename').locator('li').nth(7).waitFor();
    return { page, close: () => context.close() };
  }

  const cells = (page: Page): Promise<Cell[]> =>
    page.locator('#codename li').evaluateAll((items) =>
      items.map((li) => {
        const r = li.getBoundingClientRect();
        return { text: li.textContent ?? '', left: Math.round(r.left), right: Math.round(r.right), top: Math.round(r.top) };
      }),
    );

  /** The items of the list named `name` as Chromium's accessibility tree (what a screen reader reads) holds them, in order, with the numbers the stylesheet draws. */
  async function spokenList(page: Page, name: string): Promise<string[]> {
    type AXNode = { nodeId: string; role?: { value: string }; name?: { value: string }; childIds?: string[] };
    const cdp = await page.context().newCDPSession(page);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] };
    await cdp.detach();
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    const text = (n: AXNode): string =>
      n.role?.value === 'StaticText' ? (n.name?.value ?? '') : (n.childIds ?? []).map((id) => text(byId.get(id)!)).join('');
    const list = nodes.find((n) => n.role?.value === 'list' && n.name?.value === name);
    if (!list) throw new Error(`no list named ${name} in the accessibility tree`);
    return (list.childIds ?? [])
      .map((id) => byId.get(id)!)
      .filter((n) => n.role?.value === 'listitem')
      .map((n) =>
        text(n)
          .replace(/\s+/g, ' ')
          .replace(/\.(?=\S)/, '. '),
      );
  }

  /** Column count and reading order: each row's cells left to right, rows top to bottom. */
  function grid(found: Cell[]): { columns: number; rowMajorLeftToRight: boolean } {
    const columns = new Set(found.map((c) => c.left)).size;
    const ordered = [...found].sort((a, b) => a.top - b.top || a.left - b.left);
    return { columns, rowMajorLeftToRight: ordered.every((c, i) => c === found[i]) };
  }

  test.each([
    ['en', 360, 2],
    ['ur', 360, 2],
    ['ur', 320, 2],
    ['en', 767, 2],
    ['en', 768, 4],
    ['en', 1024, 4],
    ['ur', 1024, 4],
  ] as const)('%s at %i px: 8 list items of codename words, %i columns, numbered left to right', async (language, width, columns) => {
    const { page, close } = await codenameAt(width, language);
    const list = page.getByTestId('codename');
    const found = await cells(page);
    const words = found.map((c) => c.text);
    expect(words).toHaveLength(8);
    for (const w of words) expect(WORDLIST).toContain(w);
    // the plain codename stays the list's text (tests and the Copy button rely on it)
    expect((await list.textContent())!.trim()).toBe(words.join(' '));
    expect(grid(found)).toEqual({ columns, rowMajorLeftToRight: true });
    expect(await list.evaluate(inPage('return [getComputedStyle(e).direction, e.lang, e.tagName]'))).toEqual(['ltr', 'en', 'OL']);
    // A screen reader meets a list named by the heading, its items in order, each with its number.
    const heading = (language === 'ur' ? ur : en)['share.codenameHeading'];
    expect(await spokenList(page, heading)).toEqual(words.map((w, i) => `${i + 1}. ${w}`));
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBe(width);
    await close();
    expect(problems).toEqual([]);
  });

  test('the Copy button copies the plain codename', async () => {
    const { page, close } = await codenameAt(360, 'en');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    const words = (await page.getByTestId('codename').textContent())!.trim();
    await page.getByRole('button', { name: en['share.copy'] }).click();
    await page.getByRole('button', { name: en['copy.done'] }).waitFor();
    // The pages' Permissions-Policy denies clipboard reading (server/http/security.ts), as it
    // should: the clipboard is read from a blank page of the same origin served by the test.
    const reader = await page.context().newPage();
    await reader.route(`${server.url}/clipboard-reader`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>clipboard reader</title>' }),
    );
    await reader.goto(`${server.url}/clipboard-reader`);
    await reader.bringToFront();
    expect(await reader.evaluate('navigator.clipboard.readText()')).toBe(words);
    expect(await page.evaluate('navigator.clipboard.readText().then(() => "read", (e) => e.name)')).toBe('NotAllowedError');
    expect(words.split(' ')).toHaveLength(8);
    // Once she has confirmed it, the clipboard no longer holds it (a codename copied again is emptied by Quick exit too).
    await page.bringToFront();
    await page.getByLabel('To be sure you kept it').fill(words);
    await page.getByRole('button', { name: en['share.confirmButton'] }).click();
    await page.getByLabel('What happened').waitFor();
    await reader.bringToFront();
    expect(await reader.evaluate('navigator.clipboard.readText()')).toBe('');
    await close();
    expect(problems).toEqual([]);
  });

  test.each([320, 360, 640, 768])('at %i px every word of the list fits its cell, even as word 8', async (width) => {
    const { page, close } = await codenameAt(width, 'ur');
    const overflowing = await page.getByTestId('codename').evaluate(
      inPage<string[]>(`
        const items = [...document.querySelectorAll('#codename li')];
        const last = items[items.length - 1];
        const out = [];
        for (const w of arg) {
          last.textContent = w;
          if (last.scrollWidth > last.clientWidth || last.getBoundingClientRect().right > e.getBoundingClientRect().right) out.push(w);
        }
        return out;`),
      WORDLIST.filter((w) => w.length >= 7),
    );
    expect(overflowing).toEqual([]);
    await close();
    expect(problems).toEqual([]);
  });

  test('a survivor registered with an old BIP39 codename, retired words and all, opens it on /return', async () => {
    const old = 'abuse assault gun knife abandon blood mother zoo';
    for (const w of ['abuse', 'assault', 'gun', 'knife', 'abandon', 'blood', 'mother']) expect(RETIRED_WORDS).toContain(w);
    // registered as a client did before: keys from the normalized codename, over the real HTTP API
    const post = async (path: string, body: object) => {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const { instanceId } = (await (await fetch(server.url + '/api/instance')).json()) as { instanceId: string };
    const keys = survivorKeyPairs(await survivorMaster(normalizeCodename(old), instanceId));
    const pow = (await post('/api/pow', {})).body as { challenge: string; bits: number };
    const registered = await post('/api/survivor/register', {
      signPk: toBase64url(keys.sign.publicKey),
      boxPk: toBase64url(keys.box.publicKey),
      pow: { challenge: pow.challenge, nonce: solvePow(pow.challenge, pow.bits) },
      sig: toBase64url(signLogin(instanceId, pow.challenge, keys.sign.secretKey)),
    });
    expect(registered.status).toBe(201);
    // an organisation with a signed keyset, which the return page checks before it lists anything
    const admin = await browser.newPage();
    await setUpFirstAdmin(admin, server.setupLink, true);
    await admin.close();

    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    await guardPage(page, problems);
    await page.goto(server.url + '/return');
    await page.getByLabel('Your codename').fill(' Abuse assault gun knife abandon blood mother zoo ');
    await page.getByRole('button', { name: en['return.open'], exact: true }).click();
    // the list appears only after the server accepted a login signed with the same keys
    await page.getByRole('heading', { name: en['return.listHeading'], exact: true }).waitFor({ timeout: 60_000 });
    expect(await page.locator('#login-status').textContent()).toBe('');
    await context.close();
    expect(problems).toEqual([]);
  });
});
