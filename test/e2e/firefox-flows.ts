/**
 * What each person does in Firefox ESR (Tor Browser's engine), step by step, with
 * puppeteer-core over WebDriver BiDi: the Firefox counterparts of flows.ts (Playwright cannot
 * drive a stock Firefox). Elements are found by their ids, as the pages name them; what a
 * person reads is checked as text. AWAAZ_TRACE=1 prints each step with the time, to see where
 * a slow run spends it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { launchFirefox, type TorLevel } from '../support/firefox';
import { jpegWithExif } from '../support/evidence-files';
import { authenticators, nextTotpCode, setUpFirstAdmin } from './flows';
import { launchBrowser, startServer, type RunningServer } from './support';

/** Waits until the element is shown; when the `error` region shows first, fails with what it says. */
export async function shown(page: Page, selector: string, timeout = 30_000, error?: string): Promise<void> {
  if (process.env.AWAAZ_TRACE) console.log(new Date().toISOString(), 'shown?', selector);
  const found = await page.waitForSelector(error ? `${selector}, ${error}` : selector, { visible: true, timeout });
  if (error && (await found!.evaluate((e, err) => e.matches(err), error)))
    throw new Error(`${page.url()} says: ${await found!.evaluate((e) => e.textContent)}`);
}

/** Waits until the element's text contains `text`. */
export async function textShown(page: Page, selector: string, text: string, timeout = 30_000): Promise<void> {
  if (process.env.AWAAZ_TRACE) console.log(new Date().toISOString(), 'text?', selector, text);
  await page
    .waitForFunction(`(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '').includes(${JSON.stringify(text)})`, {
      timeout,
    })
    .catch(async (e: Error) => {
      const now = await page.$eval(selector, (el) => el.textContent).catch(() => '(no such element)');
      throw new Error(`${e.message}: "${text}" not in ${selector}, which says: ${now?.slice(-400)}`);
    });
}

/** Types into a field (puppeteer's fill), naming the field and the page when it cannot. */
export async function fill(page: Page, selector: string, value: string): Promise<void> {
  if (process.env.AWAAZ_TRACE) console.log(new Date().toISOString(), 'fill', selector);
  await page
    .locator(selector)
    .fill(value)
    .catch((e: Error) => {
      throw new Error(`${page.url()}: cannot fill ${selector}: ${e.message}`);
    });
}

export async function press(page: Page, selector: string): Promise<void> {
  if (process.env.AWAAZ_TRACE) console.log(new Date().toISOString(), 'press', selector);
  await page
    .locator(selector)
    .click()
    .catch((e: Error) => {
      throw new Error(`${page.url()}: cannot press ${selector}: ${e.message}`);
    });
}

