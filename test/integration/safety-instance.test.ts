/**
 * No trace on the device, from the server's side: every answer a survivor's browser gets
 * (the survivor pages, the assets, every survivor API answer, errors included) is
 * Cache-Control: no-store and sets no cookie; GET /api/instance tells the pages where quick
 * exit goes (QUICK_EXIT_URL); the safety page is served.
 */
import request from 'supertest';
import { signLogin, toBase64url } from '../../protocol';
import { DEFAULT_QUICK_EXIT_URL } from '../../server/config';
import { makeTestServer, registerSurvivor, setupAdmin, submitTestimony, type TestServer } from '../support/harness';

const EXIT = 'https://example.org/weather-today';
const SUPPORT = 'Helpline 0800-00000';
let t: TestServer;
beforeAll(async () => {
  t = await makeTestServer({ QUICK_EXIT_URL: EXIT, SUPPORT_CONTACTS: SUPPORT });
});
afterAll(() => t.close());

function noTrace(res: request.Response, what: string): void {
  expect({ what, cacheControl: res.headers['cache-control'], setCookie: res.headers['set-cookie'] }).toEqual({
    what,
    cacheControl: 'no-store',
    setCookie: undefined,
  });
}

test('GET /api/instance names the configured quick-exit address', async () => {
  const res = await request(t.app).get('/api/instance');
  expect(res.status).toBe(200);
  expect(res.body.quickExitUrl).toBe(EXIT);
  expect(res.body.supportContacts).toBe(SUPPORT);
  noTrace(res, 'GET /api/instance');
});

test('without QUICK_EXIT_URL the default neutral site is named', async () => {
  const other = await makeTestServer();
  try {
    const body = (await request(other.app).get('/api/instance')).body;
    expect(body.quickExitUrl).toBe(DEFAULT_QUICK_EXIT_URL);
    expect(body.supportContacts).toBe('');
  } finally {
    await other.close();
  }
});

test('the safety page is served in English with its Urdu hooks, and links back to the survivor pages', async () => {
  const res = await request(t.app).get('/safety');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expect(res.text).toContain('data-i18n="safety.heading"');
  expect(res.text).toContain('href="/share"');
  expect(res.text).toContain('data-quick-exit');
  noTrace(res, 'GET /safety');
});

test.each(['/', '/share', '/return', '/safety'])('survivor page %s and everything it loads leave no cookie and no cache', async (page) => {
  const res = await request(t.app).get(page);
  expect(res.status).toBe(200);
  noTrace(res, page);
  if (page !== '/safety') expect(res.text).toContain('href="/safety"');
  for (const m of res.text.matchAll(/\s(?:src|href)="(\/assets\/[^"]+)"/g)) noTrace(await request(t.app).get(m[1]), m[1]);
});

test('every survivor API answer, success or error, is no-store and sets no cookie', async () => {
  await setupAdmin(t);
  const survivor = await registerSurvivor(t);
  const { res: submitted } = await submitTestimony(t, survivor, 'a testimony');
  expect(submitted.status).toBe(201);
  noTrace(submitted, 'POST /api/survivor/cases');

  noTrace(await request(t.app).post('/api/pow').send({}), 'POST /api/pow');
  const challenge = await request(t.app).post('/api/survivor/challenge').send({});
  noTrace(challenge, 'POST /api/survivor/challenge');
  const session = await request(t.app)
    .post('/api/survivor/session')
    .send({
      signPk: toBase64url(survivor.keys.sign.publicKey),
      challenge: challenge.body.challenge,
      sig: toBase64url(signLogin(t.ctx.instanceId, challenge.body.challenge, survivor.keys.sign.secretKey)),
    });
  expect(session.status).toBe(200);
  noTrace(session, 'POST /api/survivor/session');
  const cases = await request(t.app).get('/api/survivor/cases').set('Authorization', `Bearer ${session.body.token}`);
  expect(cases.status).toBe(200);
  noTrace(cases, 'GET /api/survivor/cases');

  const refused = await request(t.app).get('/api/survivor/cases');
  expect(refused.status).toBe(401);
  noTrace(refused, 'GET /api/survivor/cases without a token');
  const bad = await request(t.app).post('/api/survivor/session').send({ signPk: 'x', challenge: 'y', sig: 'z' });
  expect(bad.status).toBe(400);
  noTrace(bad, 'POST /api/survivor/session with a bad body');
});
