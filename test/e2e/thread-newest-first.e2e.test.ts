/**
 * A long case in the real staff page, in Chromium (issue 17, "any case opens at once"): a
 * thread of 150 entries (the testimony shared in the browser, then 149 survivor messages
 * sealed in Node with protocol/ and posted through the real API) shows its newest messages
 * while the older ones are still being checked, under an accessible note, keeps a reader's
 * place while older ones are added above (beside the inbox and on a phone), and ends with
 * every message in order. With one
 * byte of an older message's signature flipped in the database, the page replaces everything
 * it showed with the error: nothing of the thread stays on screen. With one byte of its
 * ciphertext flipped instead (which breaks the next message's link), the page shows nothing
 * of the thread at all, since every link is checked before the first slice is drawn.
 *
 * What the page showed is recorded by a MutationObserver in the page, after each change of
 * the case panel: no clock is read.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests how the page draws a long
 * thread; the server's thread routes run on PostgreSQL in test/integration/threads.test.ts
 * (scripts/test.sh).
 */
import type { Browser, Page } from 'playwright-core';
import {
  envelopeHash,
  normalizeCodename,
  readersOf,
  sealEnvelope,
  signLogin,
  survivorKeyPairs,
  survivorMaster,
  toBase64url,
  type SignedKeyset,
} from '../../protocol';
import type { InstanceInfo, SurvivorCase } from '../../protocol/api';
import type { Db } from '../../server/db/database';
import { ADMIN, setUpFirstAdmin, shareTestimony, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

const MESSAGES = 149;
const label = (i: number) => `M-${String(i).padStart(3, '0')}`;

/** What the page showed after one change of the case panel. */
interface Shown {
  items: number;
  first: string;
  last: string;
  checking: boolean;
  note: string;
  busy: string | null;
  body: string;
  alert: boolean;
  /** the newest message's distance from the top of the window, once the reader scrolled to it */
  newestTop: number | null;
}

/**
 * Records what the case panel shows after every change. The first time the newest message
 * shows, it scrolls it into view, as a reader going to the end of the conversation would.
 */
const RECORD = `(() => {
  window.__shown = [];
  let scrolled = false;
  const panel = document.getElementById('case-panel');
  if (window.__recorder) window.__recorder.disconnect(); // the one of an earlier opening
  window.__recorder = new MutationObserver(() => {
    const thread = document.getElementById('case-thread');
    const note = document.getElementById('thread-progress');
    const items = thread.querySelectorAll('li');
    const last = items[items.length - 1];
    if (last && !scrolled && !note.hidden) {
      last.scrollIntoView({ block: 'end' });
      scrolled = true;
    }
    window.__shown.push({
      items: items.length,
      first: items[0] ? items[0].textContent : '',
      last: last ? last.textContent : '',
      checking: !note.hidden,
      note: note.textContent,
      busy: thread.getAttribute('aria-busy'),
      body: document.getElementById('case-body').textContent,
      alert: !!document.querySelector('#case-body [role="alert"]'),
      newestTop: scrolled && last ? last.getBoundingClientRect().top : null,
    });
  });
  window.__recorder.observe(panel, { childList: true, subtree: true, characterData: true, attributes: true });
})()`;

async function json<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The survivor comes back in Node (her keys from her codename) and writes `count` messages after the testimony. */
async function writeMessages(base: string, codename: string, count: number): Promise<string> {
  const info = await json<InstanceInfo>(base, 'GET', '/api/instance');
  const keyset = info.keyset as unknown as SignedKeyset;
  const keys = survivorKeyPairs(await survivorMaster(normalizeCodename(codename), info.instanceId));
  const { challenge } = await json<{ challenge: string }>(base, 'POST', '/api/survivor/challenge', {});
  const { token } = await json<{ token: string }>(base, 'POST', '/api/survivor/session', {
    signPk: toBase64url(keys.sign.publicKey),
    challenge,
    sig: toBase64url(signLogin(info.instanceId, challenge, keys.sign.secretKey)),
  });
  const [mine] = (await json<{ cases: SurvivorCase[] }>(base, 'GET', '/api/survivor/cases', undefined, token)).cases;
  let prev = envelopeHash(mine.thread[mine.thread.length - 1].envelope);
  for (let i = 1; i <= count; i++) {
    const envelope = sealEnvelope({
      kind: 'message',
      caseId: mine.caseId,
      prev,
      body: { text: `${label(i)} a message of the long thread` },
      recipients: [keys.box.publicKey, ...readersOf(keyset.keyset)],
      signer: keys.sign,
    });
    await json(base, 'POST', `/api/survivor/cases/${mine.caseId}/messages`, { envelope, keysetVersion: keyset.keyset.version }, token);
    prev = envelopeHash(envelope);
  }
  return mine.caseId;
}

describeInBrowser('a long thread opens newest first in the staff page (Chromium)', () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Db;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    browser = await launchBrowser();
    db = server.openDb();
  });
  afterAll(async () => {
    await db?.destroy();
    await browser?.close();
    await server?.stop();
  });

  async function openRecorded(page: Page, handle: string): Promise<void> {
    await page.evaluate(RECORD);
    await page.getByRole('button', { name: `Open case of ${handle}`, exact: false }).click();
  }
  const shown = (page: Page) => page.evaluate<Shown[]>('window.__shown');

  test('the newest messages show first, the older ones follow in order, and a tampered older one takes everything back', async () => {
    const testimony = `TESTIMONY-${Date.now()}`;
    const admin = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(admin.page, server.setupLink, true);
    const survivor = await newGuardedPage(browser, problems);
    const shared = await shareTestimony(survivor.page, server.url, testimony);
    const caseId = await writeMessages(server.url, shared.codename, MESSAGES);

    const m = admin.page;
    await staffSignIn(m, server.url, ADMIN);
    await openRecorded(m, shared.handle);
    await m.locator('#case-body').filter({ hasText: testimony }).waitFor({ timeout: 60_000 });
    await m.locator('#case-thread:not([aria-busy])').waitFor();

    // Every message, in the order written, and the note gone.
    const texts = await m.locator('#case-thread li .text').allTextContents();
    expect(texts).toEqual(Array.from({ length: MESSAGES }, (_, k) => `${label(k + 1)} a message of the long thread`));
    expect(await m.locator('#thread-progress').isHidden()).toBe(true);

    const log = (await shown(m)).filter((s) => s.items > 0);
    // Newest first: whatever was shown was the newest messages, with none missing between them.
    for (const s of log) {
      expect(s.last).toContain(label(MESSAGES));
      expect(s.first).toContain(label(MESSAGES + 1 - s.items));
    }
    // The newest showed while the older ones were still being checked, under the note, the thread marked busy.
    const early = log.filter((s) => s.checking);
    expect(early.length).toBeGreaterThan(0);
    expect(early[0].items).toBeLessThan(MESSAGES);
    for (const s of early) {
      expect(s.note).toMatch(new RegExp(`^Checking older messages… \\(\\d+ of ${MESSAGES + 1}\\)$`));
      expect(s.busy).toBe('true');
      expect(s.body).not.toContain(testimony); // the testimony, the oldest entry, comes last
    }
    expect(log[log.length - 1]).toMatchObject({ items: MESSAGES, checking: false, busy: null });
    // The reader who went to the newest message kept it in place while older ones were added
    // above (to a pixel or two of rounding: each slice added would move it by hundreds).
    const tops = log.map((s) => s.newestTop).filter((t): t is number => t !== null);
    expect(tops.length).toBeGreaterThan(1);
    for (const top of tops) expect(Math.abs(top - tops[0])).toBeLessThanOrEqual(4);

    // On a phone the page itself scrolls, not the case panel: opened again there (signatures
    // remembered, still a slice at a time), the reader's place is kept the same way.
    await m.getByRole('button', { name: 'Back to cases' }).click();
    await m.setViewportSize({ width: 390, height: 800 });
    await openRecorded(m, shared.handle);
    await m.locator('#case-body').filter({ hasText: testimony }).waitFor({ timeout: 60_000 });
    await m.locator('#case-thread:not([aria-busy])').waitFor();
    expect(await m.locator('#case-thread li .text').allTextContents()).toEqual(texts);
    const onPhone = (await shown(m)).map((s) => s.newestTop).filter((t): t is number => t !== null);
    expect(onPhone.length).toBeGreaterThan(1);
    for (const top of onPhone) expect(Math.abs(top - onPhone[0])).toBeLessThanOrEqual(4);
    await m.setViewportSize({ width: 1280, height: 720 });

    // One byte of message 10's signature flipped where it is stored (the links do not cover
    // signatures): opened again, the page shows the newest slices, then meets message 10 and
    // takes everything back.
    const row = await db('envelopes').where({ case_id: caseId, seq: 10 }).first();
    const flipped = (text: string) => text.slice(0, 40) + (text[40] === 'A' ? 'B' : 'A') + text.slice(41);
    const storeMessage10 = (change: (body: Record<string, string>) => void) => {
      const body = JSON.parse(row.body);
      change(body);
      return db('envelopes')
        .where({ id: row.id })
        .update({ body: JSON.stringify(body) });
    };
    await storeMessage10((body) => (body.sig = flipped(body.sig)));
    await m.getByRole('button', { name: 'Back to cases' }).click();
    await openRecorded(m, shared.handle);
    await m.locator('#case-body [role="alert"]').waitFor({ timeout: 60_000 });
    expect(await m.locator('#case-body').textContent()).toMatch(/This case could not be opened safely: .*signature/);
    expect(await m.locator('#case-thread li').count()).toBe(0);
    expect(await m.locator('#thread-progress').isHidden()).toBe(true);
    const panel = (await m.locator('#case-panel').textContent()) ?? '';
    expect(panel).not.toMatch(/M-\d{3}/);
    expect(panel).not.toContain(testimony);
    const tampered = await shown(m);
    // It had shown verified newest messages before it reached the tampered one.
    expect(tampered.some((s) => s.checking && s.items > 0 && s.last.includes(label(MESSAGES)))).toBe(true);
    expect(tampered[tampered.length - 1]).toMatchObject({ items: 0, alert: true, checking: false });

    // One byte of its ciphertext flipped instead: message 11 no longer follows it, and the
    // page, which checks every link before it draws, shows nothing of the thread at all.
    await storeMessage10((body) => (body.ciphertext = flipped(body.ciphertext)));
    await m.getByRole('button', { name: 'Back to cases' }).click();
    await openRecorded(m, shared.handle);
    await m.locator('#case-body [role="alert"]').waitFor({ timeout: 60_000 });
    expect(await m.locator('#case-body').textContent()).toMatch(/This case could not be opened safely: .*does not follow/);
    const unlinked = await shown(m);
    expect(unlinked.some((s) => s.items > 0)).toBe(false);
    expect(unlinked[unlinked.length - 1]).toMatchObject({ items: 0, alert: true, checking: false });

    // A reply is refused while the thread fails its check.
    await m.getByLabel('Reply to the survivor').fill('a reply that must not go');
    await m.getByRole('button', { name: 'Send reply' }).click();
    await m.locator('#case-status').filter({ hasText: 'no reply was sent' }).waitFor();
    expect(Number((await db('envelopes').where({ case_id: caseId }).count({ n: '*' }))[0].n)).toBe(MESSAGES + 1);
    expect(problems).toEqual([]);
  });
});
