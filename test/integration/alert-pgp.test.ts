/**
 * Alerts encrypted to an OpenPGP key the member pastes (issue 15, its optional part; SECURITY.md
 * "Staff alerts"). Real key pairs made here with openpgp, set through the real API, alerts sent
 * by the real mailer to the real SMTP server the alert tests use (STARTTLS, AUTH): what arrives
 * is PGP/MIME (RFC 3156), decrypts with the member's private key to the alert's words, and holds
 * none of those words in the clear. A key that no longer encrypts holds the alert back (never
 * sent in the clear) and the member's settings say why; bad keys are refused and write nothing.
 */
import * as openpgp from 'openpgp';
import request from 'supertest';
import { smtpSender } from '../../server/mailer';
import { deliverAlerts } from '../../server/services/alerts';
import { foundInDatabase } from '../support/database-files';
import {
  addStaff,
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
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../support/smtp-server';
import { expectError } from './expect-error';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ALERT_WORDS = [
  'A new case is waiting',
  'An answer is waiting',
  'Something is waiting',
  'Daily digest',
  'Since the last digest',
  '/staff',
];

interface KeyPair {
  publicKey: string;
  privateKey: string;
  fingerprint: string;
}

async function makeKeyPair(email: string, options: { date?: Date; keyExpirationTime?: number } = {}): Promise<KeyPair> {
  const { publicKey, privateKey } = await openpgp.generateKey({
    type: 'curve25519',
    userIDs: [{ name: 'Helpline member', email }],
    format: 'armored',
    ...options,
  });
  const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
  return { publicKey, privateKey, fingerprint };
}

/** Milliseconds from `now` to the next `hour`:00 UTC. */
function untilHour(now: number, hour: number): number {
  const d = new Date(now);
  let next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour);
  if (next <= now) next += DAY;
  return next - now;
}

/** The top-level headers of a raw message, unfolded, by lower-case name. */
function headersOf(raw: string): Record<string, string> {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const out: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** The parts of a multipart message: each one's headers and body, in order. */
function partsOf(raw: string): { headers: Record<string, string>; body: string }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(headersOf(raw)['content-type'])![1];
  const body = raw.slice(raw.search(/\r?\n\r?\n/));
  const sections = body.split(`--${boundary}`);
  expect(sections[sections.length - 1].trim()).toBe('--'); // the closing delimiter
  return sections.slice(1, -1).map((s) => {
    const text = s.replace(/^\r?\n/, '');
    const split = text.search(/\r?\n\r?\n/);
    return { headers: headersOf(text), body: text.slice(split).replace(/^\r?\n\r?\n/, '') };
  });
}

/**
 * Checks that a received mail is PGP/MIME as RFC 3156 section 4 has it, decrypts it with the
 * private key and returns the decrypted MIME entity.
 */
async function openPgpMime(mail: ReceivedMail, privateKeyArmored: string): Promise<string> {
  const headers = headersOf(mail.raw);
  expect(headers['content-type']).toMatch(/^multipart\/encrypted;/);
  expect(headers['content-type']).toContain('protocol="application/pgp-encrypted"');
  expect(headers.subject).toBe('Encrypted alert');
  const parts = partsOf(mail.raw);
  expect(parts).toHaveLength(2);
  expect(parts[0].headers['content-type']).toBe('application/pgp-encrypted');
  expect(parts[0].body.trim()).toBe('Version: 1');
  expect(parts[1].headers['content-type']).toMatch(/^application\/octet-stream/);
  expect(parts[1].headers['content-transfer-encoding']).toBe('7bit');
  expect(parts[1].body).toMatch(/^-----BEGIN PGP MESSAGE-----\r\n/);
  const privateKey = await openpgp.readPrivateKey({ armoredKey: privateKeyArmored });
  const message = await openpgp.readMessage({ armoredMessage: parts[1].body });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary' });
  return Buffer.from(data as Uint8Array).toString('utf8');
}

