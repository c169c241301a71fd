/**
 * The admin's browser signs the next keyset only over the chain it trusts, and only with what
 * the admin saw. Someone with write access to the database deletes the newest keyset (the one
 * that removed a moderator) and makes that moderator active again: the admin's page, which
 * pinned the version it signed, refuses to extend the older list (before, it signed a new
 * "version 3" keeping the removed moderator as a reader, and browsers pinned at 3 accepted it);
 * a visitor through the link the staff page shows (`#fp=…&v=3`) refuses it too, while one with
 * an older link is still served it (the limit SECURITY.md states). A keyset replaced by another
 * under the same version number, even signed by the real instance key, is refused by a pinned
 * survivor and by the admin. And a waiting member's roles changed in the database after the
 * admin looked are not signed. And a chain replaced whole in the database, under another key, is
 * refused by the admin who holds the instance key on a browser that pinned nothing (signing in
 * pins that key), and never offered as the link to publish, even where the replacement was pinned;
 * an invite link carries the fingerprint, and the new member's browser pins it.
 */
import nacl from 'tweetnacl';
import type { Browser, Page } from 'playwright-core';
import {
  fingerprint,
  fromBase64url,
  keyId,
  keysetHash,
  signKeyset,
  staffSecrets,
  unwrapPrivateKeys,
  utcDay,
  type SignedKeyset,
} from '../../protocol';
import type { Db } from '../../server/db/database';
import { acceptInvite, ADMIN, createInvite, openView, setUpFirstAdmin, shareTestimony, signWaitingMembers, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer, type SentRequest } from './support';

const MALLORY = { username: 'mallory.mod', password: 'a long passphrase for mallory' };
const CAROL = { username: 'carol.adv', password: 'a long passphrase for carol' };
const DAVE = { username: 'dave.adv', password: 'a long passphrase for dave' };
const ERIN = { username: 'erin.mod', password: 'a long passphrase for erin' };

