/**
 * The first-admin setup link expires (server/setup-link.ts): it is printed to the server's
 * output, which a log may keep long after; past SETUP_LINK_MS it is refused with 410 and
 * nothing is written. A new link replaces the old one. Moves the test clock, never waits.
 */
import request from 'supertest';
import { issueSetupLink, SETUP_LINK_MS } from '../../server/setup-link';
import { firstAdminSetupBody, makeTestServer, type TestServer } from '../support/harness';
import { expectError } from './expect-error';

let t: TestServer;
beforeAll(async () => {
  t = await makeTestServer();
});
afterAll(() => t.close());

const setupBody = (setupToken: string) => firstAdminSetupBody(t, setupToken);

const tokenOf = (url: string) => url.split('#')[1];

async function written() {
  const row = await t.db('instance').where({ id: 1 }).first();
  return {
    instancePk: row.instance_pk,
    staff: Number((await t.db('staff').count({ n: '*' }))[0].n),
    keysets: Number((await t.db('keysets').count({ n: '*' }))[0].n),
    audit: Number((await t.db('audit_log').count({ n: '*' }))[0].n),
  };
}

test('a setup link past its 24 hours is refused (410, naming how to get a new one) and writes nothing; a new link works until just before its end', async () => {
  const issuedFrom = t.clock.now();
  const first = await issueSetupLink(t.ctx.repos.instance, 'http://test', t.ctx.clock);
  expect(first.expiresAt - issuedFrom).toBeGreaterThanOrEqual(SETUP_LINK_MS);
  expect(first.expiresAt - t.clock.now()).toBeLessThanOrEqual(SETUP_LINK_MS);
  expect(SETUP_LINK_MS).toBe(24 * 3_600_000);
  // (the test clock follows real time plus what the test adds: the moves below are relative to the expiry)
  const before = await written();
  expect(before).toEqual({ instancePk: null, staff: 0, keysets: 0, audit: 0 });

  const expiredBody = await setupBody(tokenOf(first.url));
  t.clock.advance(first.expiresAt + 1 - t.clock.now());
  const agent = request.agent(t.app);
  const expired = await agent.post('/api/setup').send(expiredBody);
  expectError(expired, 410, 'setup_link_expired', 'expired', 'restart the server', '`npm run admin -- init`');
  expect(expired.headers['set-cookie']).toBeUndefined();
  expect(await written()).toEqual(before);

  // A new link replaces the old one, and works up to its last moment.
  const second = await issueSetupLink(t.ctx.repos.instance, 'http://test', t.ctx.clock);
  expectError(await agent.post('/api/setup').send(await setupBody(tokenOf(first.url))), 403, 'forbidden', 'setupToken');
  const body = await setupBody(tokenOf(second.url));
  // A minute before its end (the request itself takes far less).
  t.clock.advance(second.expiresAt - 60_000 - t.clock.now());
  const ok = await agent.post('/api/setup').send(body);
  expect(ok.status).toBe(201);
  const after = await written();
  expect(after.staff).toBe(1);
  expect(after.instancePk).not.toBeNull();
  const row = await t.db('instance').where({ id: 1 }).first();
  expect(row).toMatchObject({ setup_token_hash: null, setup_token_expires_at: null });
});
