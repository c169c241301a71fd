/**
 * The survivor's pages survive failures without losing her words, in a real Chromium against
 * the app in this process (its clock moved by the test, not waited for):
 *
 * - /share: the answer to her registration is lost, then the answer to her testimony (both
 *   reached the server): pressing "Encrypt and send" again signs her in with the same keys and
 *   finds the testimony already there, so she sees it sent, and the database holds one case;
 *   what she changed after the lost answer was not sent, and the page tells her so.
 * - /return: a moderator writes while she types (409 thread_moved): the page shows the new
 *   message, keeps her reply in its box and says that her file must be added again; her session
 *   then expires (SURVIVOR_SESSION_MINUTES = 1, the clock moved past it): sending signs in again
 *   with the keys in memory and the reply arrives.
 * - /return: a staff message sealed and signed by a real staff key with a manifest that is not
 *   one shows as unsafe on its own line, the rest of the conversation as usual; once its
 *   signature is broken too, the conversation is hidden, but not her testimony nor her choices
 *   about it: the sharing choices are still there and saved. Her other tab then closes the
 *   advocates' access while this page saves (409 sharing_changed): the page says so and shows
 *   the choices as they are now.
 *
 * @engine-free: `npm test` runs this on SQLite only; it tests the browser's side.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page, Route } from 'playwright-core';
import { envelopeHash, fromBase64url, readersOf, sealEnvelope } from '../../protocol';
import { en } from '../../i18n/en';
import {
  asSurvivor,
  currentKeyset,
  logInSurvivor,
  makeTestServer,
  setupAdmin,
  survivorKeys,
  type StaffActor,
  type TestServer,
} from '../support/harness';
import { interleave } from '../support/interleave';
import { attach } from './attachments-support';
import { openOwnTestimonies } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, type SentRequest } from './support';

describeInBrowser("the survivor's pages after a failure (Chromium)", () => {
  let t: TestServer;
  let server: http.Server;
  let baseUrl: string;
  let browser: Browser;
  let moderator: StaffActor;
  let page: Page;
  let sent: SentRequest[];
  const posts = (path: string) => sent.filter((r) => r.method === 'POST' && r.url === baseUrl + path).length;
  let codename = '';
  const problems: string[] = [];

  beforeAll(async () => {
    t = await makeTestServer({ SURVIVOR_SESSION_MINUTES: '1' }, { engine: 'sqlite' });
    moderator = await setupAdmin(t);
    server = http.createServer(t.app as http.RequestListener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    ({ page, sent } = await newGuardedPage(browser, problems));
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  /** The request reaches the server, and its answer is lost on the way back (once). */
  async function loseAnswerOnce(path: string): Promise<void> {
    await page.route(
      baseUrl + path,
      async (route: Route) => {
        await route.fetch();
        await route.abort('connectionreset');
      },
      { times: 1 },
    );
  }

  /** A message from the moderator on her (only) case, sealed and signed in Node as the staff page would. */
  async function moderatorWrites(body: Record<string, unknown>): Promise<void> {
    const { id: caseId } = await t.db('cases').first('id');
    const { box_pk: boxPk } = await t.db('survivors').first('box_pk');
    const [last] = (await t.ctx.repos.envelopes.threadsOfCases([caseId])).slice(-1);
    const keyset = await currentKeyset(t);
    const envelope = sealEnvelope({
      kind: 'message',
      caseId,
      prev: envelopeHash(last.envelope),
      body,
      recipients: [fromBase64url(boxPk), ...readersOf(keyset.keyset)],
      signer: moderator.sign,
    });
    const res = await moderator.agent.post(`/api/staff/cases/${caseId}/messages`).send({ envelope, keysetVersion: keyset.keyset.version });
    expect(res.status).toBe(201);
  }

  test('/share: lost answers to the registration and to the testimony, then one press more: sent, once', async () => {
    await page.goto(`${baseUrl}/share`);
    await page.getByRole('button', { name: en['share.makeCodename'] }).click();
    codename = (await page.getByTestId('codename').textContent())!.trim();
    await page.getByLabel('To be sure you kept it').fill(codename);
    await page.getByRole('button', { name: 'I have kept my codename' }).click();
    await page.getByLabel('What happened').fill('what happened, sent through a failing connection');
    await page.getByLabel('Where did it happen?').selectOption('workplace');
    const send = page.getByRole('button', { name: en['share.send'] });
    const failed = page.locator('#write-status', { hasText: en['api.network'] });

    await loseAnswerOnce('/api/survivor/register');
    await send.click();
    await failed.waitFor({ timeout: 60_000 });
    expect(await t.db('survivors').count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await t.db('cases').count({ n: '*' })).toEqual([{ n: 0 }]);

    await loseAnswerOnce('/api/survivor/cases');
    await send.click();
    await page.locator('#write-status:not(:empty)').waitFor();
    await failed.waitFor({ timeout: 60_000 });
    expect(await t.db('cases').count({ n: '*' })).toEqual([{ n: 1 }]); // it arrived; she could not know

    await page.getByLabel('What happened').fill('what happened, sent through a failing connection, and a change');
    await send.click();
    await page.getByRole('heading', { name: 'Your testimony was sent' }).waitFor({ timeout: 60_000 });
    // The change went nowhere: she is told where to add it.
    expect(await page.locator('#done-changed').textContent()).toBe(en['share.sentAsFirst'].replace(/\[(.*)\]\(\/return\)/, '$1'));
    expect(await t.db('cases').count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await t.db('survivors').count({ n: '*' })).toEqual([{ n: 1 }]);
    // Registered once (the second press was told already_registered and signed in), the testimony posted once.
    expect([posts('/api/survivor/register'), posts('/api/survivor/session'), posts('/api/survivor/cases')]).toEqual([2, 1, 1]);
  });

  test('/return: a message arriving meanwhile and an expired session keep her reply, which then arrives', async () => {
    await openOwnTestimonies(page, baseUrl, codename);
    const reply = 'my reply, typed while the session ran out';
    const box = page.getByLabel(en['thread.replyLabel']);
    await box.fill(reply);
    // A 1x1 PNG: uploaded with the refused reply, and gone with the form drawn again.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
    await attach(page, [{ name: 'dot.png', mimeType: 'image/png', buffer: png }]);
    await moderatorWrites({ text: 'a question from the moderator' });
    const { id: caseId } = await t.db('cases').first('id');

    await page.getByRole('button', { name: en['thread.send'] }).click();
    await page.locator('.case', { hasText: 'a question from the moderator' }).waitFor({ timeout: 30_000 });
    await page.locator('.case form > [role="status"]', { hasText: en['api.threadMovedFiles'] }).waitFor();
    expect(await box.inputValue()).toBe(reply);
    expect(await page.locator('ul.evidence > li').count()).toBe(0);

    t.clock.advance(61_000); // past SURVIVOR_SESSION_MINUTES: the server refuses her token now
    const [signIns, replies] = [posts('/api/survivor/session'), posts(`/api/survivor/cases/${caseId}/messages`)];
    await page.getByRole('button', { name: en['thread.send'] }).click();
    await page.locator('.case form [role="status"]', { hasText: en['thread.sent'] }).waitFor({ timeout: 30_000 });
    expect(await page.locator('.thread .from-survivor .text').allTextContents()).toEqual([reply]);
    expect(await box.inputValue()).toBe('');
    // Refused once with the expired token, signed in again, sent again.
    expect([posts('/api/survivor/session') - signIns, posts(`/api/survivor/cases/${caseId}/messages`) - replies]).toEqual([1, 2]);
  });

  test('/return: a staff message that cannot be read shows alone as unsafe; one that fails its checks hides the conversation, not her choices', async () => {
    await moderatorWrites({ text: 'hi', attachments: 'x' }); // signed and linked, but its manifest is not one
    await openOwnTestimonies(page, baseUrl, codename);
    const lines = page.locator('.thread li');
    await lines
      .last()
      .locator('[role="alert"]', { hasText: en['thread.unreadable'].split(':')[0] })
      .waitFor();
    expect(await lines.count()).toBe(3);
    expect(await lines.nth(0).textContent()).toContain('a question from the moderator');
    expect(await lines.nth(1).textContent()).toContain('my reply, typed while the session ran out');
    expect(await page.getByLabel(en['thread.replyLabel']).count()).toBe(1);

    // Its signature broken where it is stored: nothing of the conversation shows, nor a reply
    // (it would follow a message nobody could check), but her testimony and choices do.
    const { id: caseId } = await t.db('cases').first('id');
    const row = await t.db('envelopes').where({ case_id: caseId }).orderBy('position_in_case', 'desc').first('id', 'body');
    const body = JSON.parse(row.body);
    body.sig = body.sig.slice(0, 40) + (body.sig[40] === 'A' ? 'B' : 'A') + body.sig.slice(41);
    await t
      .db('envelopes')
      .where({ id: row.id })
      .update({ body: JSON.stringify(body) });
    await openOwnTestimonies(page, baseUrl, codename);
    await page.locator('.case > [role="alert"]', { hasText: en['thread.unsafe'].split(':')[0] }).waitFor();
    expect(await page.locator('.case').textContent()).toContain('what happened, sent through a failing connection');
    expect([await page.locator('.thread').count(), await page.getByLabel(en['thread.replyLabel']).count()]).toEqual([0, 0]);

    const advocates = page.locator('.sharing-form input[name="advocates"]');
    expect(await advocates.isChecked()).toBe(false);
    await advocates.check();
    await page.getByRole('button', { name: en['sharing.save'] }).click();
    await page.locator('#list-status', { hasText: en['sharing.saved'] }).waitFor({ timeout: 30_000 });
    // Drawn again from what the server now holds.
    expect(await page.locator('.sharing-form input[name="advocates"]').isChecked()).toBe(true);

    // Her other tab closes the advocates' access while this page saves the statistics choice.
    const otherTab = { codename, keys: await survivorKeys(codename, t.ctx.instanceId), token: '', handle: '' };
    await logInSurvivor(t, otherTab);
    const keysetVersion = (await currentKeyset(t)).keyset.version;
    const closing = { sharing: { advocatesMayRead: false, statistics: null }, keysetVersion };
    const meanwhile = interleave(t.ctx.repos.publishing, 'sharingOf', () =>
      asSurvivor(t, otherTab).post(`/api/survivor/cases/${caseId}/sharing`, closing).expect(200),
    );
    try {
      await page.locator('.sharing-form input[name="count"]').check();
      await page.getByRole('button', { name: en['sharing.save'] }).click();
      await page.locator('#list-status', { hasText: en['api.sharingChanged'] }).waitFor({ timeout: 30_000 });
    } finally {
      meanwhile.mockRestore();
    }
    // Nothing of this page's choice was saved, and the switch shows what the other tab chose.
    expect(await page.locator('.sharing-form input[name="advocates"]').isChecked()).toBe(false);
    expect(await page.locator('.sharing-form input[name="count"]').isChecked()).toBe(false);
    expect(problems).toEqual([]);
  });
});
