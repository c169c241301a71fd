/**
 * Account security (issue 15) through the HTTP API, with real argon2, real TOTP codes and a
 * real database: TOTP secrets are encrypted at rest under the key file (a scan of the database
 * finds none of them, old plaintext ones are sealed at start, a rotation re-seals them, an
 * unknown key stops the start); a member regenerates recovery codes with the password and a
 * fresh code (the old ones stop working); an admin resets another member's 2FA (their sessions
 * end, they must enrol again, audited), never their own. Bad input and wrong roles are refused
 * with {error: {code, message}} and write nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { fromBase64url, staffSecrets, toBase64url } from '../../protocol';
import { createApp } from '../../server/app';
import { clockFrom } from '../../server/clock';
import { ConfigError, loadTotpKeys } from '../../server/config';
import { totpSealer } from '../../server/crypto/totp-sealing';
import { base32Encode } from '../../server/http/totp';
import { foundInDatabase } from '../support/database-files';
import {
  addStaff,
  CLIENT_DIR,
  enrolTotp,
  removedMidRequest,
  loginBody,
  makeTestServer,
  setupAdmin,
  signIn,
  totpCode,
  unchanged,
  type StaffActor,
  type TestServer,
} from '../support/harness';
import { expectError, MARKER } from './expect-error';

type Agent = ReturnType<typeof request.agent>;

/** The forms a TOTP secret could be stored in: its bytes, base64url (how it was stored before), base32 (as shown). */
const secretForms = (secret: Uint8Array) => [secret, toBase64url(secret), base32Encode(secret)];

async function authKeyOf(t: TestServer, who: StaffActor): Promise<string> {
  const params = await request(t.app).post('/api/staff/login/params').send({ username: who.username });
  const { authKey } = await staffSecrets(who.password, fromBase64url(params.body.kdf.salt), params.body.kdf.params);
  return toBase64url(authKey);
}

async function auditActions(admin: Agent): Promise<{ action: string; actorId: string; subject: string | null; detail: unknown }[]> {
  const res = await admin.get('/api/staff/audit?limit=500');
  expect(res.status).toBe(200);
  return res.body.entries;
}

/** Another app on the same database and data folder, as the server restarted (with other TOTP keys, if given). */
async function restart(t: TestServer, totpKeys?: { current: string; previous?: string }): Promise<TestServer> {
  const { app, ctx } = await createApp({
    db: t.db,
    config: t.ctx.config,
    clientDir: CLIENT_DIR,
    log: (l) => t.logs.push(l),
    clock: clockFrom(() => t.clock.now()),
    ...(totpKeys ? { totpKeys } : {}),
  });
  return { ...t, app, ctx };
}

describe('TOTP secrets at rest', () => {
  let t: TestServer;
  let admin: StaffActor;
  let mod: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    mod = await addStaff(t, admin, 'mod.rest');
  });
  afterAll(() => t.close());

  test('the key file is made at first start, mode 0600, beside the database and not in it', async () => {
    const file = t.ctx.config.totpKeyFile;
    expect(path.dirname(file)).toBe(t.dir);
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const key = loadTotpKeys(t.ctx.config).current;
    expect(await foundInDatabase(t, [key, fromBase64url(key)])).toEqual([]);
  });

  test('a scan of the database finds no TOTP secret in any form, and signing in still works', async () => {
    expect(await foundInDatabase(t, [...secretForms(admin.totpSecret), ...secretForms(mod.totpSecret)])).toEqual([]);
    const rows = await t.db('staff').select('totp_secret', 'totp_secret_sealed');
    for (const r of rows) {
      expect(r.totp_secret).toBeNull();
      expect(r.totp_secret_sealed).toMatch(/^t1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{64}$/);
    }
    await signIn(t, mod);
  });

  test('a sealed secret is bound to its member: moved onto another account it does not open', async () => {
    const sealer = totpSealer(loadTotpKeys(t.ctx.config));
    const row = await t.db('staff').where({ id: mod.staffId }).first('totp_secret_sealed');
    expect(Buffer.from(sealer.open(row.totp_secret_sealed, mod.staffId, 'secret'))).toEqual(Buffer.from(mod.totpSecret));
    expect(() => sealer.open(row.totp_secret_sealed, admin.staffId, 'secret')).toThrow();
    expect(() => sealer.open(row.totp_secret_sealed, mod.staffId, 'pending')).toThrow();
  });

  test('a secret stored in plaintext before encryption at rest is sealed at the next start, and its plaintext erased', async () => {
    // As a database from before migration 008 holds it: base64url in the old column.
    await t
      .db('staff')
      .where({ id: mod.staffId })
      .update({ totp_secret: toBase64url(mod.totpSecret), totp_secret_sealed: null });
    expect(await foundInDatabase(t, [toBase64url(mod.totpSecret)])).toHaveLength(1);
    const again = await restart(t);
    const row = await t.db('staff').where({ id: mod.staffId }).first('totp_secret', 'totp_secret_sealed');
    expect(row.totp_secret).toBeNull();
    expect(row.totp_secret_sealed).toMatch(/^t1\./);
    expect(await foundInDatabase(t, secretForms(mod.totpSecret))).toEqual([]);
    expect(t.logs.some((l) => /TOTP secrets: 1 member sealed/.test(l))).toBe(true);
    await signIn(again, mod);
  });

  test('rotation: with the old key as TOTP_PREVIOUS_KEY_FILE, every secret is sealed under the new key at start', async () => {
    const old = loadTotpKeys(t.ctx.config).current;
    const next = toBase64url(new Uint8Array(32).fill(7));
    const before = await t.db('staff').select('id', 'totp_secret_sealed').orderBy('id');
    const rotated = await restart(t, { current: next, previous: old });
    const after = await t.db('staff').select('id', 'totp_secret_sealed').orderBy('id');
    const newKeyId = totpSealer({ current: next }).seal(new Uint8Array(20), 'x', 'secret').split('.')[1];
    for (const [i, r] of after.entries()) {
      expect(r.totp_secret_sealed).not.toBe(before[i].totp_secret_sealed);
      expect(r.totp_secret_sealed.split('.')[1]).toBe(newKeyId);
    }
    await signIn(rotated, mod);
    // The old key alone no longer opens anything: a start with only it (or any other key) stops, naming the file.
    await expect(restart(t, { current: old })).rejects.toThrow(ConfigError);
    await expect(restart(t, { current: toBase64url(new Uint8Array(32).fill(9)) })).rejects.toThrow(/TOTP_KEY_FILE: .*restore the key file/);
    // Back to the key file, for the tests after this one.
    await restart(t, { current: old, previous: next });
  });
});

