/**
 * Staff account security through the HTTP API, with real argon2, real TOTP codes and a real
 * SQLite file: two-factor enrolment is mandatory and gates every other route; codes cannot be
 * replayed; recovery codes work once; failed sign-ins lock the account (unknown usernames
 * too, with the same answer); log out everywhere; admin session settings and their bounds;
 * password change by re-wrapping in the "browser"; the audit log grows append-only and its
 * verification catches altered, deleted, reordered and rewritten entries; bad input on every
 * new route is refused with {error: {code, message}} and writes nothing.
 *
 * The app's clock (harness `t.clock`) moves forward to reach fresh TOTP steps and to let
 * locks and sessions expire; nothing waits for real time.
 */
import argon2 from 'argon2';
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  auditLogKeeps,
  chainAuditEntry,
  fromBase64url,
  STAFF_KDF,
  staffSecrets,
  toBase64url,
  unwrapPrivateKeys,
  verifyAuditChain,
  wrapPrivateKeys,
  type Argon2Params,
  type AuditRecord,
} from '../../protocol';
import type { AuditInput } from '../../server/db/audit-repo';
import {
  ARGON2_CONCURRENCY,
  ARGON2_QUEUE_LIMIT,
  argon2Load,
  lockDelayMs,
  LOGIN_LOCK,
  recoveryCodeHash,
  withArgon2Slot,
} from '../../server/http/staff-credentials';
import { hashToken, hmac, SIGN_IN_TICKET_LIFETIME_MS } from '../../server/http/tokens';
import { hotp, totpStep } from '../../server/http/totp';
import { sweepExpired } from '../../server/sweeper';
import {
  addStaff,
  enrolTotp,
  removedMidRequest,
  loginBody,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  signIn,
  staffMaterial,
  statementsOf,
  submitTestimony,
  unchanged,
  type StaffActor,
  type TestServer,
} from '../support/harness';
import { interleave } from '../support/interleave';
import { expectError, MARKER } from './expect-error';

type Agent = ReturnType<typeof request.agent>;

async function auditLog(t: TestServer, admin: Agent): Promise<AuditRecord[]> {
  const res = await admin.get('/api/staff/audit?limit=500');
  expect(res.status).toBe(200);
  return res.body.entries;
}