describe('alerts encrypted to an OpenPGP key', () => {
  let smtp: TestSmtpServer;
  let t: TestServer;
  let admin: StaffActor;
  let digester: StaffActor;
  let survivor: SurvivorActor;
  let sender: ReturnType<typeof smtpSender>;
  let adminKey: KeyPair;
  let digesterKey: KeyPair;
  const secrets: string[] = [];
  const deliver = () => deliverAlerts(t.ctx, sender.send);

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await makeTestServer(smtp.env({ PUBLIC_URL: 'https://helpline.example.org', COOKIE_SECURE: 'false' }));
    // Just after midnight UTC: the digest hour (7) is hours away whenever the test runs.
    t.clock.advance(untilHour(t.clock.now(), 0) + MINUTE);
    sender = smtpSender(t.ctx.config.smtp!);
    admin = await setupAdmin(t);
    digester = await addStaff(t, admin, 'digester');
    survivor = await registerSurvivor(t);
    secrets.push(survivor.handle, (await t.db('survivors').first('id')).id);
    [adminKey, digesterKey] = await Promise.all([
      makeKeyPair('admin-key@helpline.example.org'),
      makeKeyPair('digester-key@helpline.example.org'),
    ]);
  });
  afterAll(async () => {
    sender.close();
    await t.close();
    await smtp.close();
  });

  /** Everything a received mail must not hold in the clear: the alert's words, ids, handles, testimony words. */
  function inTheClear(mail: ReceivedMail): string[] {
    return [...ALERT_WORDS, ...secrets].filter((s) => mail.raw.includes(s) || mail.text.includes(s));
  }

  async function testify(words: string): Promise<void> {
    await logInSurvivor(t, survivor);
    const { res, envelope } = await submitTestimony(t, survivor, words);
    expect(res.status).toBe(201);
    secrets.push(envelope.caseId, words, envelope.ciphertext.slice(0, 40));
  }

  test('a member pastes a public key: it is checked, stored re-armored, and its fingerprint shown back', async () => {
    const res = await admin.agent.post('/api/staff/me/alerts/key').send({ publicKey: `\n  ${adminKey.publicKey}\n` });
    expect(res.status).toBe(200);
    expect(res.body.pgpKey).toEqual({
      fingerprint: adminKey.fingerprint,
      userIds: ['Helpline member <admin-key@helpline.example.org>'],
      expires: null,
      problem: null,
    });
    // The user IDs need not match the alert address.
    const choices = await admin.agent
      .post('/api/staff/me/alerts')
      .send({ email: 'admin@helpline.example.org', newCase: 'immediate', answer: 'immediate' });
    expect(choices.status).toBe(200);
    expect(choices.body.pgpKey.fingerprint).toBe(adminKey.fingerprint);
    expect((await admin.agent.get('/api/staff/me/alerts')).body.pgpKey.fingerprint).toBe(adminKey.fingerprint);
    const stored = (await t.db('staff_alerts').where({ staff_id: admin.staffId }).first('pgp_key')).pgp_key as string;
    expect(stored).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    expect((await openpgp.readKey({ armoredKey: stored })).getFingerprint().toUpperCase()).toBe(adminKey.fingerprint);
    // Another member's settings are their own.
    expect((await digester.agent.get('/api/staff/me/alerts')).body.pgpKey).toBeNull();
  });

  test('bad keys are refused with a 400 naming the problem, and nothing is written', async () => {
    const expired = await makeKeyPair('old@helpline.example.org', {
      date: new Date(t.clock.now() - 30 * DAY),
      keyExpirationTime: DAY / 1000,
    });
    const revoked = await openpgp.revokeKey({
      key: await openpgp.readPrivateKey({ armoredKey: (await makeKeyPair('gone@helpline.example.org')).privateKey }),
      format: 'armored',
    });
    const other = await makeKeyPair('other@helpline.example.org');
    const signOnly = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ email: 'sign@helpline.example.org' }],
      subkeys: [],
      format: 'armored',
    });
    const subkeyExpired = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ email: 'sub@helpline.example.org' }],
      subkeys: [{ keyExpirationTime: 3600 }],
      date: new Date(t.clock.now() - DAY),
      format: 'armored',
    });
    const garbage = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5IGF0IGFsbA==\n-----END PGP PUBLIC KEY BLOCK-----\n';
    const bad: [unknown, number, string, string][] = [
      [{ publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI not an openpgp key' }, 400, 'unreadable_key', 'publicKey'],
      [{ publicKey: garbage }, 400, 'unreadable_key', 'publicKey'],
      [{ publicKey: adminKey.publicKey.slice(0, 300) }, 400, 'unreadable_key', 'publicKey'],
      [{ publicKey: adminKey.privateKey }, 400, 'private_key', 'private key'],
      [{ publicKey: adminKey.privateKey.replace(/PRIVATE KEY BLOCK/g, 'PUBLIC KEY BLOCK') }, 400, 'private_key', 'private key'],
      [{ publicKey: expired.publicKey }, 400, 'key_expired', 'expired'],
      [{ publicKey: revoked.publicKey }, 400, 'key_revoked', 'revoked'],
      [{ publicKey: signOnly.publicKey }, 400, 'key_cannot_encrypt', 'no valid subkey that can encrypt'],
      [{ publicKey: subkeyExpired.publicKey }, 400, 'key_expired', 'expired'],
      [{ publicKey: `${other.publicKey}\n${adminKey.publicKey}` }, 400, 'one_key_only', 'more than one'],
      [{ publicKey: adminKey.publicKey + '\n'.repeat(70_000) }, 400, 'invalid_request', 'publicKey'],
      [{ publicKey: '   ' }, 400, 'invalid_request', 'publicKey'],
      [{ publicKey: 42 }, 400, 'invalid_request', 'publicKey'],
      [{}, 400, 'invalid_request', 'publicKey'],
      [{ publicKey: other.publicKey, email: 'a@b.example' }, 400, 'invalid_request', 'email'],
    ];
    await unchanged(t, async () => {
      for (const [body, status, code, mention] of bad)
        expectError(await admin.agent.post('/api/staff/me/alerts/key').send(body as object), status, code, mention);
      expectError(await admin.agent.post('/api/staff/me/alerts/key/remove').send({ publicKey: null }), 400, 'invalid_request', 'publicKey');
      expectError(await request(t.app).post('/api/staff/me/alerts/key').send({ publicKey: other.publicKey }), 401);
      expectError(await request(t.app).post('/api/staff/me/alerts/key/remove').send({}), 401);
    });
    // The private key reached neither the database nor the log.
    const privateMaterial = adminKey.privateKey.split('\n').filter((l) => l.length > 40);
    expect(await foundInDatabase(t, privateMaterial)).toEqual([]);
    expect(t.logs.filter((l) => privateMaterial.some((p) => l.includes(p)))).toEqual([]);
    expect((await admin.agent.get('/api/staff/me/alerts')).body.pgpKey.fingerprint).toBe(adminKey.fingerprint);
  });

  test('an alert to a member with a key goes out as PGP/MIME: it decrypts to the alert, and none of its words are in the clear', async () => {
    await testify('pgp canary: what the supervisor did');
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(smtp.inbox).toHaveLength(1);
    const [mail] = smtp.inbox;
    expect(mail.secure).toBe(true);
    expect(mail.to).toEqual(['admin@helpline.example.org']);
    const inner = await openPgpMime(mail, adminKey.privateKey);
    expect(inner).toMatch(/^Content-Type: text\/plain; charset=utf-8; protected-headers="v1"\r\n/);
    expect(inner).toContain('\r\nSubject: Something is waiting in the workspace\r\n');
    expect(inner).toContain('A new case is waiting in the workspace.');
    expect(inner).toContain('Sign in to read it: https://helpline.example.org/staff');
    expect(inTheClear(mail)).toEqual([]);
    // The other member's key does not open it.
    await expect(openPgpMime(mail, digesterKey.privateKey)).rejects.toThrow();
  });

  test('a daily digest to a member with a key is encrypted too, under the same neutral subject', async () => {
    smtp.inbox.length = 0;
    expect((await digester.agent.post('/api/staff/me/alerts/key').send({ publicKey: digesterKey.publicKey })).status).toBe(200);
    expect(
      (await digester.agent.post('/api/staff/me/alerts').send({ email: 'digester@helpline.example.org', newCase: 'digest', answer: 'off' }))
        .status,
    ).toBe(200);
    t.clock.advance(HOUR); // past the admin's pause
    await testify('digest canary words');
    expect(await deliver()).toEqual({ sent: 1, failed: 0 }); // the admin's immediate alert
    t.clock.advance(untilHour(t.clock.now(), 7));
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(smtp.inbox.map((m) => m.to[0])).toEqual(['admin@helpline.example.org', 'digester@helpline.example.org']);
    const digest = await openPgpMime(smtp.inbox[1], digesterKey.privateKey);
    expect(digest).toContain('Subject: Daily digest: something is waiting in the workspace');
    expect(digest).toContain('Since the last digest:');
    expect(digest).toContain('A new case is waiting in the workspace.');
    for (const m of smtp.inbox) expect(inTheClear(m)).toEqual([]);
  });

  test("a removed member's key goes with their other alert settings", async () => {
    expect(await t.db('staff_alerts').where({ staff_id: digester.staffId }).whereNotNull('pgp_key')).toHaveLength(1);
    await t.ctx.db.transaction((trx) => t.ctx.repos.alerts.forget(trx, [digester.staffId]));
    expect(await t.db('staff_alerts').where({ staff_id: digester.staffId })).toEqual([]);
  });

  test('a key that has expired since is never used in the clear: the alert is held, the log names no one, the settings say why', async () => {
    smtp.inbox.length = 0;
    admin.agent = await signIn(t, admin);
    const shortLived = await makeKeyPair('short@helpline.example.org', {
      date: new Date(t.clock.now() - HOUR),
      keyExpirationTime: (2 * DAY) / 1000,
    });
    const set = await admin.agent.post('/api/staff/me/alerts/key').send({ publicKey: shortLived.publicKey });
    expect(set.status).toBe(200);
    expect(set.body.pgpKey).toMatchObject({
      fingerprint: shortLived.fingerprint,
      problem: null,
      expires: expect.stringMatching(/^\d{4}-/),
    });
    t.clock.advance(3 * DAY);
    await testify('canary after the key expired');
    const logsBefore = t.logs.length;
    expect(await deliver()).toEqual({ sent: 0, failed: 1 });
    expect(smtp.inbox).toEqual([]);
    const lines = t.logs.slice(logsBefore);
    expect(lines).toEqual([expect.stringMatching(/could not be encrypted to its member's OpenPGP key.*never sent in the clear/)]);
    for (const l of lines)
      for (const who of [admin.staffId, admin.username, 'admin@helpline.example.org', shortLived.fingerprint]) expect(l).not.toContain(who);
    expect(await t.db('alert_queue').where({ staff_id: admin.staffId }).select('kind', 'attempts')).toEqual([
      { kind: 'new_case', attempts: 1 },
    ]);

    admin.agent = await signIn(t, admin);
    expect((await admin.agent.get('/api/staff/me/alerts')).body.pgpKey).toMatchObject({
      fingerprint: shortLived.fingerprint,
      problem: 'expired',
    });
    // A working key pasted before the retry: the held alert goes out, encrypted to it.
    expect((await admin.agent.post('/api/staff/me/alerts/key').send({ publicKey: adminKey.publicKey })).status).toBe(200);
    t.clock.advance(2 * MINUTE);
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(await openPgpMime(smtp.inbox[0], adminKey.privateKey)).toContain('A new case is waiting in the workspace.');
    expect(inTheClear(smtp.inbox[0])).toEqual([]);
  });

  test('a damaged stored key holds alerts back too, and the settings still open and say it does not work', async () => {
    smtp.inbox.length = 0;
    await t.db('staff_alerts').where({ staff_id: admin.staffId }).update({ pgp_key: 'damaged' });
    expect((await admin.agent.get('/api/staff/me/alerts')).body.pgpKey).toEqual({
      fingerprint: '',
      userIds: [],
      expires: null,
      problem: 'cannot_encrypt',
    });
    t.clock.advance(HOUR);
    await testify('canary with a damaged key');
    expect(await deliver()).toEqual({ sent: 0, failed: 1 });
    expect(smtp.inbox).toEqual([]);
  });

  test('removing the key: alerts go as plain mail again', async () => {
    smtp.inbox.length = 0;
    admin.agent = await signIn(t, admin);
    const removed = await admin.agent.post('/api/staff/me/alerts/key/remove').send({});
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ email: 'admin@helpline.example.org', newCase: 'immediate', pgpKey: null });
    expect(await t.db('staff_alerts').where({ staff_id: admin.staffId }).first('pgp_key')).toEqual({ pgp_key: null });
    t.clock.advance(HOUR);
    await testify('canary after the key was removed');
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(headersOf(smtp.inbox[0].raw)['content-type']).toMatch(/^text\/plain/);
    expect(smtp.inbox[0].text).toContain('A new case is waiting in the workspace.');
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

  test('a key is refused like any alert setting, and nothing is written', async () => {
    const key = await makeKeyPair('k@helpline.example.org');
    await unchanged(t, async () => {
      expectError(await admin.agent.post('/api/staff/me/alerts/key').send({ publicKey: key.publicKey }), 409, 'alerts_unavailable', 'SMTP');
      expectError(await admin.agent.post('/api/staff/me/alerts/key/remove').send({}), 409, 'alerts_unavailable', 'SMTP');
    });
    expect((await admin.agent.get('/api/staff/me/alerts')).body).toMatchObject({ available: false, pgpKey: null });
  });
});