/** Records page errors and CSP violations (the page's CSP must hold in Firefox too). */
export async function guardFirefoxPage(page: Page, problems: string[]): Promise<void> {
  // Runs in the page (a string, so this Node-side file needs no DOM types).
  await page.evaluateOnNewDocument(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /CSP violation|Content[- ]Security[- ]Policy/i.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err instanceof Error ? err.message : String(err)}`));
}

/**
 * A fresh private context (like a new Tor Browser identity) with one guarded page. The flows
 * below bring their page to the front first: Firefox pauses animation frames in a background
 * tab, and puppeteer waits for them before it clicks or types.
 */
export async function firefoxPage(browser: Browser, problems: string[]): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await guardFirefoxPage(page, problems);
  return { context, page };
}

/**
 * For one Firefox test file: a server, its first admin (also a moderator) set up in Chromium
 * (the setup is not what these files test, and Chromium does it fastest), then Firefox ESR at
 * one of Tor Browser's security levels.
 */
export function firefoxWorld(level: TorLevel): () => { server: RunningServer; firefox: Browser } {
  let server: RunningServer | undefined;
  let firefox: Browser | undefined;
  beforeAll(async () => {
    server = await startServer();
    const chromium = await launchBrowser();
    try {
      await setUpFirstAdmin(await chromium.newPage(), server.setupLink, true);
    } finally {
      await chromium.close();
    }
    firefox = await launchFirefox(level);
  });
  afterAll(async () => {
    await firefox?.close();
    await server?.stop();
  });
  return () => {
    if (!server || !firefox) throw new Error('the Firefox world was not set up (see beforeAll)');
    return { server, firefox };
  };
}

/** A real JPEG, drawn on a canvas by Firefox itself, with a camera's EXIF block added, written to a file to attach. */
export async function jpegFile(browser: Browser): Promise<string> {
  const page = await browser.newPage();
  try {
    const base64 = (await page.evaluate(`(() => {
      const c = document.createElement('canvas');
      c.width = 40; c.height = 20;
      const g = c.getContext('2d');
      g.fillStyle = '#d33'; g.fillRect(0, 0, 40, 20);
      g.fillStyle = '#33d'; g.fillRect(0, 0, 20, 10);
      return c.toDataURL('image/jpeg', 0.9).split(',')[1];
    })()`)) as string;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-evidence-')), 'IMG_2041.jpg');
    fs.writeFileSync(file, jpegWithExif(Buffer.from(base64, 'base64'), 1));
    return file;
  } finally {
    await page.close();
  }
}

export interface FirefoxShared {
  codename: string;
  handle: string;
}

/** From the landing page to a sent testimony, with files attached as evidence. */
export async function shareInFirefox(
  page: Page,
  baseUrl: string,
  what: string,
  files: string[],
  choices: { advocatesMayRead?: boolean } = {},
): Promise<FirefoxShared> {
  await page.bringToFront();
  await page.goto(baseUrl);
  await Promise.all([page.waitForNavigation(), press(page, 'a.button[href="/share"]')]);
  await shown(page, '#make-codename:not([disabled])');
  await press(page, '#make-codename');
  await shown(page, '#step-codename', 60_000, '#status[data-kind="error"]');
  const codename = (await page.$eval('#codename', (e) => e.textContent ?? '')).trim();
  await fill(page, '#codename-check', codename);
  await press(page, '#confirm-form button[type="submit"]');
  await shown(page, '#step-write');
  await fill(page, '#what', what);
  await fill(page, '#when', 'spring 2018');
  await page.select('#context', 'workplace');
  if (choices.advocatesMayRead) await press(page, '#share-advocates');
  if (files.length > 0) {
    const input = await page.waitForSelector('#evidence input[type="file"]');
    await input!.uploadFile(...files);
    // The first file loads the evidence tools; each file gets its row once it is cleaned.
    await page.waitForFunction(`document.querySelectorAll('ul.evidence > li').length >= ${files.length}`, { timeout: 30_000 });
    await page.waitForFunction(
      "![...document.querySelectorAll('ul.evidence > li')].some((li) => /Removing hidden details/.test(li.textContent))",
      { timeout: 30_000 },
    );
  }
  await press(page, '#testimony-form button[type="submit"]');
  await shown(page, '#step-done', 90_000, '#write-status[data-kind="error"]');
  const handle = (await page.$eval('#handle', (e) => e.textContent ?? '')).trim();
  return { codename, handle };
}

/** Staff sign-in with password and a fresh TOTP code from the authenticator flows.ts keeps. */
export async function staffSignInFirefox(page: Page, baseUrl: string, who: { username: string; password: string }): Promise<void> {
  await page.bringToFront();
  const app = authenticators.get(who.username);
  if (!app) throw new Error(`${who.username} has not enrolled TOTP in this run`);
  await page.goto(`${baseUrl}/staff`);
  await fill(page, '#username', who.username);
  await fill(page, '#password', who.password);
  await fill(page, '#code', await nextTotpCode(app, 'wait'));
  await press(page, '#login-form button[type="submit"]');
  // At Safer the password's key derivation runs without WebAssembly or JIT: it takes a while.
  await shown(page, '#step-workspace', 120_000, '#login-status[data-kind="error"]');
}

/** In the staff workspace: opens the case of this handle and waits for its testimony to be decrypted. */
export async function openCaseFirefox(page: Page, handle: string, expected: string): Promise<string> {
  await page.bringToFront();
  const open = `#cases button[aria-label^="Open case of ${handle} "]`;
  await shown(page, open);
  await press(page, open);
  await textShown(page, '#case-body', expected);
  return page.$eval('#case-body', (e) => e.textContent ?? '');
}