describeInBrowser("the admin's browser signs only over the keyset chain it trusts", () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Db;
  let admin: Page;
  let adminFingerprint: string;
  const problems: string[] = [];
  const bare = (fp: string) => fp.replace(/ /g, '');

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    browser = await launchBrowser();
    db = server.openDb();
    admin = (await newGuardedPage(browser, problems)).page;
    adminFingerprint = await setUpFirstAdmin(admin, server.setupLink, true);
    await admin.getByRole('link', { name: 'Go to the staff workspace' }).click();
    await admin.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await db?.destroy();
    await browser?.close();
    await server?.stop();
  });

  const keysetCount = async () => Number((await db('keysets').count({ n: '*' }))[0].n);
  const statusOf = async (username: string) => (await db('staff').where({ username }).first()).status as string;
  const pinOf = async (page: Page) => JSON.parse((await page.evaluate<string | null>("localStorage.getItem('awaaz.pin')")) ?? 'null');
  const survivorPosts = (sent: SentRequest[]) => sent.filter((r) => r.method === 'POST' && r.url.includes('/api/survivor/'));

  async function linkShown(): Promise<string> {
    await openView(admin, 'Team');
    const link = admin.locator('#fingerprint-link').filter({ hasText: '#fp=' });
    await link.waitFor({ timeout: 30_000 });
    return (await link.textContent())!.trim();
  }

  /** A new member enrols through an invite and waits to be signed in; the admin's page is reloaded to list them. */
  async function inviteAndEnrol(role: 'moderator' | 'advocate', who: { username: string; password: string }): Promise<void> {
    const invite = await createInvite(admin, role);
    const member = await newGuardedPage(browser, problems);
    await acceptInvite(member.page, invite, who);
    await member.context.close();
    await admin.reload();
    await admin.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
  }

  /** Clicks "Sign and publish" with the boxes already ticked, and returns the refusal the page shows. */
  async function signingRefused(wording: string): Promise<string> {
    await admin.getByRole('button', { name: 'Sign and publish' }).click();
    // (The cases panel may already have said, on loading, that the chain failed its check.)
    const refused = admin.locator('#workspace-status[data-kind="error"]').filter({ hasText: wording });
    await refused.waitFor({ timeout: 30_000 });
    return (await refused.textContent()) ?? '';
  }

  async function shareRefused(page: Page, sent: SentRequest[], wording: string): Promise<string> {
    await page.goto(server.url + '/share');
    const alert = page.locator('#trust-error').filter({ hasText: wording });
    await alert.waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Create my codename' }).isDisabled()).toBe(true);
    expect(survivorPosts(sent)).toEqual([]);
    return (await alert.textContent()) ?? '';
  }

  /** The admin's instance key, unwrapped from its stored row with the admin's password (what only the admin's browser can do). */
  async function instanceKey(): Promise<nacl.SignKeyPair> {
    const row = await db('staff').where({ username: ADMIN.username }).first();
    const { wrapKey } = await staffSecrets(ADMIN.password, fromBase64url(row.kdf_salt), JSON.parse(row.kdf_params));
    return nacl.sign.keyPair.fromSecretKey(unwrapPrivateKeys(row.wrapped_keys, wrapKey).instanceSecretKey!);
  }

  test('after a removal is rolled back in the database, the admin refuses to sign, and so does a visitor through the current link', async () => {
    expect(await linkShown()).toBe(`${server.url}/#fp=${bare(adminFingerprint)}`);
    await inviteAndEnrol('moderator', MALLORY);
    await signWaitingMembers(admin);
    expect(await linkShown()).toBe(`${server.url}/#fp=${bare(adminFingerprint)}&v=2`);

    // The admin removes Mallory (version 3); the page asks for the new link to be published.
    await openView(admin, 'Team');
    admin.once('dialog', (d) => void d.accept());
    await admin.getByRole('button', { name: `Remove ${MALLORY.username}` }).click();
    await admin.locator('#workspace-status').filter({ hasText: 'Signed version 3' }).waitFor({ timeout: 30_000 });
    expect(await admin.locator('#workspace-status').textContent()).toContain('Publish the new link');
    const link = `${server.url}/#fp=${bare(adminFingerprint)}&v=3`;
    expect(await linkShown()).toBe(link);
    const version3 = await db('keysets').where({ version: 3 }).first();
    expect(await statusOf(MALLORY.username)).toBe('removed');
    // Signing pinned what was signed, hash included.
    expect(await pinOf(admin)).toMatchObject({ version: 3, keysetHash: version3.hash, fingerprint: adminFingerprint });

    // The database write: the newest keyset deleted, Mallory active again.
    await db('keysets').where({ version: 3 }).delete();
    await db('staff').where({ username: MALLORY.username }).update({ status: 'active' });
    try {
      // A visitor through the link the staff page showed refuses the shorter chain...
      const linked = await newGuardedPage(browser, problems);
      await linked.page.goto(link);
      await linked.page
        .locator('#fingerprint[data-kind="error"]')
        .filter({ hasText: 'went back from version 3 to 2' })
        .waitFor({ timeout: 30_000 });
      expect(await pinOf(linked.page)).toEqual({ fingerprint: adminFingerprint, version: 3, fromLink: true });
      await shareRefused(linked.page, linked.sent, 'went back from version 3 to 2');
      await linked.context.close();
      // ...while one through an older link (no version) is served it: the limit SECURITY.md states.
      const older = await newGuardedPage(browser, problems);
      await older.page.goto(`${server.url}/#fp=${bare(adminFingerprint)}`);
      await older.page.locator('#fingerprint').filter({ hasText: adminFingerprint }).waitFor({ timeout: 30_000 });
      await older.context.close();

      // A new member waits; the admin ticks them and signs: refused, nothing written.
      await inviteAndEnrol('advocate', CAROL);
      await openView(admin, 'Team');
      await admin.getByLabel(`The codes match for ${CAROL.username}`).check();
      const refusal = await signingRefused('Nothing was signed');
      expect(refusal).toContain('went back from version 3 to 2');
      expect(await keysetCount()).toBe(2);
      expect(await statusOf(CAROL.username)).toBe('pending');
      // The Team view shows why instead of a link to publish.
      await admin.locator('#fingerprint-link').filter({ hasText: 'went back from version 3 to 2' }).waitFor({ timeout: 30_000 });
    } finally {
      await db('keysets').insert(version3);
      await db('staff').where({ username: MALLORY.username }).update({ status: 'removed' });
    }

    // With the database as the admin left it, signing works, and Mallory stays out.
    await admin.reload();
    await admin.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
    await signWaitingMembers(admin);
    const newest = JSON.parse((await db('keysets').where({ version: 4 }).first()).signed) as SignedKeyset;
    expect(newest.keyset.members.map((m) => m.username).sort()).toEqual([ADMIN.username, CAROL.username].sort());
    expect(await linkShown()).toBe(`${server.url}/#fp=${bare(adminFingerprint)}&v=4`);
    expect(problems).toEqual([]);
  });

  test('another keyset under the pinned version number, even signed by the instance key, is refused by a pinned survivor and by the admin', async () => {
    const survivor = await newGuardedPage(browser, problems);
    await shareTestimony(survivor.page, server.url, 'sending pins the version and its hash');
    const real = await db('keysets').where({ version: 4 }).first();
    expect(await pinOf(survivor.page)).toMatchObject({ version: 4, keysetHash: real.hash });

    // The same version 4, chained to the real version 3 and validly signed, with Mallory back in.
    const v3 = JSON.parse((await db('keysets').where({ version: 3 }).first()).signed) as SignedKeyset;
    const v4 = JSON.parse(real.signed) as SignedKeyset;
    const mallory = await db('staff').where({ username: MALLORY.username }).first();
    const fork = signKeyset(
      {
        ...v4.keyset,
        prev: keysetHash(v3.keyset),
        issuedDay: utcDay(),
        members: [
          ...v4.keyset.members,
          { staffId: mallory.id, username: mallory.username, roles: ['moderator'], boxPk: mallory.box_pk, signPk: mallory.sign_pk },
        ],
      },
      await instanceKey(),
    );
    await db('keysets')
      .where({ version: 4 })
      .update({ signed: JSON.stringify(fork), hash: keysetHash(fork.keyset) });
    try {
      survivor.sent.length = 0;
      const warning = await shareRefused(survivor.page, survivor.sent, 'Stop');
      expect(warning).toContain('keyset 4 changed');
      // A browser with a pin written before hashes (version only) is not protected from this fork: it accepts and gains the hash.
      const older = await newGuardedPage(browser, problems);
      await older.page.goto(server.url + '/safety');
      const oldPin = JSON.stringify({ fingerprint: adminFingerprint, instanceId: v4.keyset.instanceId, version: 4 });
      await older.page.evaluate(`localStorage.setItem('awaaz.pin', ${JSON.stringify(oldPin)})`);
      await older.page.goto(server.url);
      await older.page.locator('#fingerprint').filter({ hasText: adminFingerprint }).waitFor({ timeout: 30_000 });
      await older.context.close();

      // The admin, pinned at version 4 by signing it, refuses to extend the fork.
      await admin.reload();
      await admin.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
      await openView(admin, 'Team');
      admin.once('dialog', (d) => void d.accept());
      await admin.getByRole('button', { name: `Remove ${CAROL.username}` }).click();
      const refused = admin.locator('#workspace-status[data-kind="error"]').filter({ hasText: 'Nothing was signed' });
      await refused.waitFor({ timeout: 30_000 });
      expect(await refused.textContent()).toContain('keyset 4 changed');
      expect(await keysetCount()).toBe(4);
      expect(await statusOf(CAROL.username)).toBe('active');
    } finally {
      await db('keysets').where({ version: 4 }).update({ signed: real.signed, hash: real.hash });
    }
    await survivor.context.close();
    expect(problems).toEqual([]);
  });

  test("a waiting member's roles changed in the database after the admin saw them are not signed", async () => {
    await inviteAndEnrol('advocate', DAVE);
    await openView(admin, 'Team');
    await admin.getByLabel(`The codes match for ${DAVE.username}`).check();
    // Between the admin's comparison and the signature, the waiting advocate becomes a moderator.
    await db('staff')
      .where({ username: DAVE.username })
      .update({ roles: JSON.stringify(['moderator']) });
    const refusal = await signingRefused('other roles');
    expect(refusal).toContain(`other roles for ${DAVE.username} (moderator)`);
    expect(refusal).toContain('(advocate)');
    expect(await keysetCount()).toBe(4);
    expect(await statusOf(DAVE.username)).toBe('pending');

    // Back as invited, the admin compares again and signs the advocate in.
    await db('staff')
      .where({ username: DAVE.username })
      .update({ roles: JSON.stringify(['advocate']) });
    await admin.reload();
    await admin.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
    await signWaitingMembers(admin);
    const newest = JSON.parse((await db('keysets').where({ version: 5 }).first()).signed) as SignedKeyset;
    expect(newest.keyset.members.find((m) => m.username === DAVE.username)?.roles).toEqual(['advocate']);
    expect(problems).toEqual([]);
  });
  test('sharing older cases with a colleague who is removed meanwhile stops, says so, and does not resume', async () => {
    await inviteAndEnrol('moderator', ERIN);
    await signWaitingMembers(admin);
    // The cases panel draws its sharing buttons from the keyset it loaded with.
    await admin.reload();
    await admin.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
    await openView(admin, 'Cases');
    const share = admin.getByRole('button', { name: `Share older cases with ${ERIN.username}` });
    await share.waitFor({ timeout: 30_000 });
    // The admin's first batch is held while the admin removes Erin from the Team view, then let through.
    let batchArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (batchArrived = resolve));
    let letThrough!: () => void;
    const removed = new Promise<void>((resolve) => (letThrough = resolve));
    let held = 0;
    await admin.route('**/api/staff/grants/batch', async (route) => {
      held += 1;
      batchArrived();
      await removed;
      await route.continue();
    });
    const removal = (await keysetCount()) + 1;
    await share.click();
    await arrived;
    await openView(admin, 'Team');
    admin.once('dialog', (d) => void d.accept());
    await admin.getByRole('button', { name: `Remove ${ERIN.username}` }).click();
    await admin
      .locator('#workspace-status')
      .filter({ hasText: `Signed version ${removal}` })
      .waitFor({ timeout: 30_000 });
    letThrough();
    await openView(admin, 'Cases');
    await admin
      .locator('#grant-status[data-kind="error"]')
      .filter({ hasText: `${ERIN.username} was removed from the team while you were sharing` })
      .waitFor({ timeout: 60_000 });
    await admin.unroute('**/api/staff/grants/batch');
    expect(held).toBe(1);
    const erin = await db('staff').where({ username: ERIN.username }).first();
    expect(erin.status).toBe('removed');
    // Nothing reached her, the page no longer offers to share with her, and no sign-in resumes it.
    expect(await db('envelope_grants').where({ kid: keyId(fromBase64url(erin.box_pk)) })).toEqual([]);
    await share.waitFor({ state: 'detached', timeout: 30_000 });
    const adminId = String((await db('staff').where({ username: ADMIN.username }).first()).id);
    expect(
      JSON.parse((await admin.evaluate<string | null>(`localStorage.getItem('awaaz.grants-unfinished.${adminId}')`)) ?? '[]'),
    ).not.toContain(String(erin.id));
    expect(problems).toEqual([]);
  });

  test('a chain replaced in the database under another key is refused by the admin on any browser, and never offered as the link to publish', async () => {
    const rows: { version: number; signed: string; hash: string; created_day: string }[] = await db('keysets').orderBy('version');
    // The same lists, signed and chained again by a key the database writer holds.
    const other = nacl.sign.keyPair();
    let prev: string | null = null;
    const forged = rows.map((row) => {
      const signed = signKeyset({ ...(JSON.parse(row.signed) as SignedKeyset).keyset, prev }, other);
      prev = keysetHash(signed.keyset);
      return { ...row, signed: JSON.stringify(signed), hash: prev };
    });
    await db('keysets').delete();
    await db('keysets').insert(forged);
    try {
      // A browser with no pin (a new device): signing in pins the admin's own instance key, so the replacement is refused.
      const fresh = await newGuardedPage(browser, problems);
      await staffSignIn(fresh.page, server.url, ADMIN);
      expect(await pinOf(fresh.page)).toEqual({ fingerprint: adminFingerprint, version: 0 });
      await openView(fresh.page, 'Team');
      const changed = fresh.page.locator('#fingerprint-link').filter({ hasText: 'fingerprint changed' });
      await changed.waitFor({ timeout: 30_000 });
      expect(await changed.textContent()).not.toContain('#fp=');
      await fresh.context.close();

      // A browser that pinned the replacement before the admin signed in there (a survivor page sent from it):
      // its pin stays, and the Team view still offers no link signed by another key.
      const misled = await newGuardedPage(browser, problems);
      await misled.page.goto(server.url + '/safety');
      const misledPin = JSON.stringify({ fingerprint: fingerprint(other.publicKey), version: 0 });
      await misled.page.evaluate(`localStorage.setItem('awaaz.pin', ${JSON.stringify(misledPin)})`);
      await staffSignIn(misled.page, server.url, ADMIN);
      await openView(misled.page, 'Team');
      const refused = misled.page.locator('#fingerprint-link').filter({ hasText: 'not by your instance key' });
      await refused.waitFor({ timeout: 30_000 });
      expect(await refused.textContent()).not.toContain('#fp=');
      await misled.context.close();
    } finally {
      await db('keysets').delete();
      await db('keysets').insert(rows);
    }
    expect(problems).toEqual([]);
  });

  test("an invite link carries the instance fingerprint, and the new member's browser pins it before it trusts any list of readers", async () => {
    const invite = await createInvite(admin, 'moderator');
    expect(invite).toMatch(new RegExp(`/invite#[A-Za-z0-9_-]{43}&fp=${bare(adminFingerprint)}$`));
    const member = await newGuardedPage(browser, problems);
    await member.page.goto(invite);
    // The token still reads (the invite's roles are shown), and the fingerprint is pinned at once.
    await member.page.locator('#roles').filter({ hasText: 'moderator' }).waitFor({ timeout: 30_000 });
    expect(await pinOf(member.page)).toEqual({ fingerprint: adminFingerprint, version: 0, fromLink: true });
    await member.context.close();
    expect(problems).toEqual([]);
  });
});