/** A 6-digit code that is none of the codes the server accepts now for this secret. */
function notACode(secret: Uint8Array, now: number): string {
  const step = totpStep(now);
  const valid = new Set([-2, -1, 0, 1, 2].map((d) => hotp(secret, step + d)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

async function invitedButNotEnrolled(
  t: TestServer,
  admin: StaffActor,
  username: string,
  kdfParams = STAFF_KDF,
): Promise<{ agent: Agent; id: string; password: string }> {
  const invite = await admin.agent.post('/api/staff/invites').send({ roles: ['moderator'] });
  const inviteToken = String(invite.body.url).split('#')[1];
  const password = `${username} password for tests`;
  const { material } = await staffMaterial(username, password, undefined, kdfParams);
  const agent = request.agent(t.app);
  const enrol = await agent.post('/api/staff/enrol').send({ inviteToken, ...material });
  expect(enrol.status).toBe(201);
  expect(enrol.body.totpEnrolled).toBe(false);
  return { agent, id: enrol.body.id, password };
}

describe('two-factor sign-in', () => {
  let t: TestServer;
  let admin: StaffActor;
  let mod: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    mod = await addStaff(t, admin, 'mod.one');
  });
  afterAll(() => t.close());

  test('right after the password step, every staff route but the enrolment ones answers 403 totp_enrolment_required', async () => {
    const fresh = await invitedButNotEnrolled(t, admin, 'not.yet');
    const me = await fresh.agent.get('/api/staff/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'not.yet', totpEnrolled: false });
    await unchanged(t, async () => {
      for (const [method, path, body] of [
        ['get', '/api/staff/cases', undefined],
        ['get', '/api/staff/members', undefined],
        ['post', '/api/staff/invites', { roles: ['moderator'] }],
        ['post', '/api/staff/password', {}],
        ['get', '/api/staff/audit', undefined],
        ['get', '/api/staff/settings', undefined],
      ] as const) {
        const res = method === 'get' ? await fresh.agent.get(path) : await fresh.agent.post(path).send(body);
        expectError(res, 403, 'totp_enrolment_required', 'two-factor');
      }
    });
    // The enrolment itself works in that session, and then the gate opens (for what the role allows).
    const { recoveryCodes } = await enrolTotp(t, fresh.agent, 'not.yet');
    expect(recoveryCodes).toHaveLength(10);
    expect((await fresh.agent.get('/api/staff/me')).body.totpEnrolled).toBe(true);
    expectError(await fresh.agent.get('/api/staff/cases'), 403, 'forbidden', 'keyset'); // pending: not in the keyset yet
    expectError(await fresh.agent.post('/api/staff/totp/setup').send({}), 409, 'totp_already_enrolled');
  });

  test('the first admin is gated the same way right after setup', async () => {
    const t2 = await makeTestServer();
    try {
      const { issueSetupLink } = await import('../../server/setup-link');
      const { signKeyset, randomId, utcDay } = await import('../../protocol');
      const setupToken = (await issueSetupLink(t2.ctx.repos.instance, 'http://test', t2.ctx.clock)).url.split('#')[1];
      const instance = nacl.sign.keyPair();
      const staffId = randomId();
      const { material } = await staffMaterial('first', 'first admin password', instance);
      const keyset = signKeyset(
        {
          v: 1,
          instanceId: t2.ctx.instanceId,
          version: 1,
          prev: null,
          issuedDay: utcDay(),
          members: [{ staffId, username: 'first', roles: ['admin'], boxPk: material.boxPk, signPk: material.signPk }],
        },
        instance,
      );
      const agent = request.agent(t2.app);
      const setup = await agent.post('/api/setup').send({ setupToken, staffId, roles: ['admin'], keyset, ...material });
      expect(setup.status).toBe(201);
      expect(setup.body.totpEnrolled).toBe(false);
      expectError(await agent.post('/api/staff/invites').send({ roles: ['moderator'] }), 403, 'totp_enrolment_required');
      expectError(await agent.get('/api/staff/members'), 403, 'totp_enrolment_required');
      await enrolTotp(t2, agent, 'first');
      expect((await agent.post('/api/staff/invites').send({ roles: ['moderator'] })).status).toBe(201);
    } finally {
      await t2.close();
    }
  });

  test('a member who stopped after the password step signs in with the password alone, into the gated state, and finishes there', async () => {
    const fresh = await invitedButNotEnrolled(t, admin, 'came.back');
    const { body } = await loginBody(t, { username: 'came.back', password: fresh.password, totpSecret: new Uint8Array(20) }, {});
    const agent = request.agent(t.app);
    const res = await agent.post('/api/staff/login').send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totpEnrolled: false, recoveryCodesLeft: 0 });
    expectError(await agent.get('/api/staff/cases'), 403, 'totp_enrolment_required');
    const enrolled = await enrolTotp(t, agent, 'came.back');
    // From now on the password alone is not enough.
    const again = await loginBody(t, { username: 'came.back', password: fresh.password, totpSecret: enrolled.totpSecret }, {});
    expectError(await request(t.app).post('/api/staff/login').send(again.body), 401, 'unauthorized', 'wrong username, password or code');
  });

  test("a session opened with the password alone ends when the member confirms TOTP elsewhere: it never gains the member's second factor", async () => {
    const fresh = await invitedButNotEnrolled(t, admin, 'waited.out');
    // Someone holding the password signs in before the member has set up TOTP, and waits.
    const { body } = await loginBody(t, { username: 'waited.out', password: fresh.password, totpSecret: new Uint8Array(20) }, {});
    const waiting = request.agent(t.app);
    expect((await waiting.post('/api/staff/login').send(body)).status).toBe(200);
    await enrolTotp(t, fresh.agent, 'waited.out');
    expectError(await waiting.get('/api/staff/me'), 401, 'unauthorized');
    expectError(await waiting.post('/api/staff/session/key').send({}), 401, 'unauthorized');
    // The session that confirmed the code stays, now past the gate.
    expect((await fresh.agent.get('/api/staff/me')).body.totpEnrolled).toBe(true);
    expect((await fresh.agent.post('/api/staff/session/key').send({})).status).toBe(200);
    expect(await t.db('staff_sessions').where({ staff_id: fresh.id })).toHaveLength(1);
    const enrolled = (await auditLog(t, admin.agent)).filter((e) => e.action === 'staff.totp_enrolled' && e.actorId === fresh.id);
    expect(enrolled.map((e) => e.detail)).toEqual([{ recoveryCodes: 10, sessionsEnded: 1 }]);
  });

  test('a password-only sign-in that a TOTP confirm overtakes gets no session: 401, only the confirming session is left', async () => {
    const fresh = await invitedButNotEnrolled(t, admin, 'overtaken');
    const { body } = await loginBody(t, { username: 'overtaken', password: fresh.password, totpSecret: new Uint8Array(20) }, {});
    // The sign-in has read that no TOTP is set up when the member confirms one in their own session.
    const read = interleave(t.ctx.repos.security, 'totpState', () => enrolTotp(t, fresh.agent, 'overtaken'));
    try {
      const signedIn = await request(t.app).post('/api/staff/login').send(body);
      expect(read).toHaveBeenCalled();
      expectError(signedIn, 401, 'unauthorized', 'wrong username, password or code');
      expect(signedIn.headers['set-cookie']).toBeUndefined();
    } finally {
      read.mockRestore();
    }
    expect(await t.db('staff_sessions').where({ staff_id: fresh.id })).toHaveLength(1);
    expect((await fresh.agent.get('/api/staff/me')).body.totpEnrolled).toBe(true);
    const failed = (await auditLog(t, admin.agent)).filter((e) => e.action === 'staff.login_failed' && e.actorId === fresh.id);
    expect(failed.map((e) => e.detail!.reason)).toEqual(['code_missing']);
  });

  test('a new QR code replaces the unconfirmed one; a wrong code is refused and writes nothing', async () => {
    const fresh = await invitedButNotEnrolled(t, admin, 'two.tries');
    const first = await fresh.agent.post('/api/staff/totp/setup').send({});
    const second = await fresh.agent.post('/api/staff/totp/setup').send({});
    expect(first.body.secret).not.toBe(second.body.secret);
    expect(second.body.secret).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/); // 160 bits
    expect(second.body.uri).toMatch(/^otpauth:\/\/totp\/Awaaz:two\.tries\?secret=[A-Z2-7]{32}&issuer=Awaaz&/);
    const step = totpStep(t.clock.now());
    const { base32Decode } = await import('../../server/http/totp');
    const stale = hotp(base32Decode(first.body.secret), step);
    const right = hotp(base32Decode(second.body.secret), step);
    if (stale !== right) {
      await unchanged(t, async () =>
        expectError(await fresh.agent.post('/api/staff/totp/confirm').send({ code: stale }), 400, 'wrong_code', 'does not match'),
      );
    }
    await unchanged(t, async () =>
      expectError(
        await fresh.agent.post('/api/staff/totp/confirm').send({ code: hotp(base32Decode(second.body.secret), step + 3) }),
        400,
        'wrong_code',
      ),
    );
    const ok = await fresh.agent.post('/api/staff/totp/confirm').send({ code: right });
    expect(ok.status).toBe(201);
    const codes: string[] = ok.body.recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    // Only hashes are stored, and the secret is stored (server-side TOTP) but never the codes.
    const rows = await t.db('staff_recovery_codes').where({ staff_id: fresh.id });
    expect(rows.map((r: { code_hash: string }) => r.code_hash).sort()).toEqual(codes.map(recoveryCodeHash).sort());
    expect(JSON.stringify(await t.db('staff_recovery_codes').select())).not.toContain(codes[0].slice(0, 5) + '-');
  });

  test('sign-in needs the code: none, a wrong one, and one from another account all fail alike', async () => {
    const none = await loginBody(t, mod, {});
    const wrong = await loginBody(t, mod, { totp: notACode(mod.totpSecret, t.clock.now()) });
    const others = await loginBody(t, mod, { totp: hotp(admin.totpSecret, totpStep(t.clock.now()) + 1) });
    for (const { body } of [none, wrong, others])
      expectError(await request(t.app).post('/api/staff/login').send(body), 401, 'unauthorized', 'wrong username, password or code');
    const ok = await loginBody(t, mod);
    const res = await request(t.app).post('/api/staff/login').send(ok.body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totpEnrolled: true, recoveryCodesLeft: 10 });
    // The keys come back, and only the password opens them.
    const keys = unwrapPrivateKeys(res.body.wrappedKeys, ok.wrapKey);
    expect(toBase64url(nacl.box.keyPair.fromSecretKey(keys.boxSecretKey).publicKey)).toBe(res.body.boxPk);
  });

  test('a TOTP code cannot be replayed, nor an older one used after a newer one', async () => {
    const { body } = await loginBody(t, mod); // a fresh step S
    const step = mod.lastStep!;
    expect((await request(t.app).post('/api/staff/login').send(body)).status).toBe(200);
    expectError(await request(t.app).post('/api/staff/login').send(body), 401, 'unauthorized', 'wrong username, password or code');
    expectError(
      await request(t.app)
        .post('/api/staff/login')
        .send({ ...body, totp: hotp(mod.totpSecret, step - 1) }),
      401,
      'unauthorized',
    );
    // The next step is still good (within the window of one step ahead).
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send({ ...body, totp: hotp(mod.totpSecret, step + 1) })
      ).status,
    ).toBe(200);
    mod.lastStep = step + 1;
    const row = await t.db('staff').where({ id: mod.staffId }).first();
    expect(Number(row.totp_last_step)).toBe(step + 1);
    // The refusals are in the audit log, as second-factor failures of that account.
    const failures = (await auditLog(t, admin.agent)).filter((e) => e.action === 'staff.login_failed' && e.actorId === mod.staffId);
    expect(failures.map((e) => e.detail!.reason)).toEqual(expect.arrayContaining(['totp_replayed', 'totp', 'code_missing']));
  });

  test('two sign-ins racing with the same code: exactly one wins', async () => {
    const { body } = await loginBody(t, mod);
    const results = await Promise.all([1, 2, 3].map(() => request(t.app).post('/api/staff/login').send(body)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  test('a recovery code signs in once, in any spelling; a used one fails', async () => {
    const [first, second] = mod.recoveryCodes;
    const a = await loginBody(t, mod, { recoveryCode: first });
    const used = await request(t.app).post('/api/staff/login').send(a.body);
    expect(used.status).toBe(200);
    expect(used.body.recoveryCodesLeft).toBe(9);
    expectError(await request(t.app).post('/api/staff/login').send(a.body), 401, 'unauthorized', 'wrong username, password or code');
    const b = await loginBody(t, mod, { recoveryCode: second.toLowerCase().replace(/-/g, ' ') });
    expect((await request(t.app).post('/api/staff/login').send(b.body)).body.recoveryCodesLeft).toBe(8);
    // Another member's code is no code for this one.
    const c = await loginBody(t, mod, { recoveryCode: admin.recoveryCodes[0] });
    expectError(await request(t.app).post('/api/staff/login').send(c.body), 401, 'unauthorized');
    const log = await auditLog(t, admin.agent);
    expect(
      log
        .filter((e) => e.action === 'staff.login' && e.actorId === mod.staffId && e.detail?.method === 'recovery_code')
        .map((e) => e.detail!.recoveryCodesLeft),
    ).toEqual([9, 8]);
  });

  test('an unknown username, a wrong password, a wrong code: the same answer, one argon2 verification each', async () => {
    const verify = jest.spyOn(argon2, 'verify');
    try {
      const right = await loginBody(t, mod, {});
      const bodies = [
        { username: 'nobody.here', authKey: right.body.authKey, totp: '123456' },
        { username: 'mod.one', authKey: toBase64url(nacl.randomBytes(32)), totp: '123456' },
        { username: 'mod.one', authKey: right.body.authKey, totp: hotp(mod.totpSecret, totpStep(t.clock.now()) + 5) },
      ];
      const answers: { status: number; body: unknown }[] = [];
      const before = (await t.db('audit_log').count({ n: '*' }))[0].n;
      for (const body of bodies) {
        verify.mockClear();
        const res = await request(t.app).post('/api/staff/login').send(body);
        expect(verify).toHaveBeenCalledTimes(1);
        answers.push({ status: res.status, body: res.body });
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      expect(answers[0]).toEqual({ status: 401, body: { error: { code: 'unauthorized', message: 'wrong username, password or code' } } });
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
      // Failures are audited for the existing account only (two entries: not one for "nobody.here").
      const after = await t.db('audit_log').where('seq', '>', Number(before)).select();
      expect(after.map((r: { action: string; actor_id: string }) => [r.action, r.actor_id])).toEqual([
        ['staff.login_failed', mod.staffId],
        ['staff.login_failed', mod.staffId],
      ]);
      expect(JSON.stringify(after)).not.toContain('nobody.here');
    } finally {
      verify.mockRestore();
    }
    // The counters of failed sign-ins do not list usernames either.
    expect(JSON.stringify(await t.db('login_failures').select())).not.toMatch(/nobody|mod\.one/);
    // A success resets this account's counter.
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send((await loginBody(t, mod)).body)
      ).status,
    ).toBe(200);
  });

  /**
   * Not a time but its cause: a commit that writes costs a sync, an empty one does not. A failed
   * sign-in of an unknown username must commit as many writing transactions as a known one's,
   * or the speed of the 401 would tell who has an account.
   */
  test('a failed sign-in commits the same writes for an unknown username as for a known one', async () => {
    const right = await loginBody(t, mod, {});
    /** Each committed unit of work of one request: a transaction, or a statement on its own; and whether it wrote. */
    const commitsOf = async (body: object) => {
      const { sqls } = await statementsOf(t.db, async () => {
        expect((await request(t.app).post('/api/staff/login').send(body)).status).toBe(401);
      });
      const units: boolean[] = [];
      let open: boolean | undefined;
      for (const sql of sqls) {
        const writes = /^\s*(insert|update|delete)\b/i.test(sql);
        if (/^\s*begin\b/i.test(sql)) open = false;
        else if (/^\s*commit\b/i.test(sql)) {
          units.push(open!);
          open = undefined;
        } else if (open === undefined) units.push(writes);
        else open ||= writes;
      }
      return units;
    };
    const known = await commitsOf({ username: 'mod.one', authKey: toBase64url(nacl.randomBytes(32)), totp: '123456' });
    const unknown = await commitsOf({ username: 'nobody.at.all', authKey: right.body.authKey, totp: '123456' });
    expect(known.length).toBeGreaterThan(0);
    expect(unknown).toEqual(known);
    // and the next success resets the known account's counter, as the test above expects of it
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send((await loginBody(t, mod)).body)
      ).status,
    ).toBe(200);
  });
});