describe('regenerating recovery codes', () => {
  let t: TestServer;
  let admin: StaffActor;
  let mod: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    mod = await addStaff(t, admin, 'mod.codes');
  });
  afterAll(() => t.close());

  test('with the password and a fresh code: ten new codes, the old ones stop working, audited', async () => {
    const old = mod.recoveryCodes;
    const res = await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: await authKeyOf(t, mod), totp: totpCode(t, mod) });
    expect(res.status).toBe(201);
    const codes: string[] = res.body.recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(codes.some((c) => old.includes(c))).toBe(false);

    const stale = await loginBody(t, mod, { recoveryCode: old[0] });
    expectError(await request(t.app).post('/api/staff/login').send(stale.body), 401, 'unauthorized');
    const fresh = await loginBody(t, mod, { recoveryCode: codes[0] });
    const ok = await request(t.app).post('/api/staff/login').send(fresh.body);
    expect(ok.status).toBe(200);
    expect(ok.body.recoveryCodesLeft).toBe(9);

    const entries = await auditActions(admin.agent);
    expect(entries.filter((e) => e.action === 'staff.recovery_codes_regenerated')).toEqual([
      expect.objectContaining({ actorId: mod.staffId, subject: mod.staffId, detail: { recoveryCodes: 10 } }),
    ]);
    expect(JSON.stringify(entries)).not.toContain(codes[1]);
  });

  test('a wrong password, a wrong code or a replayed code: 403 naming it, and the codes stay as they were', async () => {
    const codesBefore = await t.db('staff_recovery_codes').where({ staff_id: mod.staffId }).select('code_hash').orderBy('code_hash');
    const authKey = await authKeyOf(t, mod);
    const other = await authKeyOf(t, { ...mod, password: 'not the password at all' });
    expectError(
      await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: other, totp: totpCode(t, mod) }),
      403,
      'wrong_password',
      'password',
    );
    const wrong = totpCode(t, mod) === '000000' ? '111111' : '000000';
    expectError(
      await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: authKey, totp: wrong }),
      403,
      'wrong_code',
      'totp',
    );
    // A code already used (here: by the sign-in above) cannot be used again.
    const used = totpCode(t, mod);
    expect((await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: authKey, totp: used })).status).toBe(201);
    const afterUse = await t.db('staff_recovery_codes').where({ staff_id: mod.staffId }).select('code_hash').orderBy('code_hash');
    expect(afterUse).not.toEqual(codesBefore);
    expectError(await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: authKey, totp: used }), 403, 'wrong_code');
    expect(await t.db('staff_recovery_codes').where({ staff_id: mod.staffId }).select('code_hash').orderBy('code_hash')).toEqual(afterUse);
  });

  test('bad input and no session: 4xx naming the problem, nothing written', async () => {
    const authKey = await authKeyOf(t, mod);
    await unchanged(t, async () => {
      expectError(await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: authKey }), 400, 'invalid_request', 'totp');
      expectError(await mod.agent.post('/api/staff/recovery-codes').send({ totp: '123456' }), 400, 'invalid_request', 'currentAuthKey');
      expectError(
        await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: authKey, totp: `12${MARKER}` }),
        400,
        'invalid_request',
        'totp',
      );
      expectError(
        await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: authKey.slice(1), totp: '123456' }),
        400,
        'invalid_request',
        'currentAuthKey',
      );
      expectError(
        await mod.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: authKey, totp: '123456', extra: MARKER }),
        400,
        'invalid_request',
      );
      expectError(
        await request(t.app).post('/api/staff/recovery-codes').send({ currentAuthKey: authKey, totp: '123456' }),
        401,
        'unauthorized',
      );
    });
  });
});

