/**
 * A database write alone cannot add a reader: the survivor's browser encrypts only to the
 * moderators named in the keyset signed by the instance key, verifies that signature before
 * encrypting, and refuses a keyset signed by another instance key once it has pinned one.
 */
import nacl from 'tweetnacl';
import type { Browser, Page } from 'playwright-core';
import { keyId, randomId, signKeyset, toBase64url, type SignedKeyset } from '../../protocol';
import { openDatabase, type Db } from '../../server/db/database';
import { setUpFirstAdmin, shareTestimony } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer, type SentRequest } from './support';

describeInBrowser('the survivor browser trusts only the signed keyset', () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Db;
  const problems: string[] = [];
  const intruder = nacl.box.keyPair();
  const intruderKid = keyId(intruder.publicKey);

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const admin = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(admin.page, server.setupLink, true);
    db = openDatabase({ client: 'sqlite', filename: server.dbFile });
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

  async function attemptShare(page: Page, sent: SentRequest[]): Promise<string> {
    await page.goto(server.url + '/share');
    await page.getByRole('button', { name: 'Create my codename' }).click();
    const codename = (await page.getByTestId('codename').textContent())!;
    await page.getByLabel('To be sure you kept it').fill(codename);
    await page.getByRole('button', { name: 'I have kept my codename' }).click();
    await page.getByLabel('What happened').fill('this must not be sent');
    await page.getByLabel('Where did it happen?').selectOption('online');
    await page.getByRole('button', { name: 'Encrypt and send' }).click();
    await page.locator('#trust-error').filter({ hasText: 'Stop' }).waitFor({ timeout: 30_000 });
    expect(sent.filter((r) => r.method === 'POST' && /\/api\/survivor\/(cases|register)$/.test(r.url))).toEqual([]);
    return (await page.locator('#trust-error').textContent()) ?? '';
  }

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
    expect(problems).toEqual([]);
  });

  test('a keyset altered in the database fails its signature check and nothing is encrypted or sent', async () => {
    const row = await db('keysets').orderBy('version', 'desc').first();
    const original = row.signed as string;
    const signed = JSON.parse(original) as SignedKeyset;
    signed.keyset.members.push({ staffId: randomId(), username: 'intruder', roles: ['moderator'], boxPk: toBase64url(intruder.publicKey), signPk: toBase64url(nacl.sign.keyPair().publicKey) });
    await db('keysets').where({ version: row.version }).update({ signed: JSON.stringify(signed) });
    try {
      const survivor = await newGuardedPage(browser, problems);
      const warning = await attemptShare(survivor.page, survivor.sent);
      expect(warning).toContain('signature does not verify');
      expect(await kidsOfStoredEnvelopes()).not.toContain(intruderKid);
    } finally {
      await db('keysets').where({ version: row.version }).update({ signed: original });
    }
  });

  test('once a fingerprint is pinned, a keyset signed by another instance key is refused', async () => {
    const survivor = await newGuardedPage(browser, problems);
    // First visit pins the real fingerprint.
    await shareTestimony(survivor.page, server.url, 'first testimony pins the fingerprint');
    const row = await db('keysets').orderBy('version', 'desc').first();
    const original = row.signed as string;
    const real = JSON.parse(original) as SignedKeyset;
    // Someone with write access to the database replaces the keyset with one signed by their own key.
    const forged = signKeyset(
      { ...real.keyset, members: [...real.keyset.members, { staffId: randomId(), username: 'intruder', roles: ['moderator'], boxPk: toBase64url(intruder.publicKey), signPk: toBase64url(nacl.sign.keyPair().publicKey) }] },
      nacl.sign.keyPair(),
    );
    await db('keysets').where({ version: row.version }).update({ signed: JSON.stringify(forged) });
    try {
      survivor.sent.length = 0;
      const warning = await attemptShare(survivor.page, survivor.sent);
      expect(warning).toContain('fingerprint changed');
      expect(await kidsOfStoredEnvelopes()).not.toContain(intruderKid);
    } finally {
      await db('keysets').where({ version: row.version }).update({ signed: original });
    }
  });
});
