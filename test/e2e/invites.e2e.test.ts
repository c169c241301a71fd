/**
 * An admin sees the invites not yet used in the Team view and revokes one: the list refreshes
 * after creating and after revoking, each Revoke button names its invite, and the revoked link
 * then tells the newcomer it cannot be used.
 */
import type { Browser, Page } from 'playwright-core';
import { createInvite, openView, setUpFirstAdmin } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

describeInBrowser('pending invites in the Team view', () => {
  let server: RunningServer;
  let browser: Browser;
  let admin: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    browser = await launchBrowser();
    admin = (await newGuardedPage(browser, problems)).page;
    await setUpFirstAdmin(admin, server.setupLink, true);
    await admin.getByRole('link', { name: 'Go to the staff workspace' }).click();
    await admin.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const rows = () => admin.locator('#pending-invites tr');

  test('an invite made here is listed, revoked with a confirmation, and its link then says it cannot be used', async () => {
    await openView(admin, 'Team');
    await admin.getByText('No invite link is waiting to be used.').waitFor();

    const advocateLink = await createInvite(admin, 'advocate');
    await rows().first().waitFor();
    const moderatorLink = await createInvite(admin, 'moderator');
    expect(moderatorLink).not.toBe(advocateLink);
    await admin.locator('#pending-invites tr').nth(1).waitFor();
    await expectRows(2);
    const moderatorRow = rows().filter({ hasText: /^moderator/ });
    await moderatorRow.getByRole('cell', { name: 'amina', exact: true }).waitFor();
    expect(await admin.getByText('No invite link is waiting to be used.').isVisible()).toBe(false);

    // The button says which invite it revokes.
    const revoke = admin.getByRole('button', { name: /^Revoke invite for moderator, made by amina, expires / });
    expect(await revoke.count()).toBe(1);
    // Dismissing the confirmation revokes nothing.
    admin.once('dialog', (d) => void d.dismiss());
    await revoke.click();
    // The newcomer's browser: another context, without the admin's session.
    const kept = (await newGuardedPage(browser, problems)).page;
    // Until the page has checked the invite and taken the form over, the form cannot be sent:
    // a press then would send it as a plain GET with the username in the address.
    let letCheckThrough!: () => void;
    const checkHeld = new Promise<void>((resolve) => (letCheckThrough = resolve));
    await kept.route('**/api/staff/invites/check', async (route) => {
      await checkHeld;
      await route.continue();
    });
    await kept.goto(moderatorLink);
    const create = kept.getByRole('button', { name: 'Create my account' });
    expect(await create.isDisabled()).toBe(true);
    letCheckThrough();
    await kept.locator('#invite-submit:not([disabled])').waitFor({ timeout: 30_000 });
    await kept.unroute('**/api/staff/invites/check');
    await kept
      .getByRole('heading', { name: /^Join as moderator/ })
      .waitFor({ timeout: 30_000 })
      .catch(async (e) => {
        throw new Error(`${String(e)} page: ${await kept.locator('body').innerText()}`);
      });
    await expectRows(2);

    let asked = '';
    admin.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await revoke.click();
    await admin.getByRole('status').filter({ hasText: 'Revoked the invite for moderator made by amina.' }).waitFor();
    await expectRows(1);
    expect(asked).toContain('Its link stops working at once');
    expect(await rows().first().textContent()).toContain('advocate');
    expect(await admin.getByRole('button', { name: /^Revoke invite for moderator/ }).count()).toBe(0);

    await kept.goto('about:blank');
    await kept.goto(moderatorLink);
    await kept.getByRole('heading', { name: 'This invite cannot be used' }).waitFor({ timeout: 30_000 });
    expect(await kept.locator('#invalid-reason').textContent()).toContain('revoked');
    await kept.context().close();

    // The other invite still works as far as the invite page goes.
    const other = (await newGuardedPage(browser, problems)).page;
    await other.goto(advocateLink);
    await other.getByRole('heading', { name: /^Join as advocate/ }).waitFor({ timeout: 30_000 });
    await other.context().close();
    expect(problems).toEqual([]);
  });

  /** Waits until the list shows `n` invites (the page's CSP forbids evaluating a string, so poll the locator). */
  async function expectRows(n: number): Promise<void> {
    for (let tries = 0; tries < 300 && (await rows().count()) !== n; tries++) await admin.waitForTimeout(100);
    expect(await rows().count()).toBe(n);
  }
});
