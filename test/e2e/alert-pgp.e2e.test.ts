/**
 * Alerts encrypted to an OpenPGP key, in a real Chromium against the built server (issue 15,
 * its optional part): the admin pastes a private key by mistake and is told it was refused and
 * not stored; pastes the public key and sees its fingerprint in groups of four; a survivor
 * shares from /share; the server's own mailer sends the alert to a real SMTP server as
 * PGP/MIME, which decrypts with the private key made here and holds none of the alert's words
 * in the clear. A key that no longer encrypts is flagged in the settings; removing it works.
 *
 * @engine-free: `npm test` runs this on SQLite only. It waits for the mailer, and
 * test/integration/alert-pgp.test.ts runs the encrypted mail on PostgreSQL too.
 */
import * as openpgp from 'openpgp';
import type { Browser } from 'playwright-core';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server';
import { ADMIN, openView, setUpFirstAdmin, shareTestimony, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

describeInBrowser('alerts encrypted to an OpenPGP key, in Chromium', () => {
  let smtp: TestSmtpServer;
  let browser: Browser;
  let server: RunningServer;
  const problems: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    browser = await launchBrowser();
    // The mailer looks at its queue every 5 s here (ALERT_CHECK_SECONDS; a minute by default).
    server = await startServer({ ...smtp.env(), ALERT_CHECK_SECONDS: '5' });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await smtp?.close();
  });

  test("the admin pastes a key, checks its fingerprint, and the alert that arrives is PGP/MIME that the member's private key opens", async () => {
    const { publicKey, privateKey } = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ name: 'Amina', email: 'amina-key@helpline.example.org' }],
      format: 'armored',
    });
    const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();

    const { page, sent } = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(page, server.setupLink, true);
    await staffSignIn(page, server.url, ADMIN);
    await openView(page, 'Account');
    await page.getByRole('heading', { name: 'Encrypt with OpenPGP (optional)' }).waitFor();
    expect(await page.locator('#alerts-key-current').isHidden()).toBe(true);

    // A private key pasted by mistake is refused in the page, never sent, and the field emptied.
    const keyField = page.getByLabel('Public key, ASCII-armored');
    await keyField.fill(privateKey);
    await page.getByRole('button', { name: 'Save key' }).click();
    await page.locator('#alerts-key-status', { hasText: 'This is a private key: it was not sent' }).waitFor();
    expect(await page.locator('#alerts-key-current').isHidden()).toBe(true);
    expect(await keyField.inputValue()).toBe('');
    expect(sent.filter((r) => /PRIVATE KEY/.test(r.body))).toEqual([]);

    await keyField.fill(publicKey);
    await page.getByRole('button', { name: 'Save key' }).click();
    await page.locator('#alerts-key-status', { hasText: 'Saved: your alerts are encrypted to this key' }).waitFor();
    const shown = await page.locator('#alerts-key-fingerprint').textContent();
    expect(shown).toBe(fingerprint.match(/.{4}/g)!.join(' '));
    expect(await page.locator('#alerts-key-details').textContent()).toContain('Amina <amina-key@helpline.example.org>');
    expect(await page.locator('#alerts-key-problem').isHidden()).toBe(true);
    expect(await keyField.inputValue()).toBe('');

    await page.getByLabel('Email address for alerts').fill('amina@helpline.example.org');
    await page.getByLabel('A new case').selectOption('immediate');
    await page.getByRole('button', { name: 'Save alerts' }).click();
    await page.locator('#alerts-status', { hasText: 'Saved: alerts go to amina@helpline.example.org' }).waitFor();

    const words = 'the supervisor kept me late, pgp-e2e-canary';
    const survivor = await newGuardedPage(browser, problems);
    const { handle } = await shareTestimony(survivor.page, server.url, words);
    for (let i = 0; i < 180 && smtp.inbox.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.inbox).toHaveLength(1);
    const [mail] = smtp.inbox;
    expect(mail.to).toEqual(['amina@helpline.example.org']);
    expect(mail.raw).toMatch(/^Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted";/m);
    expect(mail.raw).toMatch(/^Subject: Encrypted alert\r?$/m);
    const armored = /-----BEGIN PGP MESSAGE-----[\s\S]+?-----END PGP MESSAGE-----/.exec(mail.raw)![0];
    const { data } = await openpgp.decrypt({
      message: await openpgp.readMessage({ armoredMessage: armored }),
      decryptionKeys: await openpgp.readPrivateKey({ armoredKey: privateKey }),
      format: 'binary',
    });
    const inner = Buffer.from(data as Uint8Array).toString('utf8');
    expect(inner).toContain('A new case is waiting in the workspace.');
    expect(inner).toContain(`${server.url}/staff`);
    const db = server.openDb();
    const [{ id: caseId }] = await db('cases').select('id');
    const clear = [handle, caseId, words, 'pgp-e2e-canary', 'A new case is waiting', `${server.url}/staff`];
    expect(clear.filter((s) => mail.raw.includes(s) || mail.text.includes(s))).toEqual([]);

    // A key that stopped working (here: an expired one, put in the database, since the API refuses it) is flagged.
    const expired = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ email: 'old@helpline.example.org' }],
      date: new Date(Date.now() - 30 * 24 * 3600_000),
      keyExpirationTime: 24 * 3600,
      format: 'armored',
    });
    await db('staff_alerts').update({ pgp_key: expired.publicKey });
    await db.destroy();
    await page.reload();
    await openView(page, 'Account');
    await page.locator('#alerts-key-problem', { hasText: 'This key has expired. Your alerts are held, not sent' }).waitFor();

    await page.getByRole('button', { name: 'Remove key' }).click();
    await page.locator('#alerts-key-status', { hasText: 'Removed: your alerts are sent unencrypted again.' }).waitFor();
    expect(await page.locator('#alerts-key-current').isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });
});