describe('login throttling', () => {
  let t: TestServer;
  let admin: StaffActor;
  let lockee: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    lockee = await addStaff(t, admin, 'lock.me');
  });
  afterAll(() => t.close());

  const wrongPassword = async (username = 'lock.me') =>
    request(t.app)
      .post('/api/staff/login')
      .send({ username, authKey: toBase64url(nacl.randomBytes(32)), totp: '123456' });

  test('the lock doubles from 30 s for each further failure, up to 15 minutes', () => {
    expect([1, 2, 3, 4].map(lockDelayMs)).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8, 9, 10, 11, 50, 1000].map(lockDelayMs)).toEqual([
      30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000, 900_000,
    ]);
  });

  test('five failures lock the account (429 account_locked with Retry-After), even for the right password; a success after the lock resets it', async () => {
    // Made first: making a fresh code may move the clock, which must not happen while locked.
    const good = await loginBody(t, lockee);
    for (let i = 1; i <= LOGIN_LOCK.threshold; i++)
      expectError(await wrongPassword(), 401, 'unauthorized', 'wrong username, password or code');
    const locked = await request(t.app).post('/api/staff/login').send(good.body);
    expectError(locked, 429, 'account_locked', 'too many failed sign-ins', '30 seconds');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(25);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(30);
    // While locked, nothing is checked or counted.
    const row = await t.db('login_failures').first();
    expect(row.failures).toBe(5);
    t.clock.advance(31_000);
    // A fresh code: the test clock follows real time, so `good`'s step may be past the window by now
    // on a slow machine (its code was made up to 30 s before a step ended).
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send((await loginBody(t, lockee)).body)
      ).status,
    ).toBe(200);
    expect(await t.db('login_failures').select()).toEqual([]);
    // Counting starts again from zero: four more failures do not lock.
    for (let i = 1; i <= 4; i++) expectError(await wrongPassword(), 401, 'unauthorized');
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send((await loginBody(t, lockee)).body)
      ).status,
    ).toBe(200);
  });

  test('consecutive failures after a lock lock for twice as long; a wrong code with the right password counts too', async () => {
    for (let i = 1; i <= 4; i++) expectError(await wrongPassword(), 401, 'unauthorized');
    const rightPasswordWrongCode = await loginBody(t, lockee, { totp: hotp(lockee.totpSecret, totpStep(t.clock.now()) + 7) });
    expectError(
      await request(t.app).post('/api/staff/login').send(rightPasswordWrongCode.body),
      401,
      'unauthorized',
      'wrong username, password or code',
    );
    expectError(await wrongPassword(), 429, 'account_locked');
    t.clock.advance(31_000);
    expectError(await wrongPassword(), 401, 'unauthorized'); // the 6th consecutive failure
    const again = await wrongPassword();
    expectError(again, 429, 'account_locked');
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(55);
    expect(Number(again.headers['retry-after'])).toBeLessThanOrEqual(60);
    t.clock.advance(61_000);
    admin.agent = await signIn(t, admin);
    const log = (await auditLog(t, admin.agent)).filter((e) => e.action === 'staff.login_failed' && e.actorId === lockee.staffId);
    expect(log[log.length - 1].detail).toEqual({ reason: 'password', failures: 6, lockedForSeconds: 60 });
    expect(log[log.length - 2].detail).toEqual({ reason: 'totp', failures: 5, lockedForSeconds: 30 });
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send((await loginBody(t, lockee)).body)
      ).status,
    ).toBe(200);
  });

  test('an unknown username locks exactly like a real one, so a lock says nothing about who exists', async () => {
    for (let i = 1; i <= 5; i++) expectError(await wrongPassword('ghost.user'), 401, 'unauthorized', 'wrong username, password or code');
    const locked = await wrongPassword('ghost.user');
    expectError(locked, 429, 'account_locked', 'too many failed sign-ins');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(25);
    // Other accounts are not affected.
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send((await loginBody(t, lockee)).body)
      ).status,
    ).toBe(200);
  });

  test('attempts sent all at once get no more verifications than the lock allows: five, then one per lock, unknown usernames alike', async () => {
    // The scenario: the password is stolen, the phone is not; every guess of the code is sent at once.
    const victim = await addStaff(t, admin, 'burst.me');
    const stolen = (await loginBody(t, victim)).body;
    let guess = 0;
    const guesses = (n: number, username = 'burst.me') => {
      const valid = new Set([-2, -1, 0, 1, 2].map((d) => hotp(victim.totpSecret, totpStep(t.clock.now()) + d)));
      const codes: string[] = [];
      while (codes.length < n) {
        const code = String((guess++ * 7919) % 1_000_000).padStart(6, '0');
        if (!valid.has(code)) codes.push(code);
      }
      return codes.map((totp) => ({ ...stolen, username, totp }));
    };
    const verify = jest.spyOn(argon2, 'verify');
    const statuses = async (bodies: object[]) => {
      verify.mockClear();
      const answers = await Promise.all(bodies.map((body) => request(t.app).post('/api/staff/login').send(body)));
      for (const a of answers) expect(a.headers['set-cookie']).toBeUndefined();
      const count = (status: number) => answers.filter((a) => a.status === status).length;
      return { 401: count(401), 429: count(429), verified: verify.mock.calls.length };
    };
    try {
      expect(await statuses(guesses(20))).toEqual({ 401: 5, 429: 15, verified: 5 });
      t.clock.advance(31_000);
      expect(await statuses(guesses(12))).toEqual({ 401: 1, 429: 11, verified: 1 });
      t.clock.advance(61_000);
      expect(await statuses(guesses(12))).toEqual({ 401: 1, 429: 11, verified: 1 });
      // An unknown username: the same counts, so a burst does not tell who has an account either.
      expect(await statuses(guesses(20, 'ghost.burst'))).toEqual({ 401: 5, 429: 15, verified: 5 });
      t.clock.advance(31_000);
      expect(await statuses(guesses(12, 'ghost.burst'))).toEqual({ 401: 1, 429: 11, verified: 1 });
    } finally {
      verify.mockRestore();
    }
    // Each verified attempt is audited once, with the count and lock it made.
    t.clock.advance(121_000);
    admin.agent = await signIn(t, admin);
    const log = (await auditLog(t, admin.agent)).filter((e) => e.action === 'staff.login_failed' && e.actorId === victim.staffId);
    const counted = log.map((e) => [Number(e.detail!.failures), Number(e.detail!.lockedForSeconds)]);
    expect(counted.sort((a, b) => a[0] - b[0])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 30],
      [6, 60],
      [7, 120],
    ]);
    // The owner, with the phone, still signs in once the lock is over, and that resets the count.
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send((await loginBody(t, victim)).body)
      ).status,
    ).toBe(200);
  });

  test('sign-ins refused because argon2 is busy (503 busy, nothing verified) are given back: they do not lock the account', async () => {
    const good = await loginBody(t, lockee);
    const counter = () => t.db('login_failures').where({ key: toBase64url(hmac(t.ctx.serverSecret, 'login-failures', lockee.username)) });
    // Every argon2 slot taken and the queue full, by jobs that wait for this test.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const blockers = Array.from({ length: ARGON2_CONCURRENCY + ARGON2_QUEUE_LIMIT }, () => withArgon2Slot(() => held));
    try {
      expect(argon2Load()).toEqual({ running: ARGON2_CONCURRENCY, waiting: ARGON2_QUEUE_LIMIT });
      for (let i = 0; i <= LOGIN_LOCK.threshold; i++)
        expectError(await request(t.app).post('/api/staff/login').send(good.body), 503, 'busy', 'busy with sign-ins');
      expect((await counter()).map((r: { failures: number | string }) => Number(r.failures))).toEqual([0]);
    } finally {
      release();
      await Promise.all(blockers);
    }
    expect((await request(t.app).post('/api/staff/login').send(good.body)).status).toBe(200);
    expect(await counter()).toEqual([]);
  });

  test('per hashed address too: the sensitive limiter answers 429 rate_limited', async () => {
    const t2 = await makeTestServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '3' });
    try {
      for (let i = 0; i < 3; i++)
        expect(
          (
            await request(t2.app)
              .post('/api/staff/login')
              .send({ username: `someone${i}`, authKey: toBase64url(nacl.randomBytes(32)) })
          ).status,
        ).toBe(401);
      expectError(
        await request(t2.app)
          .post('/api/staff/login')
          .send({ username: 'someone9', authKey: toBase64url(nacl.randomBytes(32)) }),
        429,
        'rate_limited',
      );
    } finally {
      await t2.close();
    }
  });
});

