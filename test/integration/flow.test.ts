/**
 * The walking skeleton end to end through the HTTP API, with the real protocol on both ends:
 * setup, invite, keyset, survivor registration, submission, survivor read-back, moderator read.
 */
import request from 'supertest';
import nacl from 'tweetnacl';
import { fromBase64url, openEnvelope, signLogin, toBase64url, unwrapPrivateKeys, staffSecrets } from '../../protocol';
import {
  addStaff,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  survivorKeys,
  totpCode,
  type StaffActor,
  type TestServer,
} from '../support/harness';

let t: TestServer;
/** the moderator of the first test, signed in again by the second (with a TOTP code) */
let mod: StaffActor;
beforeAll(async () => {
  t = await makeTestServer();
});
afterAll(() => t.close());

test('a testimony goes from the survivor to a moderator, readable only by them', async () => {
  const admin = await setupAdmin(t);
  const moderator = (mod = await addStaff(t, admin, 'mod.one'));
  const survivor = await registerSurvivor(t);
  expect(survivor.handle).toMatch(/^S-[0-9A-Z]{4}-[0-9A-Z]{4}$/);

  const { res, envelope } = await submitTestimony(t, survivor, 'it happened at the office');
  expect(res.status).toBe(201);
  expect(res.body).toEqual({ caseId: envelope.caseId, status: 'new', createdDay: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });

  // The moderator lists and opens the case, and decrypts it with their own key.
  const list = await moderator.agent.get('/api/staff/cases');
  expect(list.status).toBe(200);
  expect(list.body.cases).toEqual([
    {
      caseId: envelope.caseId,
      handle: survivor.handle,
      status: 'new',
      createdDay: res.body.createdDay,
      updatedDay: res.body.createdDay,
      assignee: null,
      awaitingStaff: true,
      unread: true,
    },
  ]);
  const detail = await moderator.agent.get(`/api/staff/cases/${envelope.caseId}`);
  expect(detail.status).toBe(200);
  const opened = openEnvelope<{ testimony: { what: string } }>(detail.body.thread[0].envelope, {
    box: moderator.box,
    expectedKind: 'testimony',
    expectedCaseId: envelope.caseId,
    trustedSigners: [fromBase64url(detail.body.survivorSignPk)],
  });
  expect(opened.body.testimony.what).toBe('it happened at the office');

  // The survivor comes back with the codename: challenge, signature, session, read-back.
  const keys = await survivorKeys(survivor.codename.toUpperCase(), t.ctx.instanceId);
  const { challenge } = (await request(t.app).post('/api/survivor/challenge').send({})).body;
  const session = await request(t.app)
    .post('/api/survivor/session')
    .send({
      signPk: toBase64url(keys.sign.publicKey),
      challenge,
      sig: toBase64url(signLogin(t.ctx.instanceId, challenge, keys.sign.secretKey)),
    });
  expect(session.status).toBe(200);
  expect(session.body.handle).toBe(survivor.handle);
  const mine = await request(t.app).get('/api/survivor/cases').set('Authorization', `Bearer ${session.body.token}`);
  expect(mine.status).toBe(200);
  expect(mine.body.cases).toHaveLength(1);
  const own = openEnvelope<{ testimony: { what: string } }>(mine.body.cases[0].thread[0].envelope, {
    box: keys.box,
    expectedKind: 'testimony',
    expectedCaseId: envelope.caseId,
    trustedSigners: [keys.sign.publicKey],
  });
  expect(own.body.testimony.what).toBe('it happened at the office');

  // The same challenge cannot be used twice.
  const replay = await request(t.app)
    .post('/api/survivor/session')
    .send({
      signPk: toBase64url(keys.sign.publicKey),
      challenge,
      sig: toBase64url(signLogin(t.ctx.instanceId, challenge, keys.sign.secretKey)),
    });
  expect(replay.status).toBe(401);

  // The admin is also a moderator here, so the survivor's browser wrapped the key to them too.
  const adminOpened = openEnvelope(detail.body.thread[0].envelope, {
    box: admin.box,
    expectedKind: 'testimony',
    expectedCaseId: envelope.caseId,
    trustedSigners: [keys.sign.publicKey],
  });
  expect(adminOpened.body.kind).toBe('testimony');
});

test('staff log in with the password-derived auth key and get back keys only their password opens', async () => {
  const login = request.agent(t.app);
  const params = await login.post('/api/staff/login/params').send({ username: 'mod.one' });
  expect(params.status).toBe(200);
  const { wrapKey, authKey } = await staffSecrets(
    'mod.one password for tests',
    fromBase64url(params.body.kdf.salt),
    params.body.kdf.params,
  );
  const res = await login.post('/api/staff/login').send({ username: 'mod.one', authKey: toBase64url(authKey), totp: totpCode(t, mod) });
  expect(res.status).toBe(200);
  expect(res.headers['set-cookie'][0]).toMatch(/HttpOnly/);
  expect(res.headers['set-cookie'][0]).toMatch(/SameSite=Strict/);
  const keys = unwrapPrivateKeys(res.body.wrappedKeys, wrapKey);
  expect(toBase64url(nacl.box.keyPair.fromSecretKey(keys.boxSecretKey).publicKey)).toBe(res.body.boxPk);
  expect((await login.get('/api/staff/cases')).status).toBe(200);

  const wrong = await request(t.app)
    .post('/api/staff/login')
    .send({ username: 'mod.one', authKey: toBase64url(nacl.randomBytes(32)) });
  expect(wrong.status).toBe(401);
  // Unknown users get a salt too, the same one every time, so the answer does not reveal who exists.
  const ghost1 = await request(t.app).post('/api/staff/login/params').send({ username: 'nobody.here' });
  const ghost2 = await request(t.app).post('/api/staff/login/params').send({ username: 'nobody.here' });
  expect(ghost1.status).toBe(200);
  expect(ghost1.body.kdf).toEqual(ghost2.body.kdf);
  // and a sign-in ticket, like a real account (the ticket holds the time, so it differs each time)
  expect(Object.keys(ghost1.body).sort()).toEqual(Object.keys(params.body).sort());
  expect(ghost1.body.ticket).toHaveLength(params.body.ticket.length);
  expect(ghost1.body.kdf.salt).not.toBe(params.body.kdf.salt);

  await login.post('/api/staff/logout').send({});
  expect((await login.get('/api/staff/cases')).status).toBe(401);
});

test('GET /api/instance serves the signed keyset but no fingerprint: pages compute it from the chain they verify', async () => {
  const res = await request(t.app).get('/api/instance');
  expect(res.status).toBe(200);
  expect(res.body.setupComplete).toBe(true);
  expect(res.body.keyset.instancePk).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(Object.keys(res.body)).not.toContain('fingerprint');
  expect(JSON.stringify(res.body)).not.toMatch(/[0-9A-F]{4}( [0-9A-F]{4}){9}/);
});