describe("an admin resets a member's two-factor sign-in", () => {
  let t: TestServer;
  let admin: StaffActor;
  let mod: StaffActor;
  let advocate: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    mod = await addStaff(t, admin, 'mod.reset');
    advocate = await addStaff(t, admin, 'adv.reset', 'advocate');
  });
  afterAll(() => t.close());

  test('only an admin, never for their own account, only for a real enrolled member; bad input writes nothing', async () => {
    const url = (id: string) => `/api/staff/members/${id}/totp-reset`;
    await unchanged(t, async () => {
      expectError(await mod.agent.post(url(advocate.staffId)).send({}), 403, 'forbidden', 'admin');
      expectError(await advocate.agent.post(url(mod.staffId)).send({}), 403, 'forbidden', 'admin');
      expectError(await request(t.app).post(url(mod.staffId)).send({}), 401, 'unauthorized');
      expectError(await admin.agent.post(url(admin.staffId)).send({}), 409, 'own_account', 'another admin', 'recovery code');
      expectError(await admin.agent.post(url('AAAAAAAAAAAAAAAAAAAAAA')).send({}), 404, 'not_found', 'staff member');
      expectError(await admin.agent.post(url(`${MARKER}x`)).send({}), 400, 'invalid_request', 'staffId');
      expectError(await admin.agent.post(url(mod.staffId)).send({ why: MARKER }), 400, 'invalid_request');
    });
  });

  test("the member's sessions end, the old code and recovery codes no longer count, and the next sign-in must enrol again", async () => {
    const other = await signIn(t, mod); // a second session, on another device
    const res = await admin.agent.post(`/api/staff/members/${mod.staffId}/totp-reset`).send({});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sessionsEnded: 2 });
    for (const agent of [mod.agent, other]) expectError(await agent.get('/api/staff/me'), 401, 'unauthorized');
    const row = await t.db('staff').where({ id: mod.staffId }).first('totp_secret_sealed', 'totp_pending_sealed', 'totp_last_step');
    expect(row).toEqual({ totp_secret_sealed: null, totp_pending_sealed: null, totp_last_step: null });
    expect(await t.db('staff_recovery_codes').where({ staff_id: mod.staffId })).toEqual([]);

    // The password alone now opens a session that can do nothing but set up TOTP again.
    const agent = request.agent(t.app);
    const { body } = await loginBody(t, mod, {});
    const login = await agent.post('/api/staff/login').send(body);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ totpEnrolled: false, recoveryCodesLeft: 0 });
    expectError(await agent.get('/api/staff/cases'), 403, 'totp_enrolment_required');
    const enrolled = await enrolTotp(t, agent, mod.username);
    expect(Buffer.from(enrolled.totpSecret)).not.toEqual(Buffer.from(mod.totpSecret));
    expect((await agent.get('/api/staff/cases')).status).toBe(200);

    const entries = await auditActions(admin.agent);
    expect(entries.filter((e) => e.action === 'staff.totp_reset')).toEqual([
      expect.objectContaining({ actorId: admin.staffId, subject: mod.staffId, detail: { username: 'mod.reset', sessionsEnded: 2 } }),
    ]);
    // A second reset before enrolment finds nothing to reset.
    const again = await loginBody(t, advocate);
    const advAgent = request.agent(t.app);
    expect((await advAgent.post('/api/staff/login').send(again.body)).status).toBe(200);
    expect((await admin.agent.post(`/api/staff/members/${advocate.staffId}/totp-reset`).send({})).status).toBe(200);
    await unchanged(t, async () => {
      expectError(
        await admin.agent.post(`/api/staff/members/${advocate.staffId}/totp-reset`).send({}),
        409,
        'totp_not_enrolled',
        'adv.reset',
      );
    });
  });

  test("an admin removed after their request passed the guard resets nothing: 409 member_removed, the member's 2FA and sessions stay", async () => {
    const member = await addStaff(t, admin, 'mod.kept');
    const leaving = await addStaff(t, admin, 'admin.leaving', ['admin']);
    const reset = await removedMidRequest(t, admin, leaving, () =>
      leaving.agent.post(`/api/staff/members/${member.staffId}/totp-reset`).send({}),
    );
    expectError(reset, 409, 'member_removed', 'removed');
    expect((await member.agent.get('/api/staff/cases')).status).toBe(200);
    const row = await t.db('staff').where({ id: member.staffId }).first('totp_secret_sealed');
    expect(row.totp_secret_sealed).not.toBeNull();
    expect(await t.db('staff_recovery_codes').where({ staff_id: member.staffId })).toHaveLength(10);
    expect((await auditActions(admin.agent)).filter((e) => e.action === 'staff.totp_reset' && e.subject === member.staffId)).toEqual([]);
  });
});
