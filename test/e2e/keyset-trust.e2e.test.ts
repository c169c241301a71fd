/**
 * A database write alone cannot add a reader: the survivor's browser encrypts only to the
 * moderators named in the keyset chain signed by one instance key, verifies that whole chain
 * before encrypting, computes every fingerprint it shows from it, and refuses a keyset signed
 * by another instance key: always when it is chained after the real ones (issue 10), and for a
 * chain rewritten from version 1 once the browser has pinned a fingerprint, on first use or
 * through the organisation's fingerprint link (`/#fp=…`).
 */
import nacl from 'tweetnacl';
import type { Browser, Page } from 'playwright-core';
import {
  fingerprint,
  keyId,
  keysetHash,
  randomId,
  signKeyset,
  toBase64url,
  utcDay,
  type KeysetMember,
  type SignedKeyset,
} from '../../protocol';
import type { Db } from '../../server/db/database';
import { setUpFirstAdmin, shareTestimony } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer, type SentRequest } from './support';

describeInBrowser('the survivor browser trusts only the keyset chain it verifies', () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Db;
  /** what the setup page showed: computed in the admin's browser from the key it made */
  let adminFingerprint: string;
  let adminLink: string;
  const problems: string[] = [];
  const intruder = nacl.box.keyPair();
  const intruderKid = keyId(intruder.publicKey);
  const intruderMember = (): KeysetMember => ({
    staffId: randomId(),
    username: 'intruder',
    roles: ['moderator'],
    boxPk: toBase64url(intruder.publicKey),
    signPk: toBase64url(nacl.sign.keyPair().publicKey),
  });
  const bare = (fp: string) => fp.replace(/ /g, '');

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const admin = await newGuardedPage(browser, problems);
    adminFingerprint = await setUpFirstAdmin(admin.page, server.setupLink, true);
    adminLink = (await admin.page.locator('#fingerprint-link').textContent())!.trim();
    await admin.context.close();
    db = server.openDb();
  });
  afterAll(async () => {
    await db?.destroy();
    await browser?.close();
    await server?.stop();
  });

  async function kidsOfStoredEnvelopes(): Promise<string[]> {
    const rows = await db('envelope_keys').select('kid');
    return rows.map((r: { kid: string }) => r.kid);
  }

  async function keysetRows(): Promise<{ version: number; signed: string; hash: string; created_day: string }[]> {
    return db('keysets').orderBy('version', 'asc');
  }

  /** Runs `fn` with the keysets table as `rows`, then puts the real ones back. */
  async function withKeysets(rows: SignedKeyset[], fn: () => Promise<void>): Promise<void> {
    const original = await keysetRows();
    await db('keysets').delete();
    await db('keysets').insert(
      rows.map((s) => ({ version: s.keyset.version, signed: JSON.stringify(s), hash: keysetHash(s.keyset), created_day: utcDay() })),
    );
    try {
      await fn();
    } finally {
      await db('keysets').delete();
      await db('keysets').insert(original);
    }
  }

  /** What a pin records besides the version: the newest keyset's hash. */
  const newestHash = async () => (await keysetRows()).at(-1)!.hash;

  const realChain = async () => (await keysetRows()).map((r) => JSON.parse(r.signed) as SignedKeyset);

  /** The real chain re-signed from version 1 by another instance key, the intruder added to the newest. */
  async function rewrittenChain(attacker: nacl.SignKeyPair): Promise<SignedKeyset[]> {
    const out: SignedKeyset[] = [];
    const real = await realChain();
    real.forEach((s, i) => {
      const members = i === real.length - 1 ? [...s.keyset.members, intruderMember()] : s.keyset.members;
      out.push(signKeyset({ ...s.keyset, members, prev: i === 0 ? null : keysetHash(out[i - 1].keyset) }, attacker));
    });
    return out;
  }

  const survivorPosts = (sent: SentRequest[]) => sent.filter((r) => r.method === 'POST' && r.url.includes('/api/survivor/'));

  /** Opens /share and expects the refusal before anything can be written; returns its text. */
  async function expectShareRefused(page: Page, sent: SentRequest[], wording: string): Promise<string> {
    await page.goto(server.url + '/share');
    const alert = page.locator('#trust-error').filter({ hasText: wording });
    await alert.waitFor({ timeout: 30_000 });
    // The survivor cannot even start: the codename button stays disabled.
    expect(await page.getByRole('button', { name: 'Create my codename' }).isDisabled()).toBe(true);
    expect(survivorPosts(sent)).toEqual([]);
    return (await alert.textContent()) ?? '';
  }

  async function landingFingerprint(page: Page): Promise<string> {
    await page
      .locator('#fingerprint')
      .filter({ hasText: /^[0-9A-F]{4}( [0-9A-F]{4}){9}$/ })
      .waitFor({ timeout: 30_000 });
    return (await page.locator('#fingerprint').textContent())!.trim();
  }

  async function pinOf(page: Page): Promise<Record<string, unknown> | null> {
    return JSON.parse((await page.evaluate<string | null>("localStorage.getItem('awaaz.pin')")) ?? 'null') as Record<
      string,
      unknown
    > | null;
  }

  test('the setup page, the landing page and the share page show the fingerprint of the key the admin browser made; setup gives the link to publish', async () => {
    const row = await db('instance').first();
    expect(adminFingerprint).toBe(fingerprint(row.instance_pk as string));
    expect(adminLink).toBe(`${server.url}/#fp=${bare(adminFingerprint)}`);
    const survivor = await newGuardedPage(browser, problems);
    await survivor.page.goto(server.url);
    expect(await landingFingerprint(survivor.page)).toBe(adminFingerprint);
    await survivor.page.goto(server.url + '/share');
    await survivor.page.locator('footer #fingerprint').filter({ hasText: adminFingerprint }).waitFor();
    await survivor.context.close();
    expect(problems).toEqual([]);
  });

  test('a staff row inserted straight into the database is never used as a recipient', async () => {
    await db('staff').insert({
      id: randomId(),
      username: 'intruder',
      roles: JSON.stringify(['moderator']),
      status: 'active',
      kdf_params: '{}',
      kdf_salt: 'x',
      auth_hash: 'x',
      box_pk: toBase64url(intruder.publicKey),
      sign_pk: toBase64url(nacl.sign.keyPair().publicKey),
      wrapped_keys: 'x',
      created_at: 0,
    });
    const survivor = await newGuardedPage(browser, problems);
    await shareTestimony(survivor.page, server.url, 'sent to the signed readers only');
    const kids = await kidsOfStoredEnvelopes();
    expect(kids.length).toBe(2); // the survivor and the admin-moderator
    expect(kids).not.toContain(intruderKid);
    await survivor.context.close();
    expect(problems).toEqual([]);
  });

  test('issue 10: a keyset N+1 chained to the real one but signed by a new instance key is refused by a first-time visitor, and nothing is sent', async () => {
    const instanceBefore = await db('instance').first();
    const real = await realChain();
    const newest = real[real.length - 1];
    const attacker = nacl.sign.keyPair();
    const forged = signKeyset(
      {
        ...newest.keyset,
        version: newest.keyset.version + 1,
        prev: keysetHash(newest.keyset),
        issuedDay: utcDay(),
        members: [...newest.keyset.members, intruderMember()],
      },
      attacker,
    );

    // A share page opened before the write, and sent after it.
    const early = await newGuardedPage(browser, problems);
    await early.page.goto(server.url + '/share');
    await early.page.getByRole('button', { name: 'Create my codename' }).click();
    const codename = (await early.page.getByTestId('codename').textContent())!;
    await early.page.getByLabel('To be sure you kept it').fill(codename);
    await early.page.getByRole('button', { name: 'I have kept my codename' }).click();
    await early.page.getByLabel('What happened').fill('this must not reach the intruder');
    await early.page.getByLabel('Where did it happen?').selectOption('online');

    // The write: one row added, the instance key left alone.
    await db('keysets').insert({
      version: forged.keyset.version,
      signed: JSON.stringify(forged),
      hash: keysetHash(forged.keyset),
      created_day: utcDay(),
    });
    try {
      expect((await db('instance').first()).instance_pk).toBe(instanceBefore.instance_pk);
      // The server now serves the forged keyset as the current one.
      const served = (await (await fetch(server.url + '/api/instance')).json()) as { keyset: SignedKeyset };
      expect(served.keyset.instancePk).toBe(toBase64url(attacker.publicKey));

      await early.page.getByRole('button', { name: 'Encrypt and send' }).click();
      await early.page.locator('#trust-error').filter({ hasText: 'Stop' }).waitFor({ timeout: 30_000 });
      expect(await early.page.locator('#trust-error').textContent()).toContain('fingerprint changed');

      // A browser that never visited before: the landing page shows a warning, not a fingerprint.
      const fresh = await newGuardedPage(browser, problems);
      await fresh.page.goto(server.url);
      await fresh.page.locator('#fingerprint[data-kind="error"]').filter({ hasText: 'Stop' }).waitFor({ timeout: 30_000 });
      const warning = await expectShareRefused(fresh.page, fresh.sent, 'Stop');
      expect(warning).toContain(`fingerprint changed from ${adminFingerprint} to ${fingerprint(attacker.publicKey)}`);
      expect(await pinOf(fresh.page)).toBeNull(); // nothing was trusted, so nothing pinned
      expect(survivorPosts([...early.sent, ...fresh.sent])).toEqual([]);
      expect(await kidsOfStoredEnvelopes()).not.toContain(intruderKid);
      await fresh.context.close();
    } finally {
      await db('keysets').where({ version: forged.keyset.version }).delete();
    }
    await early.context.close();
    expect(problems).toEqual([]);
  });

  test('a first visit through the published link pins the fingerprint before anything is shown, and then refuses a chain rewritten by another key', async () => {
    const linked = await newGuardedPage(browser, problems);
    await linked.page.goto(adminLink);
    expect(await landingFingerprint(linked.page)).toBe(adminFingerprint);
    // The fragment is taken out of the address bar, and lives on in the pin.
    expect(linked.page.url()).toBe(server.url + '/');
    expect(await pinOf(linked.page)).toEqual({ fingerprint: adminFingerprint, fromLink: true, version: 0 });
    await shareTestimony(linked.page, server.url, 'sent after coming in through the link');
    expect(await pinOf(linked.page)).toEqual({
      fingerprint: adminFingerprint,
      instanceId: expect.any(String),
      fromLink: true,
      version: 1,
      keysetHash: await newestHash(),
    });

    const attacker = nacl.sign.keyPair();
    await withKeysets(await rewrittenChain(attacker), async () => {
      linked.sent.length = 0;
      await expectShareRefused(linked.page, linked.sent, 'link you followed');

      // Through the link, a first visit refuses the rewritten chain at once.
      const viaLink = await newGuardedPage(browser, problems);
      await viaLink.page.goto(adminLink);
      await viaLink.page.locator('#fingerprint').filter({ hasText: 'link you followed' }).waitFor({ timeout: 30_000 });
      await expectShareRefused(viaLink.page, viaLink.sent, 'link you followed');

      // Without the link, a first visit trusts what it is served: the limit SECURITY.md states.
      // The landing page shows the rewritten fingerprint, which differs from the published one.
      const unlinked = await newGuardedPage(browser, problems);
      await unlinked.page.goto(server.url);
      expect(await landingFingerprint(unlinked.page)).toBe(fingerprint(attacker.publicKey));
      expect(fingerprint(attacker.publicKey)).not.toBe(adminFingerprint);

      expect(await kidsOfStoredEnvelopes()).not.toContain(intruderKid);
      for (const c of [viaLink, unlinked]) await c.context.close();
    });
    await linked.context.close();
    expect(problems).toEqual([]);
  });

  test('a link with another fingerprint, or a damaged one, is refused; so is a link that contradicts an earlier pin, until the right link is followed', async () => {
    const other = fingerprint(nacl.sign.keyPair().publicKey);
    const wrong = await newGuardedPage(browser, problems);
    await wrong.page.goto(`${server.url}/#fp=${bare(other)}`);
    await wrong.page.locator('#fingerprint').filter({ hasText: 'link you followed' }).waitFor({ timeout: 30_000 });
    expect(wrong.page.url()).toBe(server.url + '/');
    // Moving on (pages replace each other, dropping the fragment) does not forget what the link said.
    await wrong.page.getByRole('link', { name: 'Share what happened' }).click();
    await wrong.page.waitForURL(server.url + '/share');
    await expectShareRefused(wrong.page, wrong.sent, 'link you followed');
    await wrong.context.close();

    const damaged = await newGuardedPage(browser, problems);
    await damaged.page.goto(`${server.url}/share#fp=${bare(adminFingerprint).slice(0, 30)}`);
    await damaged.page.locator('#trust-error').filter({ hasText: 'link you followed' }).waitFor({ timeout: 30_000 });
    expect(survivorPosts(damaged.sent)).toEqual([]);
    await damaged.context.close();

    // Pinned on first use (looking at the landing page pins nothing; sending does), then a link with another fingerprint: refused, the pin kept.
    const pinned = await newGuardedPage(browser, problems);
    await pinned.page.goto(server.url);
    expect(await landingFingerprint(pinned.page)).toBe(adminFingerprint);
    expect(await pinOf(pinned.page)).toBeNull();
    await shareTestimony(pinned.page, server.url, 'sending pins the fingerprint');
    expect(await pinOf(pinned.page)).toEqual({
      fingerprint: adminFingerprint,
      instanceId: expect.any(String),
      version: 1,
      keysetHash: await newestHash(),
    });
    pinned.sent.length = 0;
    // Followed from the landing page itself (only the fragment changes), and from elsewhere.
    await pinned.page.goto(server.url);
    await landingFingerprint(pinned.page);
    await pinned.page.goto(`${server.url}/#fp=${bare(other)}`);
    await pinned.page.locator('#fingerprint').filter({ hasText: 'link you followed' }).waitFor({ timeout: 30_000 });
    expect(pinned.page.url()).toBe(server.url + '/');
    await pinned.page.goto(`${server.url}/safety`);
    await pinned.page.goto(`${server.url}/#fp=${bare(other)}`);
    await pinned.page.locator('#fingerprint').filter({ hasText: 'link you followed' }).waitFor({ timeout: 30_000 });
    expect(await pinOf(pinned.page)).toMatchObject({ fingerprint: adminFingerprint, conflict: other });
    await expectShareRefused(pinned.page, pinned.sent, 'link you followed');
    // The organisation's own link settles it.
    await pinned.page.goto(adminLink);
    expect(await landingFingerprint(pinned.page)).toBe(adminFingerprint);
    expect(await pinOf(pinned.page)).toEqual({
      fingerprint: adminFingerprint,
      instanceId: expect.any(String),
      version: 1,
      keysetHash: await newestHash(),
      fromLink: true,
    });
    await pinned.context.close();
    expect(problems).toEqual([]);
  });

  test('a keyset altered in the database fails its signature check and nothing is encrypted or sent', async () => {
    const real = await realChain();
    const altered = real.map((s, i) =>
      i === real.length - 1 ? { ...s, keyset: { ...s.keyset, members: [...s.keyset.members, intruderMember()] } } : s,
    );
    await withKeysets(altered, async () => {
      const survivor = await newGuardedPage(browser, problems);
      const warning = await expectShareRefused(survivor.page, survivor.sent, 'Stop');
      expect(warning).toContain('signature does not verify');
      expect(await kidsOfStoredEnvelopes()).not.toContain(intruderKid);
      await survivor.context.close();
    });
    expect(problems).toEqual([]);
  });

  test('once a fingerprint is pinned on first use, a chain signed by another instance key is refused', async () => {
    const survivor = await newGuardedPage(browser, problems);
    // First visit pins the real fingerprint.
    await shareTestimony(survivor.page, server.url, 'first testimony pins the fingerprint');
    await withKeysets(await rewrittenChain(nacl.sign.keyPair()), async () => {
      survivor.sent.length = 0;
      const warning = await expectShareRefused(survivor.page, survivor.sent, 'Stop');
      expect(warning).toContain('fingerprint changed');
      expect(await kidsOfStoredEnvelopes()).not.toContain(intruderKid);
    });
    await survivor.context.close();
    expect(problems).toEqual([]);
  });
});