describe('sessions', () => {
  let t: TestServer;
  let admin: StaffActor;
  let mod: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    mod = await addStaff(t, admin, 'multi.dev');
  });
  afterAll(() => t.close());

  test('log out everywhere ends every session of that member, and only theirs', async () => {
    const phone = await signIn(t, mod);
    const laptop = await signIn(t, mod);
    for (const a of [mod.agent, phone, laptop]) expect((await a.get('/api/staff/me')).status).toBe(200);
    const res = await phone.post('/api/staff/logout/everywhere').send({});
    expect(res.status).toBe(204);
    expect(String(res.headers['set-cookie'])).toMatch(/awaaz_staff=;/);
    for (const a of [mod.agent, phone, laptop]) expectError(await a.get('/api/staff/me'), 401, 'unauthorized');
    expect(await t.db('staff_sessions').where({ staff_id: mod.staffId })).toEqual([]);
    expect((await admin.agent.get('/api/staff/me')).status).toBe(200);
    const entry = (await auditLog(t, admin.agent)).find((e) => e.action === 'staff.logout_everywhere');
    expect(entry).toMatchObject({ actorId: mod.staffId, subject: mod.staffId, detail: { sessions: 3 } });
    mod.agent = await signIn(t, mod);
  });

  test('the admin sets the timeouts within bounds; others may not', async () => {
    const got = await admin.agent.get('/api/staff/settings');
    expect(got.status).toBe(200);
    expect(got.body).toEqual({
      sessionIdleMinutes: 30,
      sessionAbsoluteHours: 12,
      defaults: { sessionIdleMinutes: 30, sessionAbsoluteHours: 12 },
      bounds: { sessionIdleMinutes: { min: 5, max: 1440 }, sessionAbsoluteHours: { min: 1, max: 168 } },
    });
    const moderatorOnly = await addStaff(t, admin, 'plain.mod');
    await unchanged(t, async () => {
      expectError(await moderatorOnly.agent.get('/api/staff/settings'), 403, 'forbidden', 'admin');
      expectError(
        await moderatorOnly.agent.post('/api/staff/settings').send({ sessionIdleMinutes: 10, sessionAbsoluteHours: 1 }),
        403,
        'forbidden',
      );
      expectError(await moderatorOnly.agent.get('/api/staff/audit'), 403, 'forbidden');
      expectError(await moderatorOnly.agent.get('/api/staff/activity'), 403, 'forbidden');
    });
    const set = await admin.agent.post('/api/staff/settings').send({ sessionIdleMinutes: 10, sessionAbsoluteHours: 1 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ sessionIdleMinutes: 10, sessionAbsoluteHours: 1 });
    const entry = (await auditLog(t, admin.agent)).find((e) => e.action === 'settings.changed');
    expect(entry!.detail).toEqual({ sessionIdleMinutes: 10, sessionAbsoluteHours: 1, previousIdleMinutes: 30, previousAbsoluteHours: 12 });
  });

  test('the idle timeout the admin set ends a session left alone for longer; the cookie ends with the browser', async () => {
    const login = await loginBody(t, mod);
    const agent = request.agent(t.app);
    const res = await agent.post('/api/staff/login').send(login.body);
    expect(String(res.headers['set-cookie'])).toMatch(/^awaaz_staff=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    t.clock.advance(9 * 60_000);
    expect((await agent.get('/api/staff/me')).status).toBe(200); // touched: idle restarts
    expect((await admin.agent.get('/api/staff/me')).status).toBe(200);
    t.clock.advance(11 * 60_000);
    expectError(await agent.get('/api/staff/me'), 401, 'unauthorized', 'ended');
    admin.agent = await signIn(t, admin);
  });

  test('the absolute timeout ends even a busy session', async () => {
    const agent = await signIn(t, mod);
    for (let i = 0; i < 6; i++) {
      t.clock.advance(9 * 60_000);
      expect((await agent.get('/api/staff/me')).status).toBe(200);
    }
    t.clock.advance(9 * 60_000); // 63 minutes after sign-in, never idle for 10
    expectError(await agent.get('/api/staff/me'), 401, 'unauthorized', 'ended');
    admin.agent = await signIn(t, admin);
  });

  test('an out-of-bounds value written straight into the database is ignored (configuration default)', async () => {
    await t.db('settings').where({ key: 'session.idle_minutes' }).update({ value: '0' });
    expect((await admin.agent.get('/api/staff/settings')).body.sessionIdleMinutes).toBe(30);
    await t.db('settings').where({ key: 'session.idle_minutes' }).update({ value: '10' });
  });

  /** Signs `who` in with a new agent, and gives the stored hash of its session token too. */
  async function sessionOf(who: StaffActor): Promise<{ agent: Agent; hash: string }> {
    const agent = request.agent(t.app);
    const res = await agent.post('/api/staff/login').send((await loginBody(t, who)).body);
    expect(res.status).toBe(200);
    const token = /awaaz_staff=([^;]+)/.exec(String(res.headers['set-cookie']))![1];
    return { agent, hash: hashToken(token) };
  }
  const setTimeouts = async (sessionIdleMinutes: number, sessionAbsoluteHours: number) =>
    expect((await admin.agent.post('/api/staff/settings').send({ sessionIdleMinutes, sessionAbsoluteHours })).status).toBe(200);

  test('a session that has ended stays ended when the admin raises the timeouts; lowering them ends sessions at once', async () => {
    admin.agent = await signIn(t, admin);
    await setTimeouts(10, 1);
    const idle = await sessionOf(mod); // left alone: ends 10 minutes after its last use
    const busy = await sessionOf(mod); // used every 9 minutes: ends an hour after sign-in
    for (let i = 0; i < 6; i++) {
      t.clock.advance(9 * 60_000);
      for (const a of [admin.agent, busy.agent]) expect((await a.get('/api/staff/me')).status).toBe(200);
    }
    t.clock.advance(9 * 60_000);
    admin.agent = await signIn(t, admin); // 63 minutes: the admin's session ended too
    await setTimeouts(120, 12);
    // Under the new timeouts both would be live (63 minutes idle of 120; 63 minutes old of 12
    // hours): they ended under the old ones and stay ended, and their rows go.
    expectError(await idle.agent.get('/api/staff/me'), 401, 'unauthorized', 'ended');
    expectError(await busy.agent.get('/api/staff/me'), 401, 'unauthorized', 'ended');
    expect(await t.db('staff_sessions').whereIn('token_hash', [idle.hash, busy.hash])).toEqual([]);

    // A live session takes the raised timeouts from its next use (the admin's, which was last
    // checked under the old ones, with this request); a new one from its start.
    expect((await admin.agent.get('/api/staff/me')).status).toBe(200);
    const later = await sessionOf(mod);
    t.clock.advance(100 * 60_000);
    for (const a of [admin.agent, later.agent]) expect((await a.get('/api/staff/me')).status).toBe(200);
    // Lowering them ends it at its next request, however long its own end is.
    t.clock.advance(20 * 60_000);
    await setTimeouts(10, 12);
    expectError(await later.agent.get('/api/staff/me'), 401, 'unauthorized', 'ended');
    await setTimeouts(10, 1);
    admin.agent = await signIn(t, admin); // the admin's own session, 2 hours old, has just ended
  });

  test('the sweeper erases every ended session, its reload key with it, and keeps the live ones', async () => {
    const idle = await sessionOf(mod);
    const reloadKey = (await idle.agent.post('/api/staff/session/key').send({})).body.key;
    expect(await t.db('staff_sessions').where({ reload_key: reloadKey }).first()).toBeDefined();
    const live = await sessionOf(mod);
    t.clock.advance(9 * 60_000);
    expect((await live.agent.get('/api/staff/me')).status).toBe(200);
    expect((await admin.agent.get('/api/staff/me')).status).toBe(200);
    t.clock.advance(2 * 60_000); // idle: 11 minutes unused, past its 10; live: 2
    // Raised now, the timeouts alone would not end `idle`: its own end does.
    await setTimeouts(60, 12);
    const now = t.clock.now();
    type Row = { token_hash: string; created_at: number | string; last_seen_at: number | string; live_until: number | string };
    const ended = (r: Row) =>
      Number(r.live_until) < now || Number(r.last_seen_at) < now - 60 * 60_000 || Number(r.created_at) < now - 12 * 3_600_000;
    const before: Row[] = await t.db('staff_sessions').select();
    expect(before.filter(ended).map((r) => r.token_hash)).toContain(idle.hash);

    const swept = await sweepExpired(t.ctx, now);
    expect(swept.sessions).toBe(before.filter(ended).length);
    const after: Row[] = await t.db('staff_sessions').select();
    expect(after.filter(ended)).toEqual([]);
    expect(after.map((r) => r.token_hash).sort()).toEqual(
      before
        .filter((r) => !ended(r))
        .map((r) => r.token_hash)
        .sort(),
    );
    expect(after.map((r) => r.token_hash)).toEqual(expect.arrayContaining([live.hash]));
    expect(await t.db('staff_sessions').where({ reload_key: reloadKey }).first()).toBeUndefined();
    expect((await live.agent.get('/api/staff/me')).status).toBe(200);
    expectError(await idle.agent.get('/api/staff/me'), 401, 'unauthorized', 'ended');
    expect((await live.agent.post('/api/staff/logout').send({})).status).toBe(204);
    await setTimeouts(10, 1);
  });

  test('the admin sees who is active: last-seen day and live sessions', async () => {
    const res = await admin.agent.get('/api/staff/activity');
    expect(res.status).toBe(200);
    const mine = res.body.members.find((m: { id: string }) => m.id === admin.staffId);
    expect(mine.lastSeenDay).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(mine.activeSessions).toBe(1);
    const phone = await signIn(t, mod);
    const laptop = await signIn(t, mod);
    const during = (await admin.agent.get('/api/staff/activity')).body.members.find((m: { id: string }) => m.id === mod.staffId);
    expect(during).toEqual({ id: mod.staffId, lastSeenDay: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), activeSessions: 2 });
    expect((await laptop.post('/api/staff/logout/everywhere').send({})).status).toBe(204);
    expectError(await phone.get('/api/staff/me'), 401, 'unauthorized');
    const after = (await admin.agent.get('/api/staff/activity')).body.members.find((m: { id: string }) => m.id === mod.staffId);
    expect(after).toEqual({ ...during, activeSessions: 0 });
  });

  test('an admin removed after their request passed the guard changes no setting: 409 member_removed', async () => {
    const before = (await admin.agent.get('/api/staff/settings')).body;
    const leaving = await addStaff(t, admin, 'admin.leaving', ['admin']);
    const set = await removedMidRequest(t, admin, leaving, () =>
      leaving.agent.post('/api/staff/settings').send({ sessionIdleMinutes: 1440, sessionAbsoluteHours: 168 }),
    );
    expectError(set, 409, 'member_removed', 'removed');
    expect((await admin.agent.get('/api/staff/settings')).body).toEqual(before);
  });
});

