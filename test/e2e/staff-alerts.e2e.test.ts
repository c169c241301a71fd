/**
 * Staff alerts in a real Chromium against the built server (issue 15): the admin gives an
 * email address in the Alerts block of the staff page and chooses "a new case, as it
 * happens"; a survivor shares a testimony from /share; the server's own mailer sends the alert
 * to a real SMTP server started here (STARTTLS with a certificate made for the test, AUTH),
 * and what arrives names no handle and holds no words of the testimony. On a server with no
 * SMTP server set, the block says that alerts are off and cannot be saved.
 *
 * @engine-free: `npm test` runs this on SQLite only. It waits for the mailer's minute, and
 * test/integration/alerts.test.ts runs the alert queue and the mail on PostgreSQL too.
 */
import type { Browser } from 'playwright-core';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server';
import { ADMIN, openView, setUpFirstAdmin, shareTestimony, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

describeInBrowser('staff alerts in Chromium', () => {
  let smtp: TestSmtpServer;
  let browser: Browser;
  const servers: RunningServer[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.stop();
    await smtp?.close();
  });

  test('the admin chooses alerts, a survivor shares, and the alert that arrives says only that a case is waiting', async () => {
    // The mailer looks at its queue every 5 s here (ALERT_CHECK_SECONDS; a minute by default).
    const server = await startServer({ ...smtp.env(), ALERT_CHECK_SECONDS: '5' });
    servers.push(server);
    const { page } = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(page, server.setupLink, true);
    await staffSignIn(page, server.url, ADMIN);
    await openView(page, 'Account');

    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    expect(await page.locator('#alerts-off').isHidden()).toBe(true);
    await page.getByLabel('Email address for alerts').fill('amina@helpline.example.org');
    await page.getByLabel('A new case').selectOption('immediate');
    await page.getByRole('button', { name: 'Save alerts' }).click();
    await page.locator('#alerts-status', { hasText: 'Saved: alerts go to amina@helpline.example.org' }).waitFor();
    // A mode with no address is refused here, before anything is sent.
    await page.getByLabel('Email address for alerts').fill('');
    await page.getByRole('button', { name: 'Save alerts' }).click();
    await page.locator('#alerts-status', { hasText: 'Give an email address' }).waitFor();

    const words = 'the supervisor kept me late, alert-e2e-canary';
    const survivor = await newGuardedPage(browser, problems);
    const { handle } = await shareTestimony(survivor.page, server.url, words);

    // The mailer runs apart from the survivor's request.
    for (let i = 0; i < 180 && smtp.inbox.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.inbox).toHaveLength(1);
    const [mail] = smtp.inbox;
    expect(mail.to).toEqual(['amina@helpline.example.org']);
    expect(mail.secure).toBe(true);
    expect(mail.text).toContain('A new case is waiting in the workspace.');
    expect(mail.text).toContain(`${server.url}/staff`);
    const db = server.openDb();
    const [{ id: caseId }] = await db('cases').select('id');
    await db.destroy();
    expect([handle, caseId, words, 'alert-e2e-canary'].filter((s) => mail.raw.includes(s) || mail.text.includes(s))).toEqual([]);
    expect(problems).toEqual([]);
  });

  test('with no SMTP server set, the Alerts block says alerts are off and its form is disabled', async () => {
    const server = await startServer();
    servers.push(server);
    const { page } = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(page, server.setupLink, false);
    await staffSignIn(page, server.url, ADMIN);
    await openView(page, 'Account');
    await page.locator('#alerts-off:not([hidden])').waitFor();
    expect(await page.locator('#alerts-off').textContent()).toContain('Alerts are off on this server');
    expect(await page.getByRole('button', { name: 'Save alerts' }).isDisabled()).toBe(true);
    expect(await page.getByLabel('Email address for alerts').isDisabled()).toBe(true);
    expect(problems).toEqual([]);
  });
});
