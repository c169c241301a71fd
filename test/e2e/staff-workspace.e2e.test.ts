/**
 * The staff workspace in Chromium: a moderator enrolled with password and TOTP reads a case
 * and replies; the survivor sees the reply marked new and answers; the moderator reads the
 * answer; a moderator who joined later gets the older case re-wrapped by a colleague; and a
 * removed moderator can read nothing new (signed out, keys erased, not a recipient); and the
 * inbox pages forward and back by cursor through more cases than one page holds.
 */
import type { Browser } from 'playwright-core';
import { keyId, fromBase64url, randomId, STATUS_VALUES } from '../../protocol';
import type { Db } from '../../server/db/database';
import {
  acceptInvite,
  ADMIN,
  createInvite,
  MODERATOR,
  openView,
  setUpFirstAdmin,
  shareTestimony,
  signWaitingMembers,
  staffSignIn,
} from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

const LATECOMER = { username: 'sana.late', password: 'a long latecomer passphrase' };

describeInBrowser('staff workspace in Chromium', () => {
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

  async function kidOf(username: string): Promise<string> {
    const row = await db('staff').where({ username }).first();
    return keyId(fromBase64url(row.box_pk));
  }

  test('reply, answer, re-wrap for a newcomer, removal, and paging the inbox', async () => {
    const testimony = `TESTIMONY-${Date.now()}`;
    const reply = `REPLY-${Date.now()}`;
    const answer = `ANSWER-${Date.now()}`;

    const admin = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(admin.page, server.setupLink, true);
    await staffSignIn(admin.page, server.url, ADMIN);
    const invite = await createInvite(admin.page, 'moderator');
    const moderator = await newGuardedPage(browser, problems);
    await acceptInvite(moderator.page, invite, MODERATOR);
    await staffSignIn(admin.page, server.url, ADMIN);
    await signWaitingMembers(admin.page);

    const survivor = await newGuardedPage(browser, problems);
    const shared = await shareTestimony(survivor.page, server.url, testimony);

    // The moderator reads the case and replies.
    await staffSignIn(moderator.page, server.url, MODERATOR);
    const m = moderator.page;
    await m.getByRole('button', { name: `Open case of ${shared.handle}`, exact: false }).click();
    await m.locator('#case-body').filter({ hasText: testimony }).waitFor();
    await m.getByLabel('Reply to the survivor').fill(reply);
    await m.getByRole('button', { name: 'Send reply' }).click();
    await m.locator('#case-thread').filter({ hasText: reply }).waitFor();

    // The survivor comes back: the reply is there, marked new; they answer.
    const s = survivor.page;
    await s.goto(`${server.url}/return`);
    await s.getByLabel('Your codename').fill(shared.codename);
    await s.getByRole('button', { name: 'Open' }).click();
    await s.locator('.thread').filter({ hasText: reply }).waitFor({ timeout: 60_000 });
    await s.locator('.thread .badge').filter({ hasText: 'New' }).waitFor();
    // Written text takes its own direction, so an English reply reads right inside the Urdu layout.
    expect(await s.locator('.thread .text').first().getAttribute('dir')).toBe('auto');
    expect(await s.getByLabel('Write to the moderators').getAttribute('dir')).toBe('auto');
    await s.getByLabel('Write to the moderators').fill(answer);
    await s.getByRole('button', { name: 'Encrypt and send' }).click();
    await s.locator('.thread').filter({ hasText: answer }).waitFor({ timeout: 30_000 });
    await s.getByText('Your message was encrypted and sent.').waitFor();
    for (const r of survivor.sent) {
      expect(r.body).not.toContain(answer);
      expect(r.body).not.toContain(shared.codename);
    }

    // The moderator reads the answer.
    await m.getByRole('button', { name: 'Back to cases' }).click();
    await m.getByRole('button', { name: `Open case of ${shared.handle}`, exact: false }).click();
    await m.locator('#case-thread').filter({ hasText: answer }).waitFor();
    // The status menus offer every case status (protocol/values.ts), this case's own selected: the answer reopened it.
    const values = (menu: string) => m.locator(`${menu} option`).evaluateAll((options) => options.map((o) => o.getAttribute('value')));
    expect(await values('#filter-status')).toEqual(['', ...STATUS_VALUES]);
    expect(await values('#case-status-select')).toEqual([...STATUS_VALUES]);
    expect(await m.locator('#case-status-select').inputValue()).toBe('in_review');

    // A moderator who joins later cannot read the case until a colleague re-wraps it.
    await staffSignIn(admin.page, server.url, ADMIN);
    const invite2 = await createInvite(admin.page, 'moderator');
    const late = await newGuardedPage(browser, problems);
    await acceptInvite(late.page, invite2, LATECOMER);
    await staffSignIn(admin.page, server.url, ADMIN);
    await signWaitingMembers(admin.page);
    await staffSignIn(late.page, server.url, LATECOMER);
    await late.page.getByRole('button', { name: `Open case of ${shared.handle}`, exact: false }).click();
    await late.page.locator('#case-body [role="alert"]').waitFor();
    expect(await late.page.locator('#case-body').textContent()).not.toContain(testimony);

    // Sharing the moderator started and did not finish (the page closed) resumes by itself at the next sign-in.
    const idOf = async (username: string) => String((await db('staff').where({ username }).first()).id);
    const unfinishedKey = JSON.stringify(`awaaz.grants-unfinished.${await idOf(MODERATOR.username)}`);
    // Signed out first: a tab still signed in would reopen its workspace and resume there, racing the sign-out.
    await m.getByRole('button', { name: 'Log out', exact: true }).click();
    await m.locator('#step-login:visible').waitFor();
    await m.evaluate(`localStorage.setItem(${unfinishedKey}, ${JSON.stringify(JSON.stringify([await idOf(LATECOMER.username)]))})`);
    await staffSignIn(m, server.url, MODERATOR);
    await m
      .locator('#grant-status')
      .filter({ hasText: /Done: shared [1-9]/ })
      .waitFor({ timeout: 60_000 })
      .catch(async (e) => {
        throw new Error(`${e.message}\ngrant status: ${await m.locator('#grant-status').textContent()}`);
      });
    expect(await m.evaluate(`localStorage.getItem(${unfinishedKey})`)).toBeNull();
    // Shared as v2 grants (issue 17): one batch, one signature, each grant with its own path.
    const shared2 = (
      (await db('envelope_grants')
        .where({ kid: await kidOf(LATECOMER.username) })
        .pluck('body')) as string[]
    ).map((b) => JSON.parse(b) as { v: number; sig: string; index: number; count: number });
    expect(shared2.length).toBeGreaterThan(0);
    expect(shared2.every((g) => g.v === 2 && g.count === shared2.length)).toBe(true);
    expect(new Set(shared2.map((g) => g.sig)).size).toBe(1);
    expect(shared2.map((g) => g.index).sort((a, b) => a - b)).toEqual(shared2.map((_, i) => i));
    // Pressed again, there is nothing left to share.
    await m.getByRole('button', { name: `Share older cases with ${LATECOMER.username}` }).click();
    await m
      .locator('#grant-status')
      .filter({ hasText: 'Done: shared 0.' })
      .waitFor({ timeout: 60_000 })
      .catch(async (e) => {
        throw new Error(`${e.message}\ngrant status: ${await m.locator('#grant-status').textContent()}`);
      });
    expect(await m.locator('#grant-progress').getAttribute('value')).toBe(await m.locator('#grant-progress').getAttribute('max'));
    await late.page.getByRole('button', { name: 'Back to cases' }).click();
    await late.page.getByRole('button', { name: `Open case of ${shared.handle}`, exact: false }).click();
    await late.page.locator('#case-body').filter({ hasText: testimony }).waitFor();
    await late.page.locator('#case-thread').filter({ hasText: answer }).waitFor();

    // The admin removes the first moderator: signed out, keys erased, not a reader of anything new.
    const moderatorKid = await kidOf(MODERATOR.username);
    expect(await db('envelope_keys').where({ kid: moderatorKid }).whereNotNull('wrapped')).not.toEqual([]);
    await staffSignIn(admin.page, server.url, ADMIN);
    await openView(admin.page, 'Team');
    admin.page.once('dialog', (d) => d.accept());
    await admin.page.getByRole('button', { name: `Remove ${MODERATOR.username}` }).click();
    await admin.page.locator('#workspace-status').filter({ hasText: 'Signed version' }).waitFor();
    expect(await db('envelope_keys').where({ kid: moderatorKid }).whereNotNull('wrapped')).toEqual([]);
    expect(await db('envelope_grants').where({ kid: moderatorKid })).toEqual([]);

    // The removed moderator's open page can no longer load anything.
    await m.getByRole('button', { name: 'Show' }).click();
    await m.locator('#workspace-status[data-kind="error"]').waitFor();

    const after = `AFTER-REMOVAL-${Date.now()}`;
    // Envelope ids are random: the new message is the one whose id was not there before.
    const earlier = await db('envelopes').pluck('id');
    await s.getByLabel('Write to the moderators').fill(after);
    await s.getByRole('button', { name: 'Encrypt and send' }).click();
    // The survivor's page refetches the keyset; the new message is wrapped to the remaining readers only.
    await s
      .locator('.thread')
      .filter({ hasText: after })
      .waitFor({ timeout: 30_000 })
      .catch(async (e) => {
        throw new Error(`${e.message}\npage says: ${(await s.locator('#cases').textContent())?.slice(-400)}`);
      });
    const [last] = await db('envelopes').whereNotIn('id', earlier);
    const kids = (await db('envelope_keys').where({ envelope_id: last.id })).map((k: { kid: string }) => k.kid);
    expect(kids).not.toContain(moderatorKid);
    expect(kids).toContain(await kidOf(LATECOMER.username));

    // Paging: 110 more cases (written straight into the file; the inbox reads only case rows)
    // make three pages; Next and Previous walk them by cursor, no case twice.
    await db.transaction(async (trx) => {
      for (let n = 0; n < 110; n++) {
        const survivorId = randomId();
        await trx('survivors').insert({
          id: survivorId,
          handle: `S-PAGE-${String(n).padStart(4, '0')}`,
          sign_pk: randomId(),
          box_pk: randomId(),
          created_day: '2020-01-01',
        });
        await trx('cases').insert({
          id: randomId(),
          survivor_id: survivorId,
          status: 'new',
          created_day: `2020-01-${String(1 + (n % 28)).padStart(2, '0')}`,
          updated_day: '2020-01-01',
          awaiting_staff: true,
        });
      }
    });
    const l = late.page;
    const label = l.locator('#page-label');
    const handles = async () => (await l.locator('#cases tr td:first-child').allTextContents()).join(',');
    await l.getByRole('button', { name: 'Back to cases' }).click();
    await label.filter({ hasText: 'Page 1: cases 1–50 of 111' }).waitFor();
    expect(await l.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
    const seen = [await handles()];
    await l.getByRole('button', { name: 'Next' }).click();
    await label.filter({ hasText: 'Page 2: cases 51–100 of 111' }).waitFor();
    seen.push(await handles());
    await l.getByRole('button', { name: 'Next' }).click();
    await label.filter({ hasText: 'Page 3: cases 101–111 of 111' }).waitFor();
    seen.push(await handles());
    expect(await l.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    const all = seen.join(',').split(',');
    expect(new Set(all).size).toBe(111);
    await l.getByRole('button', { name: 'Previous' }).click();
    await label.filter({ hasText: 'Page 2: cases 51–100 of 111' }).waitFor();
    expect(await handles()).toBe(seen[1]);

    expect(problems).toEqual([]);
  });
});