describe('password change', () => {
  let t: TestServer;
  let admin: StaffActor;
  let member: StaffActor;
  /** the authKey of the first password, sent as currentAuthKey by the change */
  let oldAuthKey: string;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    member = await addStaff(t, admin, 'pw.changer');
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  /** What the browser sends (client/lib/staff.ts changePassword): the same keys, re-wrapped. */
  async function rewrap(current: string, next: string) {
    const params = await request(t.app).post('/api/staff/login/params').send({ username: member.username });
    const now = await staffSecrets(current, fromBase64url(params.body.kdf.salt), params.body.kdf.params);
    const stored = (await member.agent.get('/api/staff/me')).body;
    const keys = unwrapPrivateKeys(stored.wrappedKeys, now.wrapKey);
    const salt = nacl.randomBytes(16);
    const fresh = await staffSecrets(next, salt, STAFF_KDF);
    return {
      currentAuthKey: toBase64url(now.authKey),
      kdf: { params: STAFF_KDF, salt: toBase64url(salt) },
      authKey: toBase64url(fresh.authKey),
      wrappedKeys: wrapPrivateKeys(keys, fresh.wrapKey),
    };
  }

  test('a wrong current password is refused (403 wrong_password), counted, and changes nothing', async () => {
    const body = await rewrap(member.password, 'another long password');
    const before = await t.db('staff').where({ id: member.staffId }).first();
    expectError(
      await member.agent.post('/api/staff/password').send({ ...body, currentAuthKey: toBase64url(nacl.randomBytes(32)) }),
      403,
      'wrong_password',
      'current password',
    );
    expect(await t.db('staff').where({ id: member.staffId }).first()).toEqual(before);
    expect((await t.db('login_failures').first()).failures).toBe(1);
    expect((await auditLog(t, admin.agent)).pop()).toMatchObject({ action: 'staff.password_change_failed', actorId: member.staffId });
  });

  test('new credentials only with the current KDF parameters: weaker or other valid ones are 400 not_current_kdf, nothing written', async () => {
    const weaker: Argon2Params = { alg: 'argon2id', m: 19 * 1024, t: 2, p: 1 };
    const body = await rewrap(member.password, 'a password kept under weaker parameters');
    const salt = nacl.randomBytes(16);
    const fresh = await staffSecrets('a password kept under weaker parameters', salt, weaker);
    const keys = unwrapPrivateKeys((await member.agent.get('/api/staff/me')).body.wrappedKeys, (await loginBody(t, member, {})).wrapKey);
    await unchanged(t, async () =>
      expectError(
        await member.agent.post('/api/staff/password').send({
          ...body,
          kdf: { params: weaker, salt: toBase64url(salt) },
          authKey: toBase64url(fresh.authKey),
          wrappedKeys: wrapPrivateKeys(keys, fresh.wrapKey),
        }),
        400,
        'not_current_kdf',
        'current staff parameters',
      ),
    );
    // So the account's /login/params answer stays that of any username.
    expect((await request(t.app).post('/api/staff/login/params').send({ username: member.username })).body.kdf.params).toEqual(STAFF_KDF);
  });

  test('the server swaps the credentials at once; the old password stops working, the new one opens the same keys, other sessions end', async () => {
    const other = await signIn(t, member);
    const newPassword = 'a brand new passphrase for pw.changer';
    const body = await rewrap(member.password, newPassword);
    oldAuthKey = body.currentAuthKey;
    const res = await member.agent.post('/api/staff/password').send(body);
    expect(res.status).toBe(200);
    expect(res.body.wrappedKeys).toBe(body.wrappedKeys);
    expect(res.body.totpEnrolled).toBe(true);
    // This session goes on; the other one ended.
    expect((await member.agent.get('/api/staff/me')).status).toBe(200);
    expectError(await other.get('/api/staff/me'), 401, 'unauthorized');
    expect(await t.db('login_failures').select()).toEqual([]);
    // Old password: refused. New password: the same private keys.
    expectError(
      await request(t.app)
        .post('/api/staff/login')
        .send((await loginBody(t, member)).body),
      401,
      'unauthorized',
      'wrong username, password or code',
    );
    const oldPassword = member.password;
    member.password = newPassword;
    const login = await loginBody(t, member);
    const signedIn = await request(t.app).post('/api/staff/login').send(login.body);
    expect(signedIn.status).toBe(200);
    const keys = unwrapPrivateKeys(signedIn.body.wrappedKeys, login.wrapKey);
    expect(keys.boxSecretKey).toEqual(member.box.secretKey);
    expect(keys.signSecretKey).toEqual(member.sign.secretKey);
    const stale = await staffSecrets(oldPassword, fromBase64url(body.kdf.salt), STAFF_KDF);
    expect(() => unwrapPrivateKeys(signedIn.body.wrappedKeys, stale.wrapKey)).toThrow(); // the old password does not open the new wrapping
    expect((await auditLog(t, admin.agent)).find((e) => e.action === 'staff.password_changed')).toMatchObject({
      actorId: member.staffId,
      detail: { sessionsEnded: 1 },
    });
  });

  test("a replayed change (the old password's authKey as the current one) is refused", async () => {
    const next = await rewrap(member.password, 'yet another long password');
    const before = await t.db('staff').where({ id: member.staffId }).first();
    expectError(await member.agent.post('/api/staff/password').send({ ...next, currentAuthKey: oldAuthKey }), 403, 'wrong_password');
    expect(await t.db('staff').where({ id: member.staffId }).first()).toEqual(before);
  });

  test('a sign-in whose password a concurrent change replaces gets no session: 401, only the changing session is left', async () => {
    const login = await loginBody(t, member); // the current password, and a valid code
    const next = 'the passphrase that replaces it meanwhile';
    const change = await rewrap(member.password, next);
    let changed: request.Response | undefined;
    // The sign-in has read the member's record (the hash of the password it carries) when the
    // change commits; argon2 then verifies the old password against that hash.
    const read = interleave(t.ctx.repos.staff, 'byUsername', async () => {
      changed = await member.agent.post('/api/staff/password').send(change);
    });
    const signedIn = await request(t.app).post('/api/staff/login').send(login.body);
    expect(read).toHaveBeenCalled();
    expect(changed?.status).toBe(200);
    member.password = next;
    expectError(signedIn, 401, 'unauthorized', 'wrong username, password or code');
    expect(signedIn.headers['set-cookie']).toBeUndefined();
    expect(await t.db('staff_sessions').where({ staff_id: member.staffId })).toHaveLength(1);
    expect((await member.agent.get('/api/staff/me')).status).toBe(200);
  });
});

describe('re-keying a record made with older KDF parameters', () => {
  /** the staff default before issue 11: records made then keep it until re-keyed */
  const OLD_KDF: Argon2Params = { alg: 'argon2id', m: 64 * 1024, t: 3, p: 1 };
  let t: TestServer;
  let admin: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
  });
  afterAll(() => t.close());

  const stored = async (who: StaffActor) => {
    const row = await t.db('staff').where({ id: who.staffId }).first();
    return {
      params: JSON.parse(row.kdf_params) as Argon2Params,
      salt: row.kdf_salt as string,
      authHash: row.auth_hash as string,
      wrappedKeys: row.wrapped_keys as string,
    };
  };

  /** What the browser does (client/lib/staff.ts staffLogin): sign in with the stored parameters, then re-wrap the same keys under STAFF_KDF and a new salt. */
  async function signInAndRewrap(who: StaffActor) {
    const agent = request.agent(t.app);
    const login = await loginBody(t, who);
    const res = await agent.post('/api/staff/login').send(login.body);
    expect(res.status).toBe(200);
    const keys = unwrapPrivateKeys(res.body.wrappedKeys, login.wrapKey);
    const salt = nacl.randomBytes(16);
    const fresh = await staffSecrets(who.password, salt, STAFF_KDF);
    const body = {
      currentAuthKey: login.body.authKey,
      kdf: { params: STAFF_KDF, salt: toBase64url(salt) },
      authKey: toBase64url(fresh.authKey),
      wrappedKeys: wrapPrivateKeys(keys, fresh.wrapKey),
    };
    return { agent, body };
  }

  test('an old record is re-keyed: new params and salt, the same password opens the same keys, other sessions stay, audited', async () => {
    const member = await addStaff(t, admin, 'old.member', 'moderator', OLD_KDF);
    const before = await stored(member);
    expect(before.params).toEqual(OLD_KDF);
    // Until re-keyed, the parameters tell this account from an unknown username (the leak this closes).
    const unknown = await request(t.app).post('/api/staff/login/params').send({ username: 'nobody.here' });
    expect(unknown.body.kdf.params).toEqual(STAFF_KDF);
    expect((await request(t.app).post('/api/staff/login/params').send({ username: member.username })).body.kdf.params).toEqual(OLD_KDF);

    const other = await signIn(t, member);
    const { agent, body } = await signInAndRewrap(member);
    const res = await agent.post('/api/staff/kdf').send(body);
    expect(res.status).toBe(200);
    expect(res.body.wrappedKeys).toBe(body.wrappedKeys);
    expect(res.body.totpEnrolled).toBe(true);

    const after = await stored(member);
    expect(after.params).toEqual(STAFF_KDF);
    expect(after.salt).toBe(body.kdf.salt);
    expect(after.salt).not.toBe(before.salt);
    expect(after.authHash).not.toBe(before.authHash);
    const params = await request(t.app).post('/api/staff/login/params').send({ username: member.username });
    expect(params.body.kdf).toEqual({ params: STAFF_KDF, salt: body.kdf.salt });

    // The same password signs in with the new parameters and opens the same private keys.
    const login = await loginBody(t, member);
    const signedIn = await request(t.app).post('/api/staff/login').send(login.body);
    expect(signedIn.status).toBe(200);
    const keys = unwrapPrivateKeys(signedIn.body.wrappedKeys, login.wrapKey);
    expect(keys.boxSecretKey).toEqual(member.box.secretKey);
    expect(keys.signSecretKey).toEqual(member.sign.secretKey);
    // The old derivation no longer signs in.
    const oldSecrets = await staffSecrets(member.password, fromBase64url(before.salt), OLD_KDF);
    expect(login.body.authKey).not.toBe(toBase64url(oldSecrets.authKey));
    expectError(
      await request(t.app)
        .post('/api/staff/login')
        .send({ ...(await loginBody(t, member)).body, authKey: toBase64url(oldSecrets.authKey) }),
      401,
      'unauthorized',
    );

    // The password did not change, so the member's other sessions go on.
    expect((await other.get('/api/staff/me')).status).toBe(200);
    expect((await agent.get('/api/staff/me')).status).toBe(200);
    const log = await auditLog(t, admin.agent);
    expect(log.filter((e) => e.action === 'staff.kdf_upgraded')).toEqual([
      expect.objectContaining({
        actorId: member.staffId,
        subject: member.staffId,
        detail: { fromMemoryKiB: 64 * 1024, fromIterations: 3, toMemoryKiB: STAFF_KDF.m, toIterations: STAFF_KDF.t },
      }),
    ]);
    expect(log.map((e) => e.action)).not.toContain('staff.password_changed');
    expect(verifyAuditChain(log, t.ctx.instanceId).ok).toBe(true);

    // Once current, a second upgrade is a 409 and writes nothing.
    const again = await signInAndRewrap(member);
    await unchanged(t, async () => expectError(await again.agent.post('/api/staff/kdf').send(again.body), 409, 'kdf_current', 'current'));
  });

  test('refuses other parameters, weak ones and a wrong current authKey, and writes no new credentials', async () => {
    const member = await addStaff(t, admin, 'old.refused', 'moderator', OLD_KDF);
    const before = await stored(member);
    const { agent, body } = await signInAndRewrap(member);
    await unchanged(t, async () => {
      // Still valid parameters, but not the current ones: an "upgrade" only ever goes to STAFF_KDF.
      expectError(
        await agent.post('/api/staff/kdf').send({ ...body, kdf: { ...body.kdf, params: OLD_KDF } }),
        400,
        'not_current_kdf',
        'kdf.params',
        'current',
      );
      // Below OWASP's argon2id minimum (19 MiB, t = 2): the schema refuses them, as for a password change.
      expectError(
        await agent.post('/api/staff/kdf').send({ ...body, kdf: { ...body.kdf, params: { ...STAFF_KDF, m: 16 * 1024 } } }),
        400,
        'invalid_request',
        'kdf.params.m',
      );
      expectError(
        await agent.post('/api/staff/kdf').send({ ...body, kdf: { ...body.kdf, params: { ...STAFF_KDF, t: 1 } } }),
        400,
        'invalid_request',
        'kdf.params.t',
      );
      expectError(
        await agent.post('/api/staff/kdf').send({ ...body, authKey: body.currentAuthKey }),
        400,
        'invalid_request',
        'authKey',
        'must differ',
      );
      expectError(
        await agent.post('/api/staff/kdf').send({ ...body, password: MARKER }),
        400,
        'invalid_request',
        'unknown field',
        'password',
      );
      expectError(await request(t.app).post('/api/staff/kdf').send(body), 401, 'unauthorized');
    });
    // A wrong current authKey is counted like a failed sign-in; the credentials stay.
    expectError(
      await agent.post('/api/staff/kdf').send({ ...body, currentAuthKey: toBase64url(nacl.randomBytes(32)) }),
      403,
      'wrong_password',
    );
    expect(await stored(member)).toEqual(before);
    expect((await auditLog(t, admin.agent)).pop()).toMatchObject({
      action: 'staff.kdf_upgrade_failed',
      actorId: member.staffId,
      detail: { reason: 'password' },
    });
    // The next sign-in tries again and succeeds.
    expect((await agent.post('/api/staff/kdf').send(body)).status).toBe(200);
    expect((await stored(member)).params).toEqual(STAFF_KDF);
  });

  test('a member who signs in before setting up TOTP is re-keyed too, and the session stays limited to the enrolment', async () => {
    const member = await invitedButNotEnrolled(t, admin, 'old.no.totp', OLD_KDF);
    const agent = request.agent(t.app);
    const login = await loginBody(t, { username: 'old.no.totp', password: member.password, totpSecret: new Uint8Array(20) }, {});
    const signedIn = await agent.post('/api/staff/login').send(login.body);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.totpEnrolled).toBe(false);
    const keys = unwrapPrivateKeys(signedIn.body.wrappedKeys, login.wrapKey);
    const salt = nacl.randomBytes(16);
    const fresh = await staffSecrets(member.password, salt, STAFF_KDF);
    const res = await agent.post('/api/staff/kdf').send({
      currentAuthKey: login.body.authKey,
      kdf: { params: STAFF_KDF, salt: toBase64url(salt) },
      authKey: toBase64url(fresh.authKey),
      wrappedKeys: wrapPrivateKeys(keys, fresh.wrapKey),
    });
    expect(res.status).toBe(200);
    // The page takes this answer as the session's: it must still send the member to the enrolment.
    expect(res.body.totpEnrolled).toBe(false);
    expect(JSON.parse((await t.db('staff').where({ id: member.id }).first()).kdf_params)).toEqual(STAFF_KDF);
    expectError(await agent.get('/api/staff/members'), 403, 'totp_enrolment_required');
  });
});

