/**
 * The walking skeleton in a real Chromium: the first admin sets up the instance, invites a
 * moderator, a survivor shares a testimony, and the moderator and the survivor read it back.
 * Every request the survivor's browser sends is recorded: the testimony and the codename
 * never appear in one. The SQLite file and its WAL never hold them either.
 */
import type { Browser } from 'playwright-core';
import {
  acceptInvite,
  ADMIN,
  createInvite,
  MODERATOR,
  openOwnTestimonies,
  readFirstCase,
  setUpFirstAdmin,
  shareTestimony,
  signWaitingMembers,
  staffSignIn,
} from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

describeInBrowser('walking skeleton in Chromium', () => {
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

  test('a testimony is encrypted in the browser, stored as ciphertext, and read by the moderator', async () => {
    const marker = `MARKER-${Date.now()}-naam-na-batao`;

    // 1. The first admin sets up the instance from the printed one-time link.
    const admin = await newGuardedPage(browser, problems);
    const fingerprint = await setUpFirstAdmin(admin.page, server.setupLink, false);
    expect(fingerprint).toMatch(/^([0-9A-F]{4} ){9}[0-9A-F]{4}$/);

    // 2. The admin invites a moderator, who enrols; the admin's browser signs the new keyset.
    await staffSignIn(admin.page, server.url, ADMIN);
    const inviteLink = await createInvite(admin.page, 'moderator');
    const moderator = await newGuardedPage(browser, problems);
    await acceptInvite(moderator.page, inviteLink, MODERATOR);
    await staffSignIn(admin.page, server.url, ADMIN);
    await signWaitingMembers(admin.page);

    // 3. A survivor shares a testimony; the landing page shows the same fingerprint.
    const survivor = await newGuardedPage(browser, problems);
    await survivor.page.goto(server.url);
    await survivor.page.locator('#fingerprint').filter({ hasText: fingerprint }).waitFor();
    const shared = await shareTestimony(survivor.page, server.url, `What happened: ${marker}`);
    expect(shared.handle).toMatch(/^S-/);
    expect(shared.codename.split(' ')).toHaveLength(8);

    // Nothing the survivor typed left the browser in clear: not the testimony, not the codename.
    const submissions = survivor.sent.filter((r) => r.url.endsWith('/api/survivor/cases') && r.method === 'POST');
    expect(submissions).toHaveLength(1);
    for (const r of survivor.sent) {
      expect(r.url).not.toContain(marker);
      expect(r.body).not.toContain(marker);
      expect(r.body).not.toContain(shared.codename);
      expect(r.url).not.toContain(shared.codename.split(' ')[0] + '%20');
    }
    expect(submissions[0].body).toContain('"ciphertext"');

    // The database (the SQLite file and its write-ahead log, or every table and a pg_dump) holds no plaintext.
    const bytes = await server.storedBytes();
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from(marker))).toBe(false);
    expect(bytes.includes(Buffer.from(shared.codename))).toBe(false);

    // 4. The moderator signs in and reads it, decrypted in their browser.
    await staffSignIn(moderator.page, server.url, MODERATOR);
    await moderator.page.getByRole('cell', { name: shared.handle, exact: true }).waitFor();
    const caseText = await readFirstCase(moderator.page);
    expect(caseText).toContain(marker);
    expect(caseText).toContain(shared.handle);

    // The admin chose not to be a moderator: no inbox, and no key to read it with.
    await staffSignIn(admin.page, server.url, ADMIN);
    expect(await admin.page.locator('#inbox-panel').isVisible()).toBe(false);

    // 5. The survivor comes back in a fresh browser with the codename and reads it.
    const again = await newGuardedPage(browser, problems);
    const own = await openOwnTestimonies(again.page, server.url, shared.codename);
    expect(own).toContain(marker);
    expect(own).toContain('Received, not yet read');
    for (const r of again.sent) expect(r.body).not.toContain(shared.codename);

    // No CSP violation or script error on any page along the way.
    expect(problems).toEqual([]);
    // The server printed no address, user agent or plaintext.
    expect(server.output()).not.toContain(marker);
    expect(server.output()).not.toMatch(/Mozilla|HeadlessChrome|127\.0\.0\.1(?!:)/);
  });
});
