/**
 * The staff workspace as a desk, in Chromium (issue 15): the admin goes from setup to the
 * workspace without signing in again; views with addresses, Back and Forward; a reload keeps
 * the member signed in (the keys in sessionStorage sealed under the session's server-side key)
 * and signing out ends it; the admin compares a waiting member's key code and the comparison
 * catches a key swapped in the database; a new case and an answer appear without a reload, with
 * unread counts; the inbox and the open case side by side on a wide screen and in turn at
 * 360 px; opening marks the case read for that moderator; a reply keeps the status chosen; and
 * a case prints as a clean page.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the staff page in the browser;
 * the server paths it uses (read marks, unread counts, the session key, the keyset) run on
 * PostgreSQL in test/integration/workspace.test.ts and staff-auth.test.ts (scripts/test.sh).
 */
import nacl from 'tweetnacl';
import type { Browser, Page } from 'playwright-core';
import { fromBase64url, toBase64url } from '../../protocol';
import type { Db } from '../../server/db/database';
import {
  acceptInvite,
  ADMIN,
  createInvite,
  MODERATOR,
  openOwnTestimonies,
  openView,
  setUpFirstAdmin,
  shareTestimony,
  signWaitingMembers,
} from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

const LIVE_WAIT = 45_000; // the page asks every 20 s while visible