describe('audit log', () => {
  let t: TestServer;
  let admin: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    await addStaff(t, admin, 'mod.audit');
  });
  afterAll(() => t.close());

  test('records the staff actions, chained from the instance genesis', async () => {
    const log = await auditLog(t, admin.agent);
    expect(verifyAuditChain(log, t.ctx.instanceId)).toEqual({
      ok: true,
      count: log.length,
      head: { seq: log.length, hash: log[log.length - 1].hash },
    });
    const modId = log.find((e) => e.action === 'staff.enrolled')!.subject;
    expect(log.map((e) => e.action)).toEqual([
      'keyset.published',
      'staff.totp_enrolled',
      'invite.created',
      'staff.enrolled',
      'staff.totp_enrolled',
      'keyset.published',
    ]);
    expect(log[0]).toMatchObject({ seq: 1, actorId: admin.staffId, detail: { version: 1, added: [admin.staffId], removed: [] } });
    expect(log[2]).toMatchObject({ actorId: admin.staffId, detail: { roles: ['moderator'], expiresAt: expect.any(Number) } });
    expect(log[3]).toMatchObject({ actorId: modId, subject: modId, detail: { username: 'mod.audit', roles: ['moderator'] } });
    expect(log[5]).toMatchObject({ actorId: admin.staffId, detail: { version: 2, added: [modId], removed: [] } });
    for (const e of log) expect(Math.abs(e.at - t.clock.now())).toBeLessThan(600_000);
    // No invite token in the log (it would be a usable invite).
    const tokens = (await t.db('staff_invites').select('token_hash')).map((r: { token_hash: string }) => r.token_hash);
    expect(JSON.stringify(log)).not.toContain(tokens[0]);
  });

  test('grows append-only: later reads start with exactly the entries of earlier reads', async () => {
    const before = await auditLog(t, admin.agent);
    await admin.agent.post('/api/staff/invites').send({ roles: ['advocate'] });
    await signIn(t, admin);
    await request(t.app)
      .post('/api/staff/login')
      .send({ username: 'admin', authKey: toBase64url(nacl.randomBytes(32)) });
    const after = await auditLog(t, admin.agent);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((e) => e.action)).toEqual(['invite.created', 'staff.login', 'staff.login_failed']);
    expect(verifyAuditChain(after, t.ctx.instanceId).ok).toBe(true);
    expect(auditLogKeeps(after, { seq: before.length, hash: before[before.length - 1].hash })).toBe(true);
  });

  test('pages by position, oldest first, with the newest position and hash', async () => {
    const all = await auditLog(t, admin.agent);
    const page1 = await admin.agent.get('/api/staff/audit?after=0&limit=2');
    const page2 = await admin.agent.get('/api/staff/audit?after=2&limit=2');
    expect(page1.body.entries.map((e: AuditRecord) => e.seq)).toEqual([1, 2]);
    expect(page2.body.entries.map((e: AuditRecord) => e.seq)).toEqual([3, 4]);
    expect(page2.body.latest).toEqual({ seq: all.length, hash: all[all.length - 1].hash });
    expect((await admin.agent.get(`/api/staff/audit?after=${all.length}`)).body.entries).toEqual([]);
  });

  test('holds nothing about survivors, not even when cases exist', async () => {
    const survivor = await registerSurvivor(t);
    expect((await submitTestimony(t, survivor, 'audit privacy')).res.status).toBe(201);
    const survivorRow = await t.db('survivors').first();
    const cells = JSON.stringify(await t.db('audit_log').select());
    for (const v of [survivor.handle, survivorRow.id, survivorRow.sign_pk, survivorRow.box_pk]) expect(cells).not.toContain(v);
  });

  describe("tampering in the database is caught by the verification the admin's browser runs", () => {
    let rows: Record<string, unknown>[];
    let checkpoint: { seq: number; hash: string };
    beforeAll(async () => {
      // What the admin's browser remembers after a verified load.
      const log = await auditLog(t, admin.agent);
      checkpoint = verifyAuditChain(log, t.ctx.instanceId).ok ? { seq: log.length, hash: log[log.length - 1].hash } : { seq: 0, hash: '' };
      rows = await t.db('audit_log').orderBy('seq').select();
    });
    afterEach(async () => {
      await t.db('audit_log').delete();
      await t.db('audit_log').insert(rows);
      expect(verifyAuditChain(await auditLog(t, admin.agent), t.ctx.instanceId).ok).toBe(true);
    });

    const served = async () => verifyAuditChain(await auditLog(t, admin.agent), t.ctx.instanceId);

    test('an altered entry', async () => {
      await t
        .db('audit_log')
        .where({ seq: 3 })
        .update({ detail: JSON.stringify({ roles: ['admin'], expiresAt: 1 }) });
      expect(await served()).toEqual({ ok: false, seq: 3, reason: 'entry #3 was changed after it was written' });
    });

    test('another actor or time', async () => {
      await t
        .db('audit_log')
        .where({ seq: 2 })
        .update({ at: Number(rows[1].at) + 1 });
      expect(await served()).toMatchObject({ ok: false, seq: 2 });
      await t.db('audit_log').where({ seq: 2 }).update({ at: rows[1].at, actor_id: null });
      expect(await served()).toMatchObject({ ok: false, seq: 2 });
    });

    test('a deleted entry in the middle', async () => {
      await t.db('audit_log').where({ seq: 4 }).delete();
      expect(await served()).toEqual({ ok: false, seq: 4, reason: 'entry #4 is missing or out of order (found #5 in its place)' });
    });

    test('a deleted entry renumbered to hide the gap', async () => {
      await t.db('audit_log').where({ seq: 4 }).delete();
      for (let s = 5; s <= rows.length; s++)
        await t
          .db('audit_log')
          .where({ seq: s })
          .update({ seq: s - 1 });
      expect(await served()).toMatchObject({ ok: false, seq: 4 });
    });

    test('two entries swapped', async () => {
      const [a, b] = [rows[2], rows[3]];
      await t.db('audit_log').where({ seq: 3 }).delete();
      await t.db('audit_log').where({ seq: 4 }).delete();
      await t.db('audit_log').insert([
        { ...b, seq: 3 },
        { ...a, seq: 4 },
      ]);
      expect(await served()).toMatchObject({ ok: false, seq: 3 });
    });

    test("the newest entries deleted: the chain still links, the browser's checkpoint is gone", async () => {
      await t
        .db('audit_log')
        .where('seq', '>=', checkpoint.seq - 1)
        .delete();
      const log = await auditLog(t, admin.agent);
      expect(verifyAuditChain(log, t.ctx.instanceId).ok).toBe(true);
      expect(auditLogKeeps(log, checkpoint)).toBe(false);
    });

    test('history rewritten with every hash recomputed: the checkpoint catches it', async () => {
      // Someone with the database drops entry #3 and recomputes the whole chain after it.
      const kept = rows.filter((r) => r.seq !== 3);
      await t.db('audit_log').delete();
      let prev: { seq: number; hash: string } | null = null;
      for (const r of kept) {
        const rec: AuditRecord = chainAuditEntry(t.ctx.instanceId, prev, {
          at: Number(r.at),
          actorId: r.actor_id as string | null,
          action: r.action as string,
          subject: r.subject as string | null,
          detail: r.detail ? JSON.parse(r.detail as string) : null,
        });
        await t.db('audit_log').insert({
          seq: rec.seq,
          at: rec.at,
          actor_id: rec.actorId,
          action: rec.action,
          subject: rec.subject,
          detail: rec.detail ? JSON.stringify(rec.detail) : null,
          prev_hash: rec.prevHash,
          hash: rec.hash,
        });
        prev = rec;
      }
      const log = await auditLog(t, admin.agent);
      expect(verifyAuditChain(log, t.ctx.instanceId).ok).toBe(true);
      expect(auditLogKeeps(log, checkpoint)).toBe(false);
    });

    test("a log of another instance does not pass as this one's", async () => {
      expect(verifyAuditChain(await auditLog(t, admin.agent), 'AAAAAAAAAAAAAAAAAAAAAA')).toMatchObject({ ok: false, seq: 1 });
    });
  });

  test("record(trx, …) appends in the caller's transaction: rolled back with it, and a malformed entry throws and writes nothing", async () => {
    const before = await t.db('audit_log').count({ n: '*' });
    await expect(
      t.db.transaction(async (trx) => {
        await t.ctx.repos.audit.record(trx, {
          actorId: admin.staffId,
          action: 'case.status_changed',
          subject: admin.staffId,
          detail: { status: 'closed' },
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await t.db('audit_log').count({ n: '*' })).toEqual(before);
    const malformed: AuditInput[] = [
      { actorId: admin.staffId, action: 'Not An Action' },
      { actorId: admin.staffId, action: 'case.noted', detail: { ratio: 0.5 } },
      { actorId: admin.staffId, action: 'case.noted', detail: { text: 'x'.repeat(201) } },
      { actorId: admin.staffId, action: 'case.noted', detail: { nested: { a: 1 } } as never },
      { actorId: admin.staffId, action: 'case.noted', subject: 'S-7KQ2-M9XD' },
      { actorId: 'not-an-id', action: 'case.noted' },
    ];
    for (const bad of malformed) {
      await expect(t.ctx.repos.audit.record(t.db, bad)).rejects.toThrow();
    }
    expect(await t.db('audit_log').count({ n: '*' })).toEqual(before);
    const ok = await t.ctx.repos.audit.record(t.db, {
      actorId: null,
      action: 'case.granted',
      subject: admin.staffId,
      detail: { count: 3, kinds: ['message', 'note'] },
    });
    expect(ok.seq).toBe(Number(before[0].n) + 1);
    expect(verifyAuditChain(await auditLog(t, admin.agent), t.ctx.instanceId).ok).toBe(true);
  });
});

describe('the "sign-in started" ticket: a code is judged by when sign-in began, too', () => {
  let t: TestServer;
  let admin: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
  });
  afterAll(() => t.close());

  const FAILED = 'wrong username, password or code';
  const login = (body: object) => request(t.app).post('/api/staff/login').send(body);
  /** What the page does: /login/params (with its ticket), the code shown right then, then the key derivation. */
  async function begin(who: StaffActor): Promise<{ body: Record<string, string>; ticket: string; step: number }> {
    t.clock.advance(30_000); // a step of its own, unused yet
    const { body, ticket } = await loginBody(t, who);
    return { body, ticket, step: who.lastStep! };
  }
  const lastStep = async (who: StaffActor) => Number((await t.db('staff').where({ id: who.staffId }).first()).totp_last_step);
  const failureReasons = async (who: StaffActor) =>
    (await auditLog(t, admin.agent))
      .filter((e) => e.action === 'staff.login_failed' && e.actorId === who.staffId)
      .map((e) => e.detail!.reason);

  test('a code read at the start is accepted 90 s later with the ticket, refused without it, and then spent', async () => {
    const mod = await addStaff(t, admin, 'slow.laptop');
    const { body, ticket, step } = await begin(mod);
    t.clock.advance(90_000); // a slow key derivation
    expect(totpStep(t.clock.now()) - step).toBeGreaterThan(1); // outside the window of now
    expectError(await login(body), 401, 'unauthorized', FAILED);
    // A malformed ticket is refused before anything is checked: nothing is spent or counted.
    await unchanged(t, async () =>
      expectError(await login({ ...body, ticket: ticket.slice(0, -2) }), 400, 'invalid_request', 'ticket', '40 bytes'),
    );
    const res = await login({ ...body, ticket });
    expect(res.status).toBe(200);
    expect(res.body.username).toBe('slow.laptop');
    expect(await lastStep(mod)).toBe(step);
    // Spent like any code: a replay fails, with the ticket or without.
    expectError(await login({ ...body, ticket }), 401, 'unauthorized', FAILED);
    expect(await failureReasons(mod)).toEqual(['totp', 'totp_replayed']);
  });

  test('a code older than the last one used stays refused, even with a ticket from before that', async () => {
    const mod = await addStaff(t, admin, 'two.devices');
    const early = await begin(mod); // one device starts signing in
    t.clock.advance(60_000);
    const later = await begin(mod); // another starts later and finishes first
    expect(later.step).toBeGreaterThan(early.step + 1);
    expect((await login({ ...later.body, ticket: later.ticket })).status).toBe(200);
    expectError(await login({ ...early.body, ticket: early.ticket }), 401, 'unauthorized', FAILED);
    expect(await lastStep(mod)).toBe(later.step);
    expect(await failureReasons(mod)).toEqual(['totp_replayed']);
  });

  test("another username's ticket, a tampered one and an expired one count as none: the code is judged by now", async () => {
    const mod = await addStaff(t, admin, 'judged.now');
    const bytes = (ticket: string) => Buffer.from(fromBase64url(ticket));

    // Another username's ticket, of the same moment (an unknown username gets one too, of the same shape).
    let start = await begin(mod);
    const other = await request(t.app).post('/api/staff/login/params').send({ username: 'nobody.here' });
    expect(other.body.ticket).toMatch(/^[A-Za-z0-9_-]{54}$/);
    t.clock.advance(90_000);
    expectError(await login({ ...start.body, ticket: other.body.ticket }), 401, 'unauthorized', FAILED);
    expectError(
      await login({ username: 'nobody.here', authKey: start.body.authKey, totp: start.body.totp, ticket: other.body.ticket }),
      401,
      'unauthorized',
      FAILED,
    );

    // A later ticket with the start time rewritten to when the code was read; the right ticket with one bit of its MAC changed.
    start = await begin(mod);
    t.clock.advance(90_000);
    const fresh = await request(t.app).post('/api/staff/login/params').send({ username: 'judged.now' });
    const backdated = bytes(fresh.body.ticket);
    bytes(start.ticket).copy(backdated, 0, 0, 8);
    const flipped = bytes(start.ticket);
    flipped[39] ^= 1;
    for (const tampered of [backdated, flipped])
      expectError(await login({ ...start.body, ticket: toBase64url(tampered) }), 401, 'unauthorized', FAILED);
    // With a code of now, the tampered ticket is no obstacle: it is simply ignored.
    const now = totpStep(t.clock.now());
    expect((await login({ ...start.body, totp: hotp(mod.totpSecret, now), ticket: toBase64url(flipped) })).status).toBe(200);
    mod.lastStep = now;

    // Expired: refused once the ticket is 5 minutes old, accepted just before.
    start = await begin(mod);
    t.clock.advance(SIGN_IN_TICKET_LIFETIME_MS);
    expectError(await login({ ...start.body, ticket: start.ticket }), 401, 'unauthorized', FAILED);
    start = await begin(mod);
    t.clock.advance(SIGN_IN_TICKET_LIFETIME_MS - 30_000);
    expect((await login({ ...start.body, ticket: start.ticket })).status).toBe(200);
    expect(await lastStep(mod)).toBe(start.step);
    expect(await failureReasons(mod)).toEqual(['totp', 'totp', 'totp', 'totp']);
  });
});