export async function staffReplyFirefox(page: Page, reply: string): Promise<void> {
  await page.bringToFront();
  await fill(page, '#reply-text', reply);
  await press(page, '#reply-form button[type="submit"]');
  await textShown(page, '#case-thread', reply);
}

/** The return page: the codename opens her testimonies (the key derivation runs here). */
export async function returnInFirefox(page: Page, baseUrl: string, codename: string): Promise<void> {
  await page.bringToFront();
  await page.goto(`${baseUrl}/return`);
  await fill(page, '#codename', codename);
  await press(page, '#login-form button[type="submit"]');
  await shown(page, '#step-list', 90_000, '#login-status[data-kind="error"]');
}

/** Answers in the first case's conversation and waits until the page shows it sent. */
export async function survivorAnswerFirefox(page: Page, answer: string): Promise<void> {
  await page.bringToFront();
  const field = '#cases textarea[id^="reply-"]';
  await shown(page, field);
  await fill(page, field, answer);
  await press(page, '#cases form:has(textarea[id^="reply-"]) button[type="submit"]');
  await textShown(page, '#cases .thread', answer);
  await textShown(page, '#cases', 'Your message was encrypted and sent.');
}

/**
 * The whole journey at one security level, as a test file's body: a survivor shares with a
 * JPEG attached; the moderator signs in (password and TOTP), reads it with its evidence and
 * replies; the survivor returns with the codename, reads the reply and answers; the moderator
 * reads the answer. Everyone in Firefox ESR at this level; nothing in clear leaves the browser.
 */
export function firefoxJourney(level: TorLevel, moderator: { username: string; password: string }): void {
  const world = firefoxWorld(level);
  const problems: string[] = [];

  test(`at ${level}: share with a JPEG, staff sign-in with TOTP and reply, return with the codename and answer`, async () => {
    const { server, firefox } = world();
    const testimony = `At ${level}, what happened: MARKER-${Date.now()}`;
    const reply = `REPLY-${level}-${Date.now()}`;
    const answer = `ANSWER-${level}-${Date.now()}`;

    const survivor = await firefoxPage(firefox, problems);
    // (WebDriver BiDi gives no request bodies: the URLs are checked here, what was stored below.)
    const sent: string[] = [];
    survivor.page.on('request', (r) => sent.push(r.url()));
    const jpeg = await jpegFile(firefox);
    const shared = await shareInFirefox(survivor.page, server.url, testimony, [jpeg]);
    expect(shared.codename.split(' ')).toHaveLength(8);
    expect(shared.handle).toMatch(/^S-/);

    const staff = await firefoxPage(firefox, problems);
    await staffSignInFirefox(staff.page, server.url, moderator);
    const caseText = await openCaseFirefox(staff.page, shared.handle, testimony);
    expect(caseText).toContain('attachment-1.jpg');
    await staffReplyFirefox(staff.page, reply);

    await returnInFirefox(survivor.page, server.url, shared.codename);
    // With scripts on, the Safest notice is not even in the page.
    expect(await survivor.page.$('#noscript')).toBeNull();
    await textShown(survivor.page, '#cases', testimony);
    await textShown(survivor.page, '#cases .thread', reply);
    await survivorAnswerFirefox(survivor.page, answer);

    await staff.page.bringToFront();
    await press(staff.page, '#close-case');
    await openCaseFirefox(staff.page, shared.handle, testimony);
    await textShown(staff.page, '#case-thread', answer);

    // Nothing the survivor typed is in a URL she sent, in the database or in the server's log; the pages broke no rule.
    expect(sent.length).toBeGreaterThan(0);
    const stored = await server.storedBytes();
    for (const secret of [testimony, answer, shared.codename]) {
      for (const url of sent) expect(decodeURIComponent(url)).not.toContain(secret);
      expect(stored.includes(Buffer.from(secret))).toBe(false);
      expect(server.output()).not.toContain(secret);
    }
    expect(problems).toEqual([]);
    fs.rmSync(path.dirname(jpeg), { recursive: true, force: true });
    await survivor.context.close();
    await staff.context.close();
  }, 300_000);
}
