/**
 * Second-factor upkeep in Chromium against the built server: a moderator makes new recovery
 * codes from the account block (the old ones are refused at sign-in, a new one works); the
 * admin resets the moderator's two-factor sign-in from the Team list: the moderator's open
 * session ends, their old authenticator no longer matters, and their next sign-in with the
 * password goes straight to setting up a new authenticator app, after which the workspace
 * opens. The admin's own row has no reset button. The TOTP secrets are in no form in the
 * database file.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the account block and the Team
 * list in the browser; the server paths (recovery codes, the reset, TOTP secrets in no form in
 * the database) run on PostgreSQL in test/integration/account-security.test.ts (scripts/test.sh).
 */
import type { Knex } from 'knex';
import type { Browser } from 'playwright-core';
import { toBase64url } from '../../protocol';
import { base32Encode } from '../../server/http/totp';
import {
  acceptInvite,
  ADMIN,
  authenticators,
  createInvite,
  finishTotpEnrolment,
  MODERATOR,
  nextTotpCode,
  setUpFirstAdmin,
  signWaitingMembers,
  openView,
  staffSignIn,
} from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

describeInBrowser('recovery codes and 2FA reset in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Knex;
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

  test('new recovery codes, then an admin reset: the member must set up a new authenticator at the next sign-in', async () => {
    const admin = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(admin.page, server.setupLink, true);
    await staffSignIn(admin.page, server.url, ADMIN);
    const invite = await createInvite(admin.page, 'moderator');
    const moderator = await newGuardedPage(browser, problems);
    await acceptInvite(moderator.page, invite, MODERATOR);
    await staffSignIn(admin.page, server.url, ADMIN);
    await signWaitingMembers(admin.page);

    // The moderator makes new recovery codes with the password and a fresh code.
    const m = moderator.page;
    await staffSignIn(m, server.url, MODERATOR, 'totp');
    const app = authenticators.get(MODERATOR.username)!;
    const oldCodes = [...app.recoveryCodes];
    await openView(m, 'Account');
    await m.getByLabel('Your password').fill(MODERATOR.password);
    await m.getByLabel('The 6-digit code your authenticator app shows now').fill(await nextTotpCode(app, 'wait'));
    await m.getByRole('button', { name: 'Make new recovery codes' }).click();
    await m.locator('#recovery-codes-status').filter({ hasText: 'the old ones no longer work' }).waitFor({ timeout: 30_000 });
    const newCodes = (await m.locator('#new-recovery-codes li').allTextContents()).map((c) => c.trim());
    expect(newCodes).toHaveLength(10);
    expect(newCodes.some((c) => oldCodes.includes(c))).toBe(false);

    // An old code is refused at sign-in; a new one works.
    const other = await newGuardedPage(browser, problems);
    app.recoveryCodes = [oldCodes[0]];
    await expect(staffSignIn(other.page, server.url, MODERATOR, 'recovery')).rejects.toThrow(
      /could not sign in: .*wrong username, password or code/,
    );
    app.recoveryCodes = newCodes.slice(1);
    await staffSignIn(other.page, server.url, MODERATOR, 'recovery');

    // The admin resets the moderator's 2FA from the Team list; there is no such button on the admin's own row.
    await staffSignIn(admin.page, server.url, ADMIN);
    await openView(admin.page, 'Team');
    const rows = admin.page.locator('#members tr');
    await rows.filter({ hasText: MODERATOR.username }).waitFor();
    expect(
      await rows
        .filter({ hasText: ADMIN.username })
        .getByRole('button', { name: /Reset two-factor/ })
        .count(),
    ).toBe(0);
    admin.page.once('dialog', (d) => void d.accept());
    await admin.page.getByRole('button', { name: `Reset two-factor sign-in of ${MODERATOR.username}` }).click();
    await admin.page
      .locator('#workspace-status')
      .filter({ hasText: `Two-factor sign-in of ${MODERATOR.username} was reset` })
      .waitFor({ timeout: 30_000 });
    expect(
      await db('staff_sessions').join('staff', 'staff.id', 'staff_sessions.staff_id').where('staff.username', MODERATOR.username),
    ).toEqual([]);

    // The moderator's open workspace is signed out: the next request says so.
    const status = await other.page.evaluate(async () => (await fetch('/api/staff/me')).status);
    expect(status).toBe(401);

    // At the next sign-in, the password alone leads to setting up a new authenticator app.
    await m.goto(`${server.url}/staff`);
    await m.getByLabel('Username').fill(MODERATOR.username);
    await m.getByLabel('Password', { exact: true }).fill(MODERATOR.password);
    await m.getByRole('button', { name: 'Sign in' }).click();
    const renewed = await finishTotpEnrolment(m, MODERATOR.username);
    expect(Buffer.from(renewed.secret)).not.toEqual(Buffer.from(app.secret));
    await m.getByRole('heading', { name: 'Workspace' }).waitFor({ timeout: 30_000 });
    await m.locator('#inbox-panel').waitFor();

    // The audit log says who reset whose.
    const [entry] = await db('audit_log').where({ action: 'staff.totp_reset' }).select('detail');
    expect(JSON.parse(entry.detail)).toMatchObject({ username: MODERATOR.username });

    // Neither the old nor the new TOTP secret is in the database file, in any form.
    const bytes = await server.storedBytes();
    for (const secret of [app.secret, renewed.secret]) {
      for (const form of [Buffer.from(secret), Buffer.from(toBase64url(secret)), Buffer.from(base32Encode(secret))])
        expect(bytes.includes(form)).toBe(false);
    }
    expect(problems).toEqual([]);
  });
});
