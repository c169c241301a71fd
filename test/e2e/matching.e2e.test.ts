/**
 * The matching escrow in Chromium, end to end through the built server: two survivors name one
 * phone number written two different ways, one on the share page as soon as her testimony is
 * sent, the other later on her return page; a third names another. The
 * matching counselor's workspace shows exactly one match, confirmed by opening both sealed
 * entries in the browser, and the counselor reads both testimonies; once one of the two
 * withdraws, the match is gone. The matching code loads
 * only when a survivor chooses to add an identifier, and neither a request nor the stored
 * database holds any of the numbers in the clear. After a key rotation, a survivor's browser
 * derives her tag again on her next visit.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { fromBase64url } from '../../protocol';
import { matchTag, normalizeIdentifier, sealMatchEntry } from '../../protocol/matching';
import {
  acceptInvite,
  ADMIN,
  createInvite,
  openView,
  setUpMatchingTeam,
  shareTestimony,
  signWaitingMembers,
  staffSignIn,
  type Shared,
} from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer, type SentRequest } from './support';

const COUNSELOR = { username: 'zara.counsel', password: 'a long counselor passphrase' };
const LATER = { username: 'nadia.counsel', password: 'a long passphrase for the second counselor' };

describeInBrowser('matching escrow in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The survivor opens her page, chooses to add an identifier, reads what happens, and adds a phone number. */
  async function namePhone(page: Page, sent: SentRequest[], shared: Shared, written: string, normal: string, on = server): Promise<void> {
    await page.goto(`${on.url}/return`);
    await page.getByLabel('Your codename').fill(shared.codename);
    await page.getByRole('button', { name: 'Open' }).click();
    await addPhone(page, sent, written, normal);
  }

  /** On a page that offers it (return after sign-in, share once sent): she reads what happens and adds a phone number. */
  async function addPhone(page: Page, sent: SentRequest[], written: string, normal: string): Promise<void> {
    await page.getByRole('heading', { name: 'Has this person harmed others?' }).waitFor({ timeout: 60_000 });
    expect(sent.filter((r) => r.url.endsWith('/assets/matching.js'))).toEqual([]); // not loaded before she chooses
    await page.getByRole('button', { name: 'Add a phone, email or profile' }).click();
    await page.getByText('Nothing about it is revealed unless another survivor names the same').waitFor({ timeout: 30_000 });
    expect(sent.filter((r) => r.url.endsWith('/assets/matching.js'))).toHaveLength(1);
    await page.getByLabel('What you know of the person').selectOption('phone');
    await page.getByLabel('The number, address or profile').fill(written);
    await page.locator('#matching-preview').filter({ hasText: normal }).waitFor();
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Tick the box to confirm that you have read what happens.').waitFor(); // she must confirm first
    await page.getByLabel('I have read what happens and I want to add it').check();
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Added. It stays sealed unless another survivor names the same.').waitFor({ timeout: 30_000 });
    await page.locator('#matching-list').filter({ hasText: normal }).waitFor();
  }

  /**
   * Her entry as a version before YouTube handles kept their @ wrote it, under the current key
   * (1) and a tag of that spelling, sealed to the counselor (and `alsoTo`) and her.
   */
  async function olderFormEntry(db: ReturnType<RunningServer['openDb']>, shared: Shared, olderId: string, alsoTo: Uint8Array[] = []) {
    const survivor = await db('survivors').where({ handle: shared.handle }).first();
    const caseRow = await db('cases').where({ survivor_id: survivor.id }).first();
    const counselorRow = await db('staff').where({ username: COUNSELOR.username }).first();
    const olderTag = matchTag(crypto.randomBytes(64));
    const sealed = sealMatchEntry({
      identifier: { type: 'social', value: 'youtube:alikhan' },
      caseId: caseRow.id,
      tag: olderTag,
      keyVersion: 1,
      recipients: [fromBase64url(counselorRow.box_pk), ...alsoTo, fromBase64url(survivor.box_pk)],
    });
    await db('matching_entries').insert({
      id: olderId,
      survivor_id: survivor.id,
      tag: olderTag,
      key_version: 1,
      sealed: JSON.stringify(sealed),
      created_day: new Date().toISOString().slice(0, 10),
    });
    return { survivor, olderId, olderTag };
  }

  /** The admin sets the instance up and invites a moderator who is also the matching counselor. */
  const setUpTeam = (on: RunningServer): Promise<Page> => setUpMatchingTeam(browser, (b) => newGuardedPage(b, problems), on, COUNSELOR);

  test('two spellings of one number match, a third survivor matches nothing, nothing is stored in the clear', async () => {
    const counselorPage = await setUpTeam(server);

    const stamp = Date.now();
    const testimonies = [`FIRST-TESTIMONY-${stamp}`, `SECOND-TESTIMONY-${stamp}`, `THIRD-TESTIMONY-${stamp}`];
    const written = ['0300-1234567', '+92 300 1234567', '0321 7654321'];
    const normal = ['+923001234567', '+923001234567', '+923217654321'];
    const survivors: Shared[] = [];
    const pages: Page[] = [];
    const allSent: SentRequest[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await newGuardedPage(browser, problems);
      const shared = await shareTestimony(s.page, server.url, testimonies[i]);
      survivors.push(shared);
      pages.push(s.page);
      // The first names the person as soon as her testimony is sent, on the share page; the others later, from their return page.
      if (i === 0) await addPhone(s.page, s.sent, written[i], normal[i]);
      else await namePhone(s.page, s.sent, shared, written[i], normal[i]);
      allSent.push(...s.sent);
    }

    // The counselor: one confirmed match, between the first two survivors; both testimonies readable.
    await staffSignIn(counselorPage, server.url, COUNSELOR);
    await openView(counselorPage, 'Matches');
    const c = counselorPage;
    await c.getByRole('heading', { name: 'Matches' }).waitFor();
    await c.locator('#matching-status').filter({ hasText: '1 confirmed match.' }).waitFor({ timeout: 30_000 });
    expect(await c.locator('#matching-list article.match').count()).toBe(1);
    const match = c.locator('#matching-list article.match[data-confirmed="true"]');
    await match.getByRole('heading', { name: 'Match: phone +923001234567' }).waitFor();
    const listed = (await match.textContent()) ?? '';
    expect(listed).toContain(survivors[0].handle);
    expect(listed).toContain(survivors[1].handle);
    expect(listed).not.toContain(survivors[2].handle);
    expect(await c.locator('#matching-list .match-refused').count()).toBe(0);
    for (const i of [0, 1]) {
      await match.getByRole('button', { name: `Read the case of ${survivors[i].handle}` }).click();
      await c.locator('#matching-cases').filter({ hasText: testimonies[i] }).waitFor({ timeout: 30_000 });
    }
    expect((await c.locator('#matching-cases').textContent()) ?? '').not.toContain(testimonies[2]);

    // The second survivor withdraws her identifier: the match is gone.
    await pages[1].locator('#matching-list li').filter({ hasText: normal[1] }).getByRole('button', { name: 'Withdraw' }).click();
    await pages[1].getByText('Withdrawn. It will no longer match.').waitFor({ timeout: 30_000 });
    await pages[1].locator('#matching-list').filter({ hasText: 'Nothing yet.' }).waitFor();
    await c.getByRole('button', { name: 'Check again' }).click();
    await c.locator('#matching-status').filter({ hasText: '0 confirmed matches.' }).waitFor({ timeout: 30_000 });
    await c.getByText('No two survivors have named the same person.').waitFor();

    // Nothing in the clear: not in what any survivor's browser sent, not in the stored database.
    const secrets = ['923001234567', '3001234567', '1234567', '923217654321', '7654321'];
    for (const r of allSent)
      for (const secret of secrets) expect({ url: r.url, has: r.body.includes(secret) }).toEqual({ url: r.url, has: false });
    const stored = await server.storedBytes();
    for (const secret of [...secrets, ...written])
      expect({ secret, stored: stored.includes(Buffer.from(secret)) }).toEqual({ secret, stored: false });
    expect(problems).toEqual([]);
  });

  test("an identifier she named in an older normal form is named again in today's when she next opens the section", async () => {
    // The team of the first test (the counselor) is there. Her entry, as a version before
    // YouTube handles kept their @ wrote it, under the current key (1) and a tag of that spelling.
    const db = server.openDb();
    try {
      const s = await newGuardedPage(browser, problems);
      const shared = await shareTestimony(s.page, server.url, `OLDER-FORM-${Date.now()}`);
      const { survivor, olderId, olderTag } = await olderFormEntry(db, shared, 'zzzzzzzzzzzzzzzzzzzzzg');

      await s.page.goto(`${server.url}/return`);
      await s.page.getByLabel('Your codename').fill(shared.codename);
      await s.page.getByRole('button', { name: 'Open' }).click();
      await s.page.getByRole('heading', { name: 'Has this person harmed others?' }).waitFor({ timeout: 60_000 });
      await s.page.getByRole('button', { name: 'Add a phone, email or profile' }).click();
      // Shown in today's form at once, then named again under a new tag, and the older entry withdrawn.
      await s.page.locator('#matching-list').filter({ hasText: '@alikhan' }).waitFor({ timeout: 30_000 });
      let rows = await db('matching_entries').where({ survivor_id: survivor.id });
      for (let i = 0; i < 300 && rows.some((r: { id: string }) => r.id === olderId); i++) {
        await new Promise((r) => setTimeout(r, 100));
        rows = await db('matching_entries').where({ survivor_id: survivor.id });
      }
      expect(rows.map((r: { id: string }) => r.id)).not.toContain(olderId);
      expect(rows).toHaveLength(1);
      expect(rows[0].tag).not.toBe(olderTag);
      await s.page.locator('#matching-list').filter({ hasText: '@alikhan' }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  test('opening the section while the sign-in still re-derives starts no second run: the older-form entry is named again once', async () => {
    const db = server.openDb();
    try {
      const s = await newGuardedPage(browser, problems);
      const shared = await shareTestimony(s.page, server.url, `OVERLAP-${Date.now()}`);
      // Also sealed to a counselor who has since left: the sign-in starts a run (to seal it again),
      // and that run names it again in today's form, as opening the section does.
      const { survivor, olderId, olderTag } = await olderFormEntry(db, shared, 'zzzzzzzzzzzzzzzzzzzzzw', [crypto.randomBytes(32)]);
      // The sign-in's run is held at its evaluation until the section is open and drawn.
      let release = () => {};
      const released = new Promise<void>((r) => (release = r));
      let evaluations = 0;
      let firstEvaluation = () => {};
      const evaluating = new Promise<void>((r) => (firstEvaluation = r));
      await s.page.route('**/api/survivor/matching/evaluate', async (route) => {
        evaluations++;
        firstEvaluation();
        await released;
        await route.continue();
      });
      let withdrawn = 0;
      s.page.on('requestfinished', (r) => {
        if (r.url().endsWith(`/entries/${olderId}/withdraw`)) withdrawn++;
      });

      await s.page.goto(`${server.url}/return`);
      await s.page.getByLabel('Your codename').fill(shared.codename);
      await s.page.getByRole('button', { name: 'Open' }).click();
      await evaluating;
      await s.page.getByRole('button', { name: 'Add a phone, email or profile' }).click();
      await s.page.locator('#matching-list').filter({ hasText: '@alikhan' }).waitFor({ timeout: 30_000 });
      release();

      // Every run that asked for an evaluation goes on to withdraw the older entry: wait for as many.
      let rows = await db('matching_entries').where({ survivor_id: survivor.id });
      for (let i = 0; i < 300 && (rows.some((r: { id: string }) => r.id === olderId) || withdrawn < evaluations); i++) {
        await new Promise((r) => setTimeout(r, 100));
        rows = await db('matching_entries').where({ survivor_id: survivor.id });
      }
      expect(rows).toHaveLength(1);
      expect({ evaluations, withdrawn }).toEqual({ evaluations: 1, withdrawn: 1 });
      expect(rows[0].tag).not.toBe(olderTag);
      await s.page.locator('#matching-list li').filter({ hasText: '@alikhan' }).waitFor();
      expect(await s.page.locator('#matching-list li').count()).toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  test("after a key rotation, the survivor's browser derives her tag again on her next visit, and it matches under the new key", async () => {
    // An instance whose matching key is at version 2 (rotated once).
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-matching-key-'));
    const keyFile = path.join(keyDir, 'matching.key');
    fs.writeFileSync(keyFile, `2 ${crypto.randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    const rotated = await startServer({
      RATE_LIMIT_SENSITIVE_PER_MINUTE: '300',
      RATE_LIMIT_PER_MINUTE: '1200',
      MATCHING_KEY_FILE: keyFile,
    });
    const db = rotated.openDb();
    try {
      const counselorPage = await setUpTeam(rotated);
      const first = await newGuardedPage(browser, problems);
      const early = await shareTestimony(first.page, rotated.url, `EARLY-${Date.now()}`);
      // Her identifier as it was kept under version 1 (before the rotation): sealed to the counselor and to her.
      const survivor = await db('survivors').where({ handle: early.handle }).first();
      const caseRow = await db('cases').where({ survivor_id: survivor.id }).first();
      const counselorRow = await db('staff').where({ username: COUNSELOR.username }).first();
      const oldTag = matchTag(crypto.randomBytes(64));
      const sealed = sealMatchEntry({
        identifier: normalizeIdentifier('phone', '0300-1234567'),
        caseId: caseRow.id,
        tag: oldTag,
        keyVersion: 1,
        recipients: [fromBase64url(counselorRow.box_pk), fromBase64url(survivor.box_pk)],
      });
      // Listed before it (entries come in id order), one of hers that her browser cannot open
      // (not sealed to her): it fails, and must not stop the re-derivation of the next one.
      const unopenable = sealMatchEntry({
        identifier: normalizeIdentifier('phone', '0300-7654321'),
        caseId: caseRow.id,
        tag: matchTag(crypto.randomBytes(64)),
        keyVersion: 1,
        recipients: [fromBase64url(counselorRow.box_pk)],
      });
      const entryId = 'zzzzzzzzzzzzzzzzzzzzzw';
      const day = new Date().toISOString().slice(0, 10);
      for (const [id, entry] of [
        ['AAAAAAAAAAAAAAAAAAAAAA', unopenable],
        [entryId, sealed],
      ] as const)
        await db('matching_entries').insert({
          id,
          survivor_id: survivor.id,
          tag: oldTag,
          key_version: 1,
          sealed: JSON.stringify(entry),
          created_day: day,
        });

      // Her next visit: the page sees an identifier under an older key and derives it again, without her doing anything.
      await first.page.goto(`${rotated.url}/return`);
      await first.page.getByLabel('Your codename').fill(early.codename);
      await first.page.getByRole('button', { name: 'Open' }).click();
      await first.page.getByRole('heading', { name: 'Has this person harmed others?' }).waitFor({ timeout: 60_000 });
      let row = await db('matching_entries').where({ id: entryId }).first();
      for (let i = 0; i < 300 && Number(row.key_version) !== 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        row = await db('matching_entries').where({ id: entryId }).first();
      }
      expect(Number(row.key_version)).toBe(2);
      expect(row.tag).not.toBe(oldTag);
      expect(Number((await db('matching_entries').where({ id: 'AAAAAAAAAAAAAAAAAAAAAA' }).first()).key_version)).toBe(1);
      expect(first.sent.filter((r) => r.url.endsWith('/assets/matching.js'))).toHaveLength(1);

      // A second survivor names the same number under the new key: the counselor sees the match.
      const second = await newGuardedPage(browser, problems);
      const late = await shareTestimony(second.page, rotated.url, `LATE-${Date.now()}`);
      await namePhone(second.page, second.sent, late, '+92 300 1234567', '+923001234567', rotated);
      await staffSignIn(counselorPage, rotated.url, COUNSELOR);
      await openView(counselorPage, 'Matches');
      await counselorPage.locator('#matching-status').filter({ hasText: '1 confirmed match.' }).waitFor({ timeout: 30_000 });
      const match = counselorPage.locator('#matching-list article.match[data-confirmed="true"]');
      expect((await match.textContent()) ?? '').toContain(early.handle);
      expect((await match.textContent()) ?? '').toContain(late.handle);
      expect(problems).toEqual([]);
    } finally {
      await db.destroy();
      await rotated.stop();
      fs.rmSync(keyDir, { recursive: true, force: true });
    }
  });

  test('a counselor who joins later reads the earlier match once its survivors have visited again', async () => {
    const on = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    try {
      await setUpTeam(on);
      const stamp = Date.now();
      const named: { page: Page; shared: Shared }[] = [];
      for (const [i, written] of ['0300-5556667', '+92 300 5556667'].entries()) {
        const s = await newGuardedPage(browser, problems);
        const shared = await shareTestimony(s.page, on.url, `JOINED-LATER-${i}-${stamp}`);
        await addPhone(s.page, s.sent, written, '+923005556667');
        named.push({ page: s.page, shared });
      }

      // The admin brings in a second matching counselor.
      const admin = await newGuardedPage(browser, problems);
      await staffSignIn(admin.page, on.url, ADMIN);
      const invite = await createInvite(admin.page, 'moderator,matching_counselor');
      const newcomer = await newGuardedPage(browser, problems);
      await acceptInvite(newcomer.page, invite, LATER);
      await staffSignIn(admin.page, on.url, ADMIN);
      await signWaitingMembers(admin.page);
      await admin.context.close();

      // The entries were sealed before: the newcomer sees the match but cannot open it, and nothing is called forged.
      const c = newcomer.page;
      await staffSignIn(c, on.url, LATER);
      await openView(c, 'Matches');
      await c.locator('#matching-status').filter({ hasText: '0 confirmed matches.' }).waitFor({ timeout: 30_000 });
      await c.getByRole('heading', { name: 'A reported match that this browser cannot open yet' }).waitFor();
      expect(await c.locator('#matching-list .match-waiting').count()).toBe(2);
      expect(await c.locator('#matching-list .match-refused').count()).toBe(0);

      // Each survivor's next visit seals her entry again, to both counselors, without her doing anything.
      for (const { page, shared } of named) {
        await page.goto(`${on.url}/return`);
        await page.getByLabel('Your codename').fill(shared.codename);
        await page.getByRole('button', { name: 'Open' }).click();
        await page.getByRole('heading', { name: 'Has this person harmed others?' }).waitFor({ timeout: 60_000 });
      }
      // (The second visit's re-sealing runs after its page shows: ask again until it has landed.)
      let said = '';
      for (let i = 0; i < 60 && said !== '1 confirmed match.'; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 500));
        await c.getByRole('button', { name: 'Check again' }).click();
        await c.locator('#matching-status').filter({ hasText: 'confirmed' }).waitFor({ timeout: 30_000 });
        said = ((await c.locator('#matching-status').textContent()) ?? '').trim();
      }
      expect(said).toBe('1 confirmed match.');
      const match = c.locator('#matching-list article.match[data-confirmed="true"]');
      await match.getByRole('heading', { name: 'Match: phone +923005556667' }).waitFor();
      for (const { shared } of named) expect((await match.textContent()) ?? '').toContain(shared.handle);
      expect(problems).toEqual([]);
    } finally {
      await on.stop();
    }
  });
});
