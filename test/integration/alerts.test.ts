/**
 * Staff alerts without content (issue 15; SECURITY.md "Staff alerts"), against a real SMTP
 * server started here (smtp-server on 127.0.0.1, a random port) that offers STARTTLS with a
 * certificate made for this test and requires AUTH. What arrives is read as the mailbox would
 * hold it and checked to name no handle, case id, survivor id or testimony text; immediate
 * alerts wait out their pause and coalesce, digests go out once a day at their hour, a failing
 * server is tried again, a survivor's submission never depends on the queue, and with no SMTP
 * server the feature is off and says so.
 */
import request from 'supertest';
import { envelopeHash, readersOf, sealEnvelope } from '../../protocol';
import { foundInDatabase } from '../support/database-files';
import { ConfigError, loadConfig } from '../../server/config';
import { smtpSender, startMailer } from '../../server/mailer';
import { deliverAlerts } from '../../server/services/alerts';
import {
  addStaff,
  asSurvivor,
  currentKeyset,
  keysetWithout,
  removedMidRequest,
  logInSurvivor,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  signIn,
  submitTestimony,
  unchanged,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { SMTP_USER, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../support/smtp-server';
import { expectError } from './expect-error';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let smtp: TestSmtpServer;
let inbox: ReceivedMail[];

beforeAll(async () => {
  smtp = await startSmtpServer();
  inbox = smtp.inbox;
});
afterAll(() => smtp.close());

function smtpEnv(extra: Record<string, string> = {}): Record<string, string> {
  return smtp.env({
    PUBLIC_URL: 'https://helpline.example.org',
    COOKIE_SECURE: 'false',
    ALERT_PAUSE_MINUTES: '30',
    ALERT_DIGEST_HOUR_UTC: '7',
    ...extra,
  });
}

/** Milliseconds from `now` to the next `hour`:00 UTC. */
function untilHour(now: number, hour: number): number {
  const d = new Date(now);
  let next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour);
  if (next <= now) next += 24 * HOUR;
  return next - now;
}

describe('with an SMTP server', () => {
  let t: TestServer;
  let admin: StaffActor;
  let digester: StaffActor;
  let survivor: SurvivorActor;
  let sender: ReturnType<typeof smtpSender>;
  const secrets: string[] = [];
  const deliver = () => deliverAlerts(t.ctx, sender.send);

  beforeAll(async () => {
    t = await makeTestServer(smtpEnv());
    // Just after midnight UTC, so that the digest hour (7) is hours away whenever the test runs.
    t.clock.advance(untilHour(t.clock.now(), 0) + MINUTE);
    sender = smtpSender(t.ctx.config.smtp!);
    admin = await setupAdmin(t);
    digester = await addStaff(t, admin, 'digester');
    survivor = await registerSurvivor(t);
    secrets.push(survivor.handle, (await t.db('survivors').first('id')).id);
  });
  afterAll(async () => {
    sender.close();
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  /** Everything a received alert must not hold: handles, survivor ids, case ids, testimony words, ciphertext. */
  function leaks(mail: ReceivedMail): string[] {
    return secrets.filter((s) => mail.raw.includes(s) || mail.text.includes(s));
  }

  async function testify(words: string): Promise<string> {
    await logInSurvivor(t, survivor);
    const { res, envelope } = await submitTestimony(t, survivor, words);
    expect(res.status).toBe(201);
    secrets.push(envelope.caseId, words, envelope.ciphertext.slice(0, 40));
    return envelope.caseId;
  }

  test('each member reads and sets their own alerts; the screen knows the feature is on', async () => {
    const before = await admin.agent.get('/api/staff/me/alerts');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      available: true,
      email: null,
      newCase: 'off',
      answer: 'off',
      digestHourUtc: 7,
      pauseMinutes: 30,
      pgpKey: null,
    });
    const set = await admin.agent
      .post('/api/staff/me/alerts')
      .send({ email: 'admin@helpline.example.org', newCase: 'immediate', answer: 'immediate' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ available: true, email: 'admin@helpline.example.org', newCase: 'immediate', answer: 'immediate' });
    const other = await digester.agent
      .post('/api/staff/me/alerts')
      .send({ email: 'digester@helpline.example.org', newCase: 'digest', answer: 'off' });
    expect(other.status).toBe(200);
    // Each reads only their own.
    expect((await digester.agent.get('/api/staff/me/alerts')).body.email).toBe('digester@helpline.example.org');
  });

  test('bad input is refused with a 400 naming the field, and writes nothing', async () => {
    const bad: [unknown, string][] = [
      [{ email: 'not an address', newCase: 'immediate', answer: 'off' }, 'email'],
      [{ email: 'a@b.example', newCase: 'hourly', answer: 'off' }, 'newCase'],
      [{ email: 'a@b.example', newCase: 'off' }, 'answer'],
      [{ email: null, newCase: 'immediate', answer: 'off' }, 'email'],
      [{ email: `${'x'.repeat(250)}@b.example`, newCase: 'off', answer: 'off' }, 'email'],
      [{ email: 'a@b.example', newCase: 'off', answer: 'off', pgpKey: 'x' }, 'pgpKey'],
      [{ email: 42, newCase: 'off', answer: 'off' }, 'email'],
    ];
    await unchanged(t, async () => {
      for (const [body, field] of bad)
        expectError(await admin.agent.post('/api/staff/me/alerts').send(body as object), 400, undefined, field);
      expectError(await request(t.app).get('/api/staff/me/alerts'), 401);
      expectError(await request(t.app).post('/api/staff/me/alerts').send({ email: null, newCase: 'off', answer: 'off' }), 401);
    });
  });

  test('a new case: one immediate alert over STARTTLS with AUTH, that says only that something is waiting', async () => {
    await testify('alert canary: the manager at the depot said things');
    // One row for each member who chose new cases, whatever their mode.
    expect(await t.db('alert_queue').select('staff_id', 'kind').orderBy('staff_id')).toEqual(
      [admin.staffId, digester.staffId].sort().map((id) => ({ staff_id: id, kind: 'new_case' })),
    );
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(inbox).toHaveLength(1);
    const [mail] = inbox;
    expect(mail.secure).toBe(true);
    expect(mail.user).toBe(SMTP_USER);
    expect(mail.from).toBe('alerts@helpline.example.org');
    expect(mail.to).toEqual(['admin@helpline.example.org']);
    expect(mail.text).toContain('A new case is waiting in the workspace.');
    expect(mail.text).toContain('https://helpline.example.org/staff');
    expect(leaks(mail)).toEqual([]);
    // The digest member's row waits for the digest hour.
    expect(await t.db('alert_queue').select('staff_id')).toEqual([{ staff_id: digester.staffId }]);
  });

  test('more cases during the pause wait and are told in one alert when it is over; the queue holds only who and what kind', async () => {
    inbox.length = 0;
    await testify('second canary words');
    await testify('third canary words');
    expect(await t.db('alert_queue').where({ staff_id: admin.staffId })).toEqual([
      { staff_id: admin.staffId, kind: 'new_case', attempts: 0, next_try_at: expect.anything() },
    ]);
    expect(await deliver()).toEqual({ sent: 0, failed: 0 });
    t.clock.advance(29 * MINUTE);
    expect(await deliver()).toEqual({ sent: 0, failed: 0 });
    t.clock.advance(MINUTE);
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(inbox).toHaveLength(1);
    expect(leaks(inbox[0])).toEqual([]);
    // Once the pause is over the time of the last alert is forgotten.
    t.clock.advance(30 * MINUTE);
    await deliver();
    expect(await t.db('staff_alerts').where({ staff_id: admin.staffId }).first('new_case_sent_at')).toEqual({ new_case_sent_at: null });
  });

  test('an answer in a case assigned to me', async () => {
    admin.agent = await signIn(t, admin);
    const caseId = await testify('fourth canary, to be answered');
    expect((await admin.agent.post(`/api/staff/cases/${caseId}/assignee`).send({ staffId: admin.staffId })).status).toBe(200);
    t.clock.advance(31 * MINUTE);
    await deliver();
    inbox.length = 0;
    const ks = await currentKeyset(t);
    await logInSurvivor(t, survivor);
    const testimony = (await asSurvivor(t, survivor).get('/api/survivor/cases')).body.cases.find(
      (c: { caseId: string }) => c.caseId === caseId,
    );
    const answer = sealEnvelope({
      kind: 'message',
      caseId,
      prev: envelopeHash(testimony.thread[0].envelope),
      body: { text: 'answer canary text' },
      recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
      signer: survivor.keys.sign,
    });
    secrets.push('answer canary text', answer.ciphertext.slice(0, 40));
    expect(
      (await asSurvivor(t, survivor).post(`/api/survivor/cases/${caseId}/messages`, { envelope: answer, keysetVersion: ks.keyset.version }))
        .status,
    ).toBe(201);
    expect(await t.db('alert_queue').where({ staff_id: admin.staffId }).select('kind')).toEqual([{ kind: 'answer' }]);
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(inbox[0].text).toContain('An answer is waiting in a case assigned to you.');
    expect(inbox[0].text).not.toContain('A new case');
    expect(leaks(inbox[0])).toEqual([]);
  });

  test('the digest goes out once a day at its hour, to the member who chose it', async () => {
    inbox.length = 0;
    // Six in the morning (UTC): the digest waits for seven.
    t.clock.advance(untilHour(t.clock.now(), 6));
    expect(await deliver()).toEqual({ sent: 0, failed: 0 });
    t.clock.advance(HOUR);
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(inbox).toHaveLength(1);
    expect(inbox[0].to).toEqual(['digester@helpline.example.org']);
    expect(inbox[0].text).toContain('Since the last digest:');
    expect(inbox[0].text).toContain('A new case is waiting in the workspace.');
    expect(inbox[0].raw).toMatch(/^Subject: Daily digest/m);
    expect(leaks(inbox[0])).toEqual([]);
    // A case later that day waits for tomorrow's digest.
    await testify('fifth canary, after the digest');
    t.clock.advance(2 * HOUR);
    inbox.length = 0;
    await deliver();
    expect(inbox.map((m) => m.to[0])).toEqual(['admin@helpline.example.org']);
    t.clock.advance(untilHour(t.clock.now(), 7));
    await deliver();
    expect(inbox.map((m) => m.to[0])).toEqual(['admin@helpline.example.org', 'digester@helpline.example.org']);
    for (const m of inbox) expect(leaks(m)).toEqual([]);
  });

  test('a server that refuses is tried again later; the submission never waits for it', async () => {
    inbox.length = 0;
    t.clock.advance(HOUR);
    smtp.refuse = true;
    await testify('sixth canary, while mail is down');
    expect(await deliver()).toEqual({ sent: 0, failed: 1 });
    // The log names the failure by the mail library's code, never by the server's answer (which quotes the recipient).
    expect(t.logs.filter((l) => l.startsWith('alerts: an alert was not sent'))).toEqual([
      expect.stringMatching(/^alerts: an alert was not sent: the SMTP server did not take it \(E[A-Z]+ Error\); it is tried again later$/),
    ]);
    expect(await t.db('alert_queue').where({ staff_id: admin.staffId }).first('attempts')).toEqual({ attempts: 1 });
    smtp.refuse = false;
    expect(await deliver()).toEqual({ sent: 0, failed: 0 }); // not yet: the retry waits
    t.clock.advance(2 * MINUTE);
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(inbox).toHaveLength(1);
  });

  test('a queue that cannot be written to does not fail the survivor: the testimony is saved and the log says so', async () => {
    await t.db.schema.renameTable('alert_queue', 'alert_queue_away');
    try {
      const { res, envelope } = await submitTestimony(t, survivor, 'seventh canary');
      expect(res.status).toBe(201);
      expect(await t.db('cases').where({ id: envelope.caseId }).first('id')).toEqual({ id: envelope.caseId });
      expect(t.logs).toContain('alerts: an alert could not be queued (what the survivor sent is saved)');
    } finally {
      await t.db.schema.renameTable('alert_queue_away', 'alert_queue');
    }
  });

  test('the mailer as the server starts it sends what is queued, apart from any request', async () => {
    inbox.length = 0;
    t.clock.advance(HOUR); // past any pause
    await testify('mailer canary');
    const queued = () => t.db('alert_queue').where({ staff_id: admin.staffId, kind: 'new_case' });
    expect(await queued()).toHaveLength(1);
    const stop = startMailer(t.ctx);
    try {
      for (let i = 0; i < 400 && (await queued()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      stop();
    }
    expect(inbox.filter((m) => m.to[0] === 'admin@helpline.example.org')).toHaveLength(1);
    for (const m of inbox) expect(leaks(m)).toEqual([]);
  });

  test('turning a kind off drops what was queued for it', async () => {
    admin.agent = await signIn(t, admin);
    await testify('eighth canary');
    expect(await t.db('alert_queue').where({ staff_id: admin.staffId, kind: 'new_case' })).toHaveLength(1);
    expect(
      (await admin.agent.post('/api/staff/me/alerts').send({ email: 'admin@helpline.example.org', newCase: 'off', answer: 'immediate' }))
        .status,
    ).toBe(200);
    expect(await t.db('alert_queue').where({ staff_id: admin.staffId, kind: 'new_case' })).toHaveLength(0);
  });
  test("a removed member's address and queued alerts are erased with the removal", async () => {
    await testify('ninth canary, queued for the digest');
    expect(await t.db('alert_queue').where({ staff_id: digester.staffId })).toHaveLength(1);
    admin.agent = await signIn(t, admin);
    expect((await admin.agent.post('/api/staff/keysets').send({ signed: await keysetWithout(t, admin, digester) })).status).toBe(201);
    expect(await t.db('staff_alerts').where({ staff_id: digester.staffId })).toEqual([]);
    expect(await t.db('alert_queue').where({ staff_id: digester.staffId })).toEqual([]);
    expect(await foundInDatabase(t, ['digester@helpline.example.org'])).toEqual([]);
  });

  test.each([
    ['/api/staff/me/alerts', { email: 'leaving@helpline.example.org', newCase: 'immediate', answer: 'digest' }],
    ['/api/staff/me/alerts/key/remove', {}],
  ])('a member removed after their request to %s passed the guard: 409 member_removed, nothing stored', async (route, body) => {
    admin.agent = await signIn(t, admin);
    const leaving = await addStaff(t, admin, `alerts.leaving.${route.length}`);
    const changed = await removedMidRequest(t, admin, leaving, () => leaving.agent.post(route).send(body));
    expectError(changed, 409, 'member_removed', 'removed');
    expect(await t.db('staff_alerts').where({ staff_id: leaving.staffId })).toEqual([]);
    expect(await foundInDatabase(t, ['leaving@helpline.example.org'])).toEqual([]);
  });
});

describe('with no SMTP server', () => {
  let t: TestServer;
  let admin: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
  });
  afterAll(() => t.close());

  test('the feature is off: the screen is told, a change is refused and writes nothing, and nothing is queued', async () => {
    expect((await admin.agent.get('/api/staff/me/alerts')).body).toMatchObject({ available: false, email: null });
    await unchanged(t, async () => {
      expectError(
        await admin.agent.post('/api/staff/me/alerts').send({ email: 'admin@helpline.example.org', newCase: 'immediate', answer: 'off' }),
        409,
        'alerts_unavailable',
        'SMTP',
      );
    });
    const survivor = await registerSurvivor(t);
    expect((await submitTestimony(t, survivor, 'no alerts here')).res.status).toBe(201);
    expect(await t.db('alert_queue').select()).toEqual([]);
  });
});

describe('SMTP configuration is checked at start', () => {
  const base = { SMTP_HOST: 'mail.example.org', SMTP_FROM: 'alerts@example.org' };
  test.each<[string, Record<string, string>, RegExp]>([
    ['a host without a sender', { SMTP_HOST: 'mail.example.org' }, /SMTP_FROM/],
    ['a sender without a host', { SMTP_FROM: 'alerts@example.org' }, /SMTP_HOST/],
    ['a user without a password', { ...base, SMTP_USER: 'u' }, /SMTP_PASSWORD/],
    ['no TLS to another machine', { ...base, SMTP_TLS: 'none' }, /SMTP_TLS/],
    ['an unknown TLS mode', { ...base, SMTP_TLS: 'maybe' }, /SMTP_TLS/],
    ['a port out of range', { ...base, SMTP_PORT: '70000' }, /SMTP_PORT/],
    ['a sender that is not an address', { ...base, SMTP_FROM: 'alerts' }, /SMTP_FROM/],
    ['a CA file that is not there', { ...base, SMTP_CA_FILE: '/nonexistent/ca.pem' }, /SMTP_CA_FILE/],
    ['a pause of zero', { ...base, ALERT_PAUSE_MINUTES: '0' }, /ALERT_PAUSE_MINUTES/],
    ['a digest hour of 24', { ...base, ALERT_DIGEST_HOUR_UTC: '24' }, /ALERT_DIGEST_HOUR_UTC/],
    ['a mailer that looks every 2 s', { ...base, ALERT_CHECK_SECONDS: '2' }, /ALERT_CHECK_SECONDS/],
  ])('%s is refused, naming the variable', (_label, env, names) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(names);
  });

  test('a complete setting is read, STARTTLS by default on port 587', () => {
    expect(loadConfig({ ...base, SMTP_USER: 'u', SMTP_PASSWORD: 'p' }).smtp).toEqual({
      host: 'mail.example.org',
      port: 587,
      tls: 'starttls',
      auth: { user: 'u', password: 'p' },
      from: 'alerts@example.org',
      ca: null,
    });
    expect(loadConfig({}).smtp).toBeNull();
  });
});
