/**
 * Retention in a real Chromium (issue 15): a survivor shares a testimony from /share, the
 * moderator closes the case, and the survivor reads on /return the last day it is kept and on
 * /safety the period, in English and in Urdu. The app runs in this process on the test
 * harness's clock, served over HTTP to the browser, so the test can move time: past the
 * period, the sweep erases the case, and neither the database file nor its WAL (on PostgreSQL:
 * the tables and a dump) holds its ciphertext any more, and the codename opens nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { en } from '../../i18n/en';
import { formatDate } from '../../i18n/format';
import { addDays } from '../../server/services/retention';
import { sweepExpired } from '../../server/sweeper';
import { foundInDatabase } from '../support/database-files';
import { makeTestServer, setupAdmin, type StaffActor, type TestServer } from '../support/harness';
import { openOwnTestimonies, shareTestimony } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, switchLanguage } from './support';

const DAY_MS = 86_400_000;

describeInBrowser('retention in Chromium', () => {
  let t: TestServer;
  let server: http.Server;
  let baseUrl: string;
  let browser: Browser;
  let admin: StaffActor;
  const problems: string[] = [];

  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    server = http.createServer(t.app as http.RequestListener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  test("the survivor reads the period and her case's last day; past it the case is gone from the database file", async () => {
    const { page } = await newGuardedPage(browser, problems);
    const { codename } = await shareTestimony(page, baseUrl, 'what happened, to be erased after the period');
    const [{ id: caseId }] = await t.db('cases').select('id');
    const ciphertext: string = JSON.parse((await t.db('envelopes').where({ case_id: caseId }).first('body')).body).ciphertext;
    expect((await admin.agent.post(`/api/staff/cases/${caseId}/status`).send({ status: 'closed' })).status).toBe(200);

    // /safety: the period, in both languages.
    await page.goto(`${baseUrl}/safety`);
    await page.locator('#retention:not([hidden])').waitFor();
    expect(await page.locator('#retention').textContent()).toContain(
      'A closed case is erased 180 days after it was closed or after your last visit',
    );
    await switchLanguage(page, 'ur');
    expect(await page.locator('#retention').textContent()).toContain('180');
    expect(await page.locator('#retention').textContent()).toContain('مٹا دیا جاتا ہے');
    await switchLanguage(page, 'en');

    // /return: beside the closed case, the last day it is kept (today + 180, since she is here today).
    const kept = addDays(t.ctx.clock.today(), 180);
    const listed = await openOwnTestimonies(page, baseUrl, codename);
    expect(listed).toContain(`Kept until ${formatDate(kept, en['date.months'], en['date.at'])}`);

    // Past the period (no visit since), the sweep erases the case and then the account.
    t.clock.advance(181 * DAY_MS);
    expect((await sweepExpired(t.ctx)).retention).toEqual({ cases: 1, accounts: 1 });
    expect(await foundInDatabase(t, [ciphertext.slice(0, 60), ciphertext.slice(-60)])).toEqual([]);
    await page.goto(`${baseUrl}/return`);
    await page.getByLabel('Your codename').fill(codename);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.locator('#login-status', { hasText: 'No testimony was found for this codename' }).waitFor({ timeout: 60_000 });
    expect(problems).toEqual([]);
  });
});