describe('bad input on the new routes: 4xx {error: {code, message}}, nothing written', () => {
  let t: TestServer;
  let admin: StaffActor;
  let enrolling: Agent;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
    enrolling = (await invitedButNotEnrolled(t, admin, 'enrolling')).agent;
    await enrolling.post('/api/staff/totp/setup').send({});
  });
  afterAll(() => t.close());

  const b64 = (n: number) => toBase64url(nacl.randomBytes(n));
  const OVERSIZED = `{"x":"${MARKER}${'a'.repeat(300 * 1024)}"}`;
  const passwordBody = () => ({
    currentAuthKey: b64(32),
    kdf: { params: STAFF_KDF, salt: b64(16) },
    authKey: b64(32),
    wrappedKeys: b64(200),
  });
  const loginValid = () => ({ username: 'admin', authKey: b64(32), totp: '123456' });

  type Route = { name: string; open: () => request.Test; cases: [string, unknown, number, string, ...string[]][] };
  const routes: Route[] = [
    {
      name: 'POST /api/staff/login',
      open: () => request(t.app).post('/api/staff/login'),
      cases: [
        ['a 5-digit code', { ...loginValid(), totp: '12345' }, 400, 'invalid_request', 'totp', '6 digits'],
        ['a code with letters', { ...loginValid(), totp: `${MARKER}` }, 400, 'invalid_request', 'totp'],
        ['a number for the code', { ...loginValid(), totp: 123456 }, 400, 'invalid_request', 'totp', 'expected string'],
        [
          'both a code and a recovery code',
          { ...loginValid(), recoveryCode: 'AAAAA-AAAAA-AAAAA-AAAAA' },
          400,
          'invalid_request',
          'recoveryCode',
          'not both',
        ],
        [
          'a recovery code too short',
          { username: 'admin', authKey: b64(32), recoveryCode: 'ABCDE-FGH' },
          400,
          'invalid_request',
          'recoveryCode',
          '20 letters',
        ],
        [
          'a recovery code with other characters',
          { username: 'admin', authKey: b64(32), recoveryCode: `<${MARKER}>` },
          400,
          'invalid_request',
          'recoveryCode',
        ],
        [
          'a recovery code too long',
          { username: 'admin', authKey: b64(32), recoveryCode: 'A'.repeat(41) },
          400,
          'invalid_request',
          'recoveryCode',
        ],
        ['an unknown field', { ...loginValid(), extraField: MARKER }, 400, 'invalid_request', 'unknown field', 'extraField'],
        ['a ticket of the wrong length', { ...loginValid(), ticket: b64(39) }, 400, 'invalid_request', 'ticket', '40 bytes'],
        [
          'a ticket that is not base64url',
          { ...loginValid(), ticket: `${MARKER}.${b64(30)}` },
          400,
          'invalid_request',
          'ticket',
          'base64url',
        ],
        ['a number for the ticket', { ...loginValid(), ticket: 1234567890 }, 400, 'invalid_request', 'ticket', 'expected string'],
        ['an empty ticket', { ...loginValid(), ticket: '' }, 400, 'invalid_request', 'ticket'],
      ],
    },
    {
      name: 'POST /api/staff/totp/setup',
      open: () => enrolling.post('/api/staff/totp/setup'),
      cases: [['a non-empty body', { secret: MARKER }, 400, 'invalid_request', 'unknown field', 'secret']],
    },
    {
      name: 'POST /api/staff/totp/confirm',
      open: () => enrolling.post('/api/staff/totp/confirm'),
      cases: [
        ['no code', {}, 400, 'invalid_request', 'code'],
        ['7 digits', { code: '1234567' }, 400, 'invalid_request', 'code', '6 digits'],
        ['a number', { code: 123456 }, 400, 'invalid_request', 'code', 'expected string'],
        ['an unknown field', { code: '123456', extraField: MARKER }, 400, 'invalid_request', 'unknown field'],
      ],
    },
    {
      name: 'POST /api/staff/logout/everywhere',
      open: () => admin.agent.post('/api/staff/logout/everywhere'),
      cases: [['a non-empty body', { all: true }, 400, 'invalid_request', 'unknown field', 'all']],
    },
    {
      name: 'POST /api/staff/password',
      open: () => admin.agent.post('/api/staff/password'),
      cases: [
        ['no currentAuthKey', (({ currentAuthKey: _c, ...r }) => r)(passwordBody()), 400, 'invalid_request', 'currentAuthKey'],
        ['an authKey of 31 bytes', { ...passwordBody(), authKey: b64(31) }, 400, 'invalid_request', 'authKey', '32 bytes'],
        [
          'the same authKey as before',
          (() => {
            const b = passwordBody();
            return { ...b, authKey: b.currentAuthKey };
          })(),
          400,
          'invalid_request',
          'authKey',
          'must differ',
        ],
        [
          'a weak KDF',
          { ...passwordBody(), kdf: { params: { ...STAFF_KDF, m: 1024 }, salt: b64(16) } },
          400,
          'invalid_request',
          'kdf.params.m',
        ],
        [
          'another KDF',
          { ...passwordBody(), kdf: { params: { ...STAFF_KDF, alg: MARKER }, salt: b64(16) } },
          400,
          'invalid_request',
          'kdf.params.alg',
        ],
        [
          'wrapped keys over the limit',
          { ...passwordBody(), wrappedKeys: MARKER + 'A'.repeat(2000) },
          400,
          'invalid_request',
          'wrappedKeys',
        ],
        ['padded base64', { ...passwordBody(), currentAuthKey: b64(32) + '=' }, 400, 'invalid_request', 'currentAuthKey', 'base64url'],
        ['an unknown field', { ...passwordBody(), password: MARKER }, 400, 'invalid_request', 'unknown field', 'password'],
      ],
    },
    {
      name: 'POST /api/staff/settings',
      open: () => admin.agent.post('/api/staff/settings'),
      cases: [
        [
          'an idle timeout under 5 minutes',
          { sessionIdleMinutes: 4, sessionAbsoluteHours: 12 },
          400,
          'invalid_request',
          'sessionIdleMinutes',
        ],
        [
          'an idle timeout over a day',
          { sessionIdleMinutes: 1441, sessionAbsoluteHours: 168 },
          400,
          'invalid_request',
          'sessionIdleMinutes',
        ],
        ['an absolute timeout of 0', { sessionIdleMinutes: 30, sessionAbsoluteHours: 0 }, 400, 'invalid_request', 'sessionAbsoluteHours'],
        [
          'an absolute timeout over a week',
          { sessionIdleMinutes: 30, sessionAbsoluteHours: 169 },
          400,
          'invalid_request',
          'sessionAbsoluteHours',
        ],
        [
          'an idle timeout longer than the absolute one',
          { sessionIdleMinutes: 600, sessionAbsoluteHours: 8 },
          400,
          'invalid_request',
          'sessionIdleMinutes',
          'absolute',
        ],
        ['a fractional value', { sessionIdleMinutes: 30.5, sessionAbsoluteHours: 12 }, 400, 'invalid_request', 'sessionIdleMinutes'],
        [
          'a string',
          { sessionIdleMinutes: '30', sessionAbsoluteHours: 12 },
          400,
          'invalid_request',
          'sessionIdleMinutes',
          'expected number',
        ],
        ['a missing field', { sessionIdleMinutes: 30 }, 400, 'invalid_request', 'sessionAbsoluteHours'],
        [
          'an unknown field',
          { sessionIdleMinutes: 30, sessionAbsoluteHours: 12, extraField: MARKER },
          400,
          'invalid_request',
          'unknown field',
        ],
      ],
    },
  ];

  describe.each(routes.map((r) => [r.name, r] as const))('%s', (_name, route) => {
    test.each(route.cases.map((c) => [c[0], c] as const))('rejects %s', async (_label, [, body, status, code, ...mentions]) => {
      await unchanged(t, async () => expectError(await route.open().send(body as object), status, code, ...mentions));
    });
    test('rejects malformed JSON, a form post, another charset and an oversized body', async () => {
      await unchanged(t, async () => {
        expectError(await route.open().set('Content-Type', 'application/json').send(`{"x": "${MARKER}",`), 400, 'malformed_json');
        expectError(await route.open().type('form').send({ x: MARKER }), 415, 'unsupported_media_type');
        expectError(
          await route
            .open()
            .set('Content-Type', 'application/json; charset=iso-8859-1')
            .send(JSON.stringify({ x: MARKER })),
          415,
          'unsupported_encoding',
        );
        expectError(await route.open().set('Content-Type', 'application/json').send(OVERSIZED), 413, 'body_too_large');
      });
    });
  });

  test.each([
    ['a negative position', `after=-1`, ['after']],
    ['a position that is not a number', `after=${MARKER}`, ['after:', 'whole number']],
    ['a limit of 0', 'limit=0', ['limit']],
    ['a limit over 500', 'limit=501', ['limit']],
    ['a fractional limit', 'limit=2.5', ['limit']],
    ['a parameter given twice', 'after=1&after=2', ['after']],
    ['an unknown parameter', `extraField=${MARKER}`, ['query has unknown field', 'extraField']],
  ])('GET /api/staff/audit rejects %s', async (_label, query, mentions) => {
    await unchanged(t, async () => expectError(await admin.agent.get(`/api/staff/audit?${query}`), 400, 'invalid_request', ...mentions));
  });

  test.each(['/api/staff/settings', '/api/staff/activity', '/api/staff/audit'])(
    'GET %s rejects a malformed and an oversized JSON body, and writes nothing',
    async (path) => {
      await unchanged(t, async () => {
        expectError(await admin.agent.get(path).set('Content-Type', 'application/json').send(`{"x": "${MARKER}"`), 400, 'malformed_json');
        expectError(await admin.agent.get(path).set('Content-Type', 'application/json').send(OVERSIZED), 413, 'body_too_large');
      });
      expect((await admin.agent.get(path)).status).toBe(200);
    },
  );

  test('the enrolment routes are for a member who has not enrolled; the rest need a session', async () => {
    await unchanged(t, async () => {
      expectError(await admin.agent.post('/api/staff/totp/confirm').send({ code: '123456' }), 409, 'totp_already_enrolled');
      for (const [method, path] of [
        ['post', '/api/staff/totp/setup'],
        ['post', '/api/staff/totp/confirm'],
        ['post', '/api/staff/logout/everywhere'],
        ['post', '/api/staff/password'],
        ['post', '/api/staff/kdf'],
        ['get', '/api/staff/settings'],
        ['post', '/api/staff/settings'],
        ['get', '/api/staff/activity'],
        ['get', '/api/staff/audit'],
      ] as const) {
        const res = method === 'get' ? await request(t.app).get(path) : await request(t.app).post(path).send({});
        expectError(res, 401, 'unauthorized');
      }
    });
  });

  test('a confirm before any QR code was made is 409, and nothing is written', async () => {
    const other = (await invitedButNotEnrolled(t, admin, 'no.qr.yet')).agent;
    await unchanged(t, async () =>
      expectError(await other.post('/api/staff/totp/confirm').send({ code: '123456' }), 409, 'totp_not_started'),
    );
  });

  test('after all those refusals, the admin session is intact and the log still verifies', async () => {
    expect((await admin.agent.get('/api/staff/me')).status).toBe(200);
    const log = await auditLog(t, admin.agent);
    expect(verifyAuditChain(log, t.ctx.instanceId).ok).toBe(true);
    expect(log.map((e) => e.action)).not.toContain('staff.password_changed');
    expect(log.map((e) => e.action)).not.toContain('settings.changed');
    expect(log.map((e) => e.action)).not.toContain('staff.logout_everywhere');
  });
});
