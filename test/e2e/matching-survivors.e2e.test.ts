/**
 * The matches panel in Chromium counts a match's survivors by the keys that signed their
 * cases, not by the handles the server lists (protocol/matching.ts checkSurvivorKeys,
 * client/lib/staff-matching.ts). Survivors file their cases and entries over the API (one of
 * them two cases, under her one account and key); the hostile server is played in the
 * database: it lists her second case and its entry under another survivor's handle, given her
 * key. The counselor (also a moderator) sees that match as one survivor, with a warning naming
 * both handles, while the genuine match of two survivors stays confirmed, and the entry whose
 * case the server moved is shown as not checked, with why.
 */
import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { toBase64url } from '../../protocol';
import { registerSurvivor, submitTestimony, type SurvivorActor, type TestServer } from '../support/harness';
import { namePhoneOverApi } from '../support/matching';
import { openView, setUpMatchingTeam, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

const COUNSELOR = { username: 'samina.counsel', password: 'a long passphrase for the counselor' };

describeInBrowser('a match counted by survivor keys, in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("one survivor's two cases listed under two handles count once; two survivors stay confirmed", async () => {
    const counselor: Page = await setUpMatchingTeam(browser, (b) => newGuardedPage(b, problems), server, COUNSELOR);

    // The harness's survivor helpers need only the app (an address serves) and the instance id.
    const { instanceId } = (await request(server.url).get('/api/instance')).body;
    const remote = { app: server.url, ctx: { instanceId } } as unknown as TestServer;
    const fileCase = async (s: SurvivorActor) => {
      const { res, envelope } = await submitTestimony(remote, s, 'what happened');
      expect(res.status).toBe(201);
      return envelope.caseId;
    };
    const [x, y, z] = [await registerSurvivor(remote), await registerSurvivor(remote), await registerSurvivor(remote)];
    const [a, b] = [await fileCase(x), await fileCase(x)];
    const c = await fileCase(y);
    await fileCase(z);
    // x and y name one number: a genuine match. x names another number for both her cases.
    for (const [s, caseId] of [
      [x, a],
      [x, b],
      [y, c],
    ] as const)
      await namePhoneOverApi(server.url, s, caseId, '0300-4444444');
    await namePhoneOverApi(server.url, x, a, '0300-5555555');
    const moved = await namePhoneOverApi(server.url, x, b, '0300-5555555');

    // The hostile server: z's account given x's key, x's second case and its entry given to z.
    const db = server.openDb();
    try {
      await db.schema.alterTable('survivors', (table) => table.dropUnique(['sign_pk']));
      await db('survivors')
        .where({ handle: z.handle })
        .update({ sign_pk: toBase64url(x.keys.sign.publicKey) });
      const zId = (await db('survivors').where({ handle: z.handle }).first('id')).id;
      await db('cases').where({ id: b }).update({ survivor_id: zId });
      await db('matching_entries').where({ id: moved }).update({ survivor_id: zId });
    } finally {
      await db.destroy();
    }

    await staffSignIn(counselor, server.url, COUNSELOR);
    await openView(counselor, 'Matches');
    await counselor.locator('#matching-status').filter({ hasText: '1 confirmed match.' }).waitFor({ timeout: 60_000 });
    expect(await counselor.locator('#matching-list article.match').count()).toBe(2);

    // The lie: two handles, two cases, entries that name one number, but one survivor key.
    const lie = counselor.locator('#matching-list article.match[data-survivors="one-survivor"]');
    await lie.getByRole('heading', { name: 'Not a match: one survivor named phone +923005555555' }).waitFor();
    expect(await lie.getAttribute('data-confirmed')).toBe('false');
    const warning = lie.locator('[data-same-key]');
    expect(await warning.getAttribute('role')).toBe('alert');
    expect(((await warning.getAttribute('data-same-key')) ?? '').split(' ').sort()).toEqual([x.handle, z.handle].sort());
    expect(await warning.textContent()).toContain('signed by one survivor key');

    // The genuine match stands on x's first case and y's case; x's entry naming the moved case is not checked, with why.
    const genuine = counselor.locator('#matching-list article.match[data-confirmed="true"]');
    await genuine.getByRole('heading', { name: 'Match: phone +923004444444' }).waitFor();
    expect(await genuine.textContent()).toContain('signed by 2 different survivor keys');
    const unchecked = genuine.locator('li.match-unchecked');
    expect(await unchecked.count()).toBe(1);
    expect(await unchecked.textContent()).toContain(
      `its case could not be checked: this case belongs to ${z.handle}, not to ${x.handle} who named it`,
    );
    expect(problems).toEqual([]);
  }, 300_000);
});