describeInBrowser('staff desk in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Db;
  const problems: string[] = [];

  beforeAll(async () => {
    // Every browser here shares 127.0.0.1: the per-address limits on sign-ins and on all
    // requests are raised, since four staff pages that each refresh their lists every 20 s
    // (client/lib/staff-live.ts) and sign in again and again count as one address.
    server = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    browser = await launchBrowser();
    db = server.openDb();
  });
  afterAll(async () => {
    await db?.destroy();
    await browser?.close();
    await server?.stop();
  });

  const hashOf = (page: Page) => new URL(page.url()).hash;
  const kept = (page: Page) => page.evaluate<string | null>("sessionStorage.getItem('awaaz.staff.sealedKeys')");

  test('views, reload, key codes, live updates, the desk, read marks, status and print', async () => {
    // Setup, then the workspace without a second sign-in.
    const admin = await newGuardedPage(browser, problems);
    const a = admin.page;
    await setUpFirstAdmin(a, server.setupLink, true);
    await a.getByRole('link', { name: 'Go to the staff workspace' }).click();
    await a.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
    expect(await a.locator('#whoami-name').textContent()).toContain(ADMIN.username);
    expect(await a.locator('#step-login').isVisible()).toBe(false);

    // What the tab keeps is sealed: not readable as it is, and it opens only with the session's key on the server.
    const sealed = (await kept(a))!;
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    const sealedBytes = fromBase64url(sealed);
    expect(Buffer.from(sealedBytes).toString('latin1')).not.toContain('"box"');
    const adminRow = await db('staff').where({ username: ADMIN.username }).first();
    const keys: string[] = await db('staff_sessions').where({ staff_id: adminRow.id }).whereNotNull('reload_key').pluck('reload_key');
    const opened = keys
      .map((k) => nacl.secretbox.open(sealedBytes.subarray(24), sealedBytes.subarray(0, 24), fromBase64url(k)))
      .find(Boolean);
    expect(opened).toBeTruthy();
    const body = JSON.parse(Buffer.from(opened!).toString('utf8'));
    expect(toBase64url(nacl.box.keyPair.fromSecretKey(fromBase64url(body.box)).publicKey)).toBe(adminRow.box_pk);

    // Views with addresses; Back and Forward move between them; an unknown address goes to the first view.
    expect(hashOf(a)).toBe('#/cases');
    const nav = a.getByRole('navigation', { name: 'Workspace' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Cases', 'Publishing', 'Team', 'Audit', 'Account']);
    await openView(a, 'Team');
    expect(hashOf(a)).toBe('#/team');
    expect(await a.locator('#inbox-panel').isVisible()).toBe(false);
    await openView(a, 'Audit');
    await a.getByRole('heading', { name: 'Audit log' }).waitFor();
    await a.goBack();
    await a.locator('#view-team:visible').waitFor();
    expect(await nav.getByRole('link', { name: 'Team' }).getAttribute('aria-current')).toBe('page');
    expect(await a.locator('#view-audit').isVisible()).toBe(false);
    await a.goBack();
    await a.locator('#view-cases:visible').waitFor();
    await a.goForward();
    await a.locator('#view-team:visible').waitFor();
    await a.goto(`${server.url}/staff#/nowhere`);
    await a.locator('#view-cases:visible').waitFor({ timeout: 30_000 });
    expect(hashOf(a)).toBe('#/cases');

    // A reload keeps the admin signed in, in the view the address names.
    await openView(a, 'Team');
    await a.reload();
    await a.locator('#view-team:visible').waitFor({ timeout: 30_000 });
    expect(await a.locator('#step-login').isVisible()).toBe(false);

    // A new moderator sees their key code on their own screen.
    const invite = await createInvite(a, 'moderator');
    const moderator = await newGuardedPage(browser, problems);
    const m = moderator.page;
    await acceptInvite(m, invite, MODERATOR);
    const memberCode = (await m.locator('#own-key-code').textContent())!.trim();
    expect(memberCode).toMatch(/^([0-9A-F]{4} ){7}[0-9A-F]{4}$/);
    await m.getByRole('link', { name: 'Go to the staff workspace' }).click();
    await m.locator('#pending-note:visible').waitFor({ timeout: 30_000 });
    expect((await m.locator('#own-key-code').textContent())!.trim()).toBe(memberCode);

    // The admin's screen shows the same code for them...
    await a.reload();
    const adminsCode = a.locator(`[data-key-code-of="${MODERATOR.username}"]`);
    await adminsCode.waitFor({ timeout: 30_000 });
    expect((await adminsCode.textContent())!.trim()).toBe(memberCode);

    // ...until someone writes another public key into the waiting member's row: the codes differ,
    // and the admin who compares cannot sign them in.
    const row = await db('staff').where({ username: MODERATOR.username }).first();
    await db('staff')
      .where({ id: row.id })
      .update({ box_pk: toBase64url(nacl.box.keyPair().publicKey) });
    await a.reload();
    await adminsCode.waitFor({ timeout: 30_000 });
    expect((await adminsCode.textContent())!.trim()).not.toBe(memberCode);
    await expect(signWaitingMembers(a, { [MODERATOR.username]: memberCode })).rejects.toThrow(/Compare each waiting member/);
    expect((await db('staff').where({ id: row.id }).first()).status).toBe('pending');
    expect(Number((await db('keysets').count({ n: '*' }))[0].n)).toBe(1);

    // With the member's own key back, the codes match and the admin signs them in.
    await db('staff').where({ id: row.id }).update({ box_pk: row.box_pk });
    await a.reload();
    await adminsCode.waitFor({ timeout: 30_000 });
    await signWaitingMembers(a, { [MODERATOR.username]: memberCode });
    expect((await db('staff').where({ id: row.id }).first()).status).toBe('active');

    // The moderator reloads into an empty inbox; a new case appears there without a reload, counted unread.
    await m.reload();
    await m.getByRole('navigation', { name: 'Workspace' }).waitFor({ timeout: 30_000 });
    await openView(m, 'Cases');
    await m.evaluate('window.awaazSameDocument = true');
    const sentBefore = moderator.sent.length;
    const startedAt = Date.now();
    const survivor = await newGuardedPage(browser, problems);
    const testimony = `DESK-TESTIMONY-${Date.now()}`;
    const shared = await shareTestimony(survivor.page, server.url, testimony);
    const open = m.getByRole('button', { name: `Open case of ${shared.handle}`, exact: false });
    await open.waitFor({ timeout: LIVE_WAIT });
    await m.locator('#count-cases:visible').filter({ hasText: /^1$/ }).waitFor({ timeout: LIVE_WAIT });
    expect(await m.locator('#cases tr.unread .badge').textContent()).toBe('unread');
    expect(await m.evaluate('window.awaazSameDocument')).toBe(true);
    // Modest polling: about two requests per round, one round per 20 s (and one more at most in flight).
    const rounds = Math.ceil((Date.now() - startedAt) / 20_000) + 1;
    expect(moderator.sent.length - sentBefore).toBeLessThanOrEqual(2 * rounds);

    // Wide screen: the inbox and the open case side by side; opening marks it read for this moderator only.
    const caseRow = await db('cases').first();
    await open.click();
    await m.locator('#case-body').filter({ hasText: testimony }).waitFor({ timeout: 30_000 });
    expect(hashOf(m)).toBe(`#/cases/${caseRow.id}`);
    const inboxBox = (await m.locator('#inbox-panel').boundingBox())!;
    const caseBox = (await m.locator('#case-panel').boundingBox())!;
    expect(await m.locator('#inbox-panel').isVisible()).toBe(true);
    expect(caseBox.x).toBeGreaterThanOrEqual(inboxBox.x + inboxBox.width - 1);
    expect(Math.abs(caseBox.y - inboxBox.y)).toBeLessThan(50);
    await m.locator('#count-cases').waitFor({ state: 'hidden' });
    await m.locator('#cases tr.unread').waitFor({ state: 'detached' });
    expect(await m.locator('#cases tr.open').count()).toBe(1);
    const moderatorRow = await db('staff').where({ username: MODERATOR.username }).first();
    expect(await db('case_reads').where({ case_id: caseRow.id }).select('staff_id', 'seq')).toEqual([
      { staff_id: moderatorRow.id, seq: 0 },
    ]);

    // One set of staff words: the inbox, the case summary and the menus say the same.
    expect(await m.locator('#case-body .testimony').textContent()).toContain('New');
    expect(await m.locator('#case-body').textContent()).not.toContain('Received, not yet read');

    // The status the moderator chose stays when they reply.
    await m.locator('#case-status-select').selectOption('in_review');
    await m.getByRole('button', { name: 'Save', exact: true }).click();
    await m.locator('#case-status').filter({ hasText: 'Saved.' }).waitFor();
    expect(await m.locator('#reply-status').inputValue()).toBe('in_review');
    const reply = `DESK-REPLY-${Date.now()}`;
    await m.getByLabel('Reply to the survivor').fill(reply);
    await m.getByRole('button', { name: 'Send reply' }).click();
    await m.locator('#case-thread').filter({ hasText: reply }).waitFor({ timeout: 30_000 });
    expect((await db('cases').where({ id: caseRow.id }).first()).status).toBe('in_review');
    expect(await m.locator('#case-status-select').inputValue()).toBe('in_review');
    const note = `DESK-NOTE-${Date.now()}`;
    await m.getByLabel('Add a note').fill(note);
    await m.getByRole('button', { name: 'Add note' }).click();
    await m.locator('#case-notes').filter({ hasText: note }).waitFor({ timeout: 30_000 });

    // The survivor answers; the open case shows it without a reload.
    const answer = `DESK-ANSWER-${Date.now()}`;
    const s = survivor.page;
    await openOwnTestimonies(s, server.url, shared.codename);
    await s.locator('.thread').filter({ hasText: reply }).waitFor({ timeout: 60_000 });
    await s.getByLabel('Write to the moderators').fill(answer);
    await s.getByRole('button', { name: 'Encrypt and send' }).click();
    await s.getByText('Your message was encrypted and sent.').waitFor({ timeout: 30_000 });
    await m.locator('#case-thread').filter({ hasText: answer }).waitFor({ timeout: LIVE_WAIT });
    expect(await m.evaluate('window.awaazSameDocument')).toBe(true);

    // Print: the decrypted case alone (testimony, conversation, notes), without the inbox, the navigation or the forms.
    await m.emulateMedia({ media: 'print' });
    for (const hidden of ['header.site', '#staff-nav', '#inbox-panel', '#reply-form', '#note-form', '#close-case'])
      expect({ hidden, visible: await m.locator(hidden).isVisible() }).toEqual({ hidden, visible: false });
    expect(await m.locator('#case-body').textContent()).toContain(testimony);
    expect(await m.locator('#case-thread').textContent()).toContain(answer);
    expect(await m.locator('#case-notes').isVisible()).toBe(true);
    expect(await m.locator('#case-notes').textContent()).toContain(note);
    await m.emulateMedia({ media: 'screen' });

    // Back closes the case, Forward opens it again; a reload keeps it open.
    await m.goBack();
    await m.locator('#case-panel').waitFor({ state: 'hidden' });
    expect(hashOf(m)).toBe('#/cases');
    await m.goForward();
    await m.locator('#case-body').filter({ hasText: testimony }).waitFor({ timeout: 30_000 });
    await m.reload();
    await m.locator('#case-body').filter({ hasText: testimony }).waitFor({ timeout: 30_000 });

    // A 360 px phone: one column, the case in place of the inbox, nothing wider than the screen.
    await m.setViewportSize({ width: 360, height: 740 });
    expect(await m.locator('#inbox-panel').isVisible()).toBe(false);
    expect(await m.locator('#case-panel').isVisible()).toBe(true);
    expect(await m.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await m.getByRole('button', { name: 'Back to cases' }).click();
    await m.locator('#inbox-panel:visible').waitFor();
    expect(await m.locator('#case-panel').isVisible()).toBe(false);
    expect(await m.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);

    // Signing out ends it: a reload asks to sign in, and nothing is kept in the tab or on the server.
    await m.getByRole('button', { name: 'Log out', exact: true }).click();
    await m.locator('#step-login:visible').waitFor({ timeout: 30_000 });
    await m.reload();
    await m.locator('#step-login:visible').waitFor({ timeout: 30_000 });
    expect(await m.locator('#step-workspace').isVisible()).toBe(false);
    expect(await kept(m)).toBeNull();
    expect(await db('staff_sessions').where({ staff_id: moderatorRow.id })).toEqual([]);

    expect(problems).toEqual([]);
  }, 400_000);
});
