/**
 * Test harness: a real app on a real SQLite file in a temporary folder (or, when
 * TEST_DATABASE_URL names a PostgreSQL server, on a database of its own there), with real
 * argon2 and real tweetnacl, and helpers that play the admin's, a moderator's and a
 * survivor's browsers with the same protocol/ code the pages use.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  encryptFile,
  fromBase64url,
  generateCodename,
  makeManifest,
  newAttachmentKey,
  keysetHash,
  normalizeCodename,
  randomId,
  readersOf,
  sealEnvelope,
  signKeyset,
  signLogin,
  solvePow,
  STAFF_KDF,
  staffSecrets,
  survivorKeyPairs,
  survivorMaster,
  toBase64url,
  utcDay,
  wrapPrivateKeys,
  type Argon2Params,
  type AttachmentManifest,
  type Envelope,
  type KeyPairs,
  type SignedKeyset,
  type StaffRole,
} from '../../protocol';
import { createApp, type AppContext } from '../../server/app';
import { clockFrom } from '../../server/clock';
import { loadConfig } from '../../server/config';
import { migrate, openDatabase, type Db } from '../../server/db/database';
import { base32Decode, hotp, totpStep } from '../../server/http/totp';
import { issueSetupLink } from '../../server/setup-link';
import { interleave } from './interleave';
import { freshPostgresDatabase, TEST_ENGINE } from './postgres';

export { TEST_ENGINE };

export const ROOT = path.resolve(__dirname, '../..');
export const CLIENT_DIR = path.join(ROOT, 'dist/client');

/** What a unique-key violation's message says, on either engine. */
export const UNIQUE_VIOLATION = /UNIQUE constraint failed|duplicate key value violates unique constraint/;

export interface TestServer {
  app: Parameters<typeof request>[0];
  ctx: AppContext;
  db: Db;
  /** the data folder (the address key file lives there; on SQLite, the database file too) */
  dir: string;
  /** the SQLite file; '' on PostgreSQL */
  dbFile: string;
  /** the PostgreSQL database's address; '' on SQLite */
  databaseUrl: string;
  logs: string[];
  /** the app's clock for staff sessions, TOTP and lockouts: starts at real time, only moves forward */
  clock: { now(): number; advance(ms: number): void };
  close(): Promise<void>;
}

/**
 * With `env.DATABASE_URL`, the server runs on that database (the caller made it and drops it);
 * with `opts.engine` 'sqlite', on a SQLite file even when TEST_DATABASE_URL is set;
 * `opts.drawEnvelopeId` replaces the random source of new envelope ids (to force a collision).
 */
export async function makeTestServer(
  env: Record<string, string> = {},
  opts: { engine?: 'sqlite'; drawEnvelopeId?: () => number } = {},
): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-test-'));
  const serverUrl = env.DATABASE_URL || opts.engine === 'sqlite' ? undefined : process.env.TEST_DATABASE_URL;
  const pgDatabase = serverUrl ? await freshPostgresDatabase(serverUrl) : undefined;
  const config = loadConfig({
    DATA_DIR: dir,
    POW_BITS: '2',
    RATE_LIMIT_PER_MINUTE: '100000',
    RATE_LIMIT_SENSITIVE_PER_MINUTE: '100000',
    ...(pgDatabase ? { DATABASE_URL: pgDatabase.url } : {}),
    ...env,
  });
  const db = openDatabase(config.database);
  await migrate(db);
  const logs: string[] = [];
  let offset = 0;
  const clock = {
    now: () => Date.now() + offset,
    advance(ms: number) {
      if (ms < 0) throw new Error('the test clock only moves forward');
      offset += ms;
    },
  };
  const { app, ctx } = await createApp({
    db,
    config,
    clientDir: CLIENT_DIR,
    log: (l) => logs.push(l),
    clock: clockFrom(clock.now),
    drawEnvelopeId: opts.drawEnvelopeId,
  });
  return {
    app,
    ctx,
    db,
    dir,
    dbFile: config.database.client === 'sqlite' ? config.database.filename : '',
    databaseUrl: config.database.client === 'pg' ? config.database.url : '',
    logs,
    clock,
    async close() {
      await settled(db); // a last session touch, still on its way, would otherwise log an aborted connection
      await db.destroy();
      await pgDatabase?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A second app instance on the same PostgreSQL database and data folder (so the same address
 * key file), as another process behind a load balancer would be: its own pool and its own
 * createApp, on the same clock (one machine's time). Closing it leaves the first one running.
 * PostgreSQL only: an instance on SQLite is one process, whose one connection holds its limits.
 */
export async function secondInstance(t: TestServer): Promise<TestServer> {
  if (!t.databaseUrl) throw new Error('a second instance needs PostgreSQL (TEST_DATABASE_URL)');
  const db = openDatabase(t.ctx.config.database);
  const logs: string[] = [];
  const { app, ctx } = await createApp({
    db,
    config: t.ctx.config,
    clientDir: CLIENT_DIR,
    log: (l) => logs.push(l),
    clock: clockFrom(() => t.clock.now()),
  });
  return {
    ...t,
    app,
    ctx,
    db,
    logs,
    async close() {
      await settled(db);
      await db.destroy();
    },
  };
}

/** Tables of migrations/002_staff_security.ts (TOTP recovery codes, sign-in locks, settings, audit log). */
export const STAFF_SECURITY_TABLES = ['staff_recovery_codes', 'login_failures', 'settings', 'audit_log'];
export const PUBLISHING_TABLES = ['case_statistics', 'drafts', 'consents', 'publications'];

/** Tables of migrations/005_attachments.ts (uploads and their sealed records). */
export const ATTACHMENT_TABLES = ['attachments', 'attachment_records'];

/** Tables of migrations/010_matching.ts (the evaluation counters are counters, like rate limits, and left out). */
export const MATCHING_TABLES = ['matching_entries'];
/** Tables of migrations/007_alerts_retention.ts (staff alert choices and the alert queue). */
export const ALERT_TABLES = ['staff_alerts', 'alert_queue'];

/**
 * Every table's rows except rate-limit counters, in a set order, to prove a rejected request wrote nothing.
 * Binary values (attachment records) stand as their SHA-256: jest compares a 64 KiB Buffer
 * byte by byte, slowly, and the digest changes whenever a byte does.
 */
export async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  await settled(db);
  const out: Record<string, unknown[]> = {};
  const digestBinary = (row: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? `sha256:${crypto.createHash('sha256').update(v).digest('hex')}` : v]),
    );
  for (const table of [
    'instance',
    'staff',
    'staff_invites',
    'staff_sessions',
    'keysets',
    'survivors',
    'cases',
    'envelopes',
    'envelope_keys',
    'envelope_grants',
    'case_reads',
    'challenges',
    ...PUBLISHING_TABLES,
    ...STAFF_SECURITY_TABLES,
    ...ATTACHMENT_TABLES,
    ...MATCHING_TABLES,
    ...ALERT_TABLES,
  ]) {
    // Sorted, since a query without ORDER BY has no set order (PostgreSQL moves a row it updates, even to the same values).
    out[table] = (await db(table).select())
      .map(digestBinary)
      .map((row) => ({ row, key: JSON.stringify(row) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ row }) => row);
  }
  return out;
}

/**
 * Waits until the app has no query running or waiting for a connection: a successful staff
 * request records its session's last-seen time after the response has gone, and on
 * PostgreSQL (a pool of several connections) that write could otherwise land in the middle
 * of a snapshot. Gives up after 10,000 turns of the event loop (a test holding a transaction open).
 */
async function settled(db: Db): Promise<void> {
  const pool = db.client.pool as { numUsed(): number; numPendingAcquires(): number; numPendingCreates(): number } | undefined;
  for (let turn = 0; turn < 10_000; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!pool || pool.numUsed() + pool.numPendingAcquires() + pool.numPendingCreates() === 0) return;
  }
}

/** What `fn` returned, and the SQL of every statement knex sent meanwhile (BEGIN and COMMIT included). */
export async function statementsOf<T>(db: Db, fn: () => Promise<T>): Promise<{ result: T; sqls: string[] }> {
  const sqls: string[] = [];
  const listener = (q: { sql: string }) => sqls.push(q.sql);
  db.on('query', listener);
  try {
    return { result: await fn(), sqls };
  } finally {
    db.off('query', listener);
  }
}

/**
 * Runs fn and asserts that no table (but the rate-limit counters) changed meanwhile: a
 * rejected request writes nothing (DESIGN.md "Bad input").
 */
export async function unchanged<T>(t: TestServer, fn: () => Promise<T>): Promise<T> {
  const before = await snapshot(t.db);
  const out = await fn();
  expect(await snapshot(t.db)).toEqual(before);
  return out;
}

export interface StaffActor {
  agent: ReturnType<typeof request.agent>;
  staffId: string;
  username: string;
  roles: StaffRole[];
  password: string;
  box: nacl.BoxKeyPair;
  sign: nacl.SignKeyPair;
  instance?: nacl.SignKeyPair;
  /** setupAdmin only: the exact body it sent to POST /api/setup (to test a replay) */
  setupBody?: Record<string, unknown>;
  /** the TOTP secret the member enrolled, and the last step a code was made for (see totpCode) */
  totpSecret: Uint8Array;
  lastStep?: number;
  /** the recovery codes shown at enrolment (tests remove the ones they spend) */
  recoveryCodes: string[];
}

/** A TOTP-enrolled member, as far as signing in goes. */
export interface TotpHolder {
  totpSecret: Uint8Array;
  lastStep?: number;
}

/**
 * A TOTP code the server will accept now for this member: of the current step of the app's
 * clock, or, when that step was already used (codes cannot be replayed), of the next one, the
 * clock moving forward to it. Records the step as used.
 */
export function totpCode(t: TestServer, who: TotpHolder): string {
  let step = totpStep(t.clock.now());
  if (who.lastStep !== undefined && step <= who.lastStep) {
    t.clock.advance((who.lastStep + 1 - step) * 30_000);
    step = who.lastStep + 1;
  }
  who.lastStep = step;
  return hotp(who.totpSecret, step);
}

/**
 * Finishes two-factor enrolment in a session that is waiting for it (right after setup or
 * enrolment): asks for a secret, checks the otpauth:// URI, confirms a code.
 */
export async function enrolTotp(
  t: TestServer,
  agent: ReturnType<typeof request.agent>,
  username: string,
): Promise<{ totpSecret: Uint8Array; lastStep: number; recoveryCodes: string[] }> {
  const setup = await agent.post('/api/staff/totp/setup').send({});
  if (setup.status !== 200) throw new Error(`totp setup failed: ${setup.status} ${JSON.stringify(setup.body)}`);
  const uri = new URL(setup.body.uri);
  const totpSecret = base32Decode(setup.body.secret);
  if (uri.searchParams.get('secret') !== setup.body.secret.replace(/ /g, '') || !uri.pathname.endsWith(`Awaaz:${username}`))
    throw new Error(`unexpected otpauth URI ${setup.body.uri}`);
  const holder: TotpHolder = { totpSecret };
  const confirm = await agent.post('/api/staff/totp/confirm').send({ code: totpCode(t, holder) });
  if (confirm.status !== 201) throw new Error(`totp confirm failed: ${confirm.status} ${JSON.stringify(confirm.body)}`);
  return { totpSecret, lastStep: holder.lastStep!, recoveryCodes: confirm.body.recoveryCodes };
}

/** What a staff member's browser sends to POST /api/staff/login, with a fresh TOTP code unless told otherwise. */
export async function loginBody(
  t: TestServer,
  who: TotpHolder & { username: string; password: string },
  factor: { totp?: string; recoveryCode?: string } | 'totp' = 'totp',
): Promise<{ body: Record<string, string>; wrapKey: Uint8Array; ticket: string }> {
  const params = await request(t.app).post('/api/staff/login/params').send({ username: who.username });
  if (params.status !== 200) throw new Error(`login params failed: ${params.status} ${JSON.stringify(params.body)}`);
  const { wrapKey, authKey } = await staffSecrets(who.password, fromBase64url(params.body.kdf.salt), params.body.kdf.params);
  const second = factor === 'totp' ? { totp: totpCode(t, who) } : factor;
  // The ticket is left out of the body (as older clients do); tests that send it add it.
  return { body: { username: who.username, authKey: toBase64url(authKey), ...second }, wrapKey, ticket: params.body.ticket };
}

/** Signs a staff member in with password and TOTP in a new agent (throws unless 200). */
export async function signIn(
  t: TestServer,
  who: TotpHolder & { username: string; password: string },
): Promise<ReturnType<typeof request.agent>> {
  const agent = request.agent(t.app);
  const { body } = await loginBody(t, who);
  const res = await agent.post('/api/staff/login').send(body);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return agent;
}

/** What a browser sends at setup or enrolment; kdfParams other than STAFF_KDF stand for a record made before a change of defaults. */
export async function staffMaterial(username: string, password: string, instance?: nacl.SignKeyPair, kdfParams: Argon2Params = STAFF_KDF) {
  const box = nacl.box.keyPair();
  const sign = nacl.sign.keyPair();
  const salt = nacl.randomBytes(16);
  const { wrapKey, authKey } = await staffSecrets(password, salt, kdfParams);
  const wrappedKeys = wrapPrivateKeys(
    { boxSecretKey: box.secretKey, signSecretKey: sign.secretKey, instanceSecretKey: instance?.secretKey },
    wrapKey,
  );
  return {
    box,
    sign,
    material: {
      username,
      kdf: { params: kdfParams, salt: toBase64url(salt) },
      authKey: toBase64url(authKey),
      boxPk: toBase64url(box.publicKey),
      signPk: toBase64url(sign.publicKey),
      wrappedKeys,
    },
  };
}

export async function setupAdmin(t: TestServer, roles: StaffRole[] = ['admin', 'moderator']): Promise<StaffActor> {
  const link = await issueSetupLink(t.ctx.repos.instance, 'http://test', t.ctx.clock);
  const setupToken = link.url.split('#')[1];
  const instance = nacl.sign.keyPair();
  const staffId = randomId();
  const password = 'admin password for tests';
  const { box, sign, material } = await staffMaterial('admin', password, instance);
  const keyset = signKeyset(
    {
      v: 1,
      instanceId: t.ctx.instanceId,
      version: 1,
      prev: null,
      issuedDay: utcDay(),
      members: [{ staffId, username: 'admin', roles, boxPk: material.boxPk, signPk: material.signPk }],
    },
    instance,
  );
  const agent = request.agent(t.app);
  const setupBody = { setupToken, staffId, roles, keyset, ...material };
  const res = await agent.post('/api/setup').send(setupBody);
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${JSON.stringify(res.body)}`);
  const totp = await enrolTotp(t, agent, 'admin');
  return { agent, staffId, username: 'admin', roles, password, box, sign, instance, setupBody, ...totp };
}

/** A POST /api/setup body for a first admin named `first` (roles: admin), the keyset dated by the test clock. */
export async function firstAdminSetupBody(t: TestServer, setupToken: string) {
  const instance = nacl.sign.keyPair();
  const staffId = randomId();
  const { material } = await staffMaterial('first', 'first admin password', instance);
  const keyset = signKeyset(
    {
      v: 1,
      instanceId: t.ctx.instanceId,
      version: 1,
      prev: null,
      issuedDay: utcDay(new Date(t.clock.now())),
      members: [{ staffId, username: 'first', roles: ['admin'], boxPk: material.boxPk, signPk: material.signPk }],
    },
    instance,
  );
  return { setupToken, staffId, roles: ['admin'], keyset, ...material };
}

export async function currentKeyset(t: TestServer): Promise<SignedKeyset> {
  return (await request(t.app).get('/api/instance')).body.keyset;
}

/** The next keyset without this member, signed by the admin's instance key (what the admin's browser sends to remove them). */
export async function keysetWithout(t: TestServer, admin: StaffActor, member: StaffActor): Promise<SignedKeyset> {
  const current = await currentKeyset(t);
  return signKeyset(
    {
      v: 1,
      instanceId: t.ctx.instanceId,
      version: current.keyset.version + 1,
      prev: keysetHash(current.keyset),
      issuedDay: t.ctx.clock.today(),
      members: current.keyset.members.filter((m) => m.staffId !== member.staffId),
    },
    admin.instance!,
  );
}

/**
 * Sends a request of `leaving`'s whose removal (the next keyset, published by `admin` without
 * them) lands right after the staff guard has read their record: the window between the guard
 * and the route's own transaction. Returns the route's answer, once the removal was published.
 */
export async function removedMidRequest(
  t: TestServer,
  admin: StaffActor,
  leaving: StaffActor,
  send: () => Promise<request.Response>,
): Promise<request.Response> {
  const removal = await keysetWithout(t, admin, leaving);
  let removed: request.Response | undefined;
  const guarded = interleave(t.ctx.repos.staff, 'byId', async () => {
    removed = await admin.agent.post('/api/staff/keysets').send({ signed: removal });
  });
  try {
    const answer = await send();
    expect(guarded).toHaveBeenCalled();
    expect(removed?.status).toBe(201);
    expect(removed?.body.removed).toBe(1);
    return answer;
  } finally {
    guarded.mockRestore();
  }
}

/** Admin invites, the new member enrols, the admin's browser signs the next keyset. */
export async function addStaff(
  t: TestServer,
  admin: StaffActor,
  username: string,
  role: StaffRole | StaffRole[] = 'moderator',
  kdfParams: Argon2Params = STAFF_KDF,
): Promise<StaffActor> {
  const roles = Array.isArray(role) ? role : [role];
  const invite = await admin.agent.post('/api/staff/invites').send({ roles });
  if (invite.status !== 201) throw new Error(`invite failed: ${invite.status} ${JSON.stringify(invite.body)}`);
  const inviteToken = String(invite.body.url).split('#')[1];
  const password = `${username} password for tests`;
  const { box, sign, material } = await staffMaterial(username, password, undefined, kdfParams);
  const agent = request.agent(t.app);
  const enrol = await agent.post('/api/staff/enrol').send({ inviteToken, ...material });
  if (enrol.status !== 201) throw new Error(`enrol failed: ${enrol.status} ${JSON.stringify(enrol.body)}`);
  const totp = await enrolTotp(t, agent, username);
  const current = await currentKeyset(t);
  const next = signKeyset(
    {
      v: 1,
      instanceId: t.ctx.instanceId,
      version: current.keyset.version + 1,
      prev: keysetHash(current.keyset),
      issuedDay: utcDay(),
      members: [...current.keyset.members, { staffId: enrol.body.id, username, roles, boxPk: material.boxPk, signPk: material.signPk }],
    },
    admin.instance!,
  );
  const published = await admin.agent.post('/api/staff/keysets').send({ signed: next });
  if (published.status !== 201) throw new Error(`keyset failed: ${published.status} ${JSON.stringify(published.body)}`);
  return { agent, staffId: enrol.body.id, username, roles, password, box, sign, ...totp };
}

export interface SurvivorActor {
  codename: string;
  keys: KeyPairs;
  token: string;
  handle: string;
}

export async function pow(t: TestServer): Promise<{ challenge: string; nonce: number }> {
  const res = await request(t.app).post('/api/pow').send({});
  return { challenge: res.body.challenge, nonce: solvePow(res.body.challenge, res.body.bits) };
}

export async function survivorKeys(codename: string, instanceId: string): Promise<KeyPairs> {
  return survivorKeyPairs(await survivorMaster(normalizeCodename(codename), instanceId));
}

export async function registerSurvivor(t: TestServer): Promise<SurvivorActor> {
  const codename = generateCodename();
  const keys = await survivorKeys(codename, t.ctx.instanceId);
  const p = await pow(t);
  const res = await request(t.app)
    .post('/api/survivor/register')
    .send({
      signPk: toBase64url(keys.sign.publicKey),
      boxPk: toBase64url(keys.box.publicKey),
      pow: p,
      sig: toBase64url(signLogin(t.ctx.instanceId, p.challenge, keys.sign.secretKey)),
    });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { codename, keys, token: res.body.token, handle: res.body.handle };
}

/** The survivor comes back: a fresh login with her sign key, whose token replaces the one she held (which may have expired). */
export async function logInSurvivor(t: TestServer, survivor: SurvivorActor): Promise<void> {
  const { challenge } = (await request(t.app).post('/api/survivor/challenge').send({})).body;
  const res = await request(t.app)
    .post('/api/survivor/session')
    .send({
      signPk: toBase64url(survivor.keys.sign.publicKey),
      challenge,
      sig: toBase64url(signLogin(t.ctx.instanceId, challenge, survivor.keys.sign.secretKey)),
    });
  if (res.status !== 200) throw new Error(`survivor login failed: ${res.status} ${JSON.stringify(res.body)}`);
  survivor.token = res.body.token;
}

/** A testimony sealed to the survivor and every moderator; with manifests, it carries those files' keys. */
export function testimonyEnvelope(
  survivor: SurvivorActor,
  keyset: SignedKeyset,
  what: string,
  caseId = randomId(),
  manifests: AttachmentManifest[] = [],
): Envelope {
  return sealEnvelope({
    kind: 'testimony',
    caseId,
    body: {
      testimony: { what, when: '2018', context: 'workplace', wantsReplies: true },
      ...(manifests.length ? { attachments: manifests } : {}),
    },
    recipients: [survivor.keys.box.publicKey, ...readersOf(keyset.keyset)],
    signer: survivor.keys.sign,
  });
}

/** Submits a testimony; with manifests of closed uploads, it carries them (their keys inside, their ids beside). */
export async function submitTestimony(t: TestServer, survivor: SurvivorActor, what: string, manifests: AttachmentManifest[] = []) {
  const keyset = await currentKeyset(t);
  const envelope = testimonyEnvelope(survivor, keyset, what, randomId(), manifests);
  const attachments = manifests.length ? { attachments: manifests.map((m) => m.id) } : {};
  const res = await request(t.app)
    .post('/api/survivor/cases')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ envelope, keysetVersion: keyset.keyset.version, pow: await pow(t), ...attachments });
  return { res, envelope };
}

/** Requests with a survivor's bearer token; `putRecord` sends raw bytes as a record upload does. */
export function asSurvivor(t: TestServer, survivor: SurvivorActor) {
  const bearer = `Bearer ${survivor.token}`;
  return {
    get: (path: string) => request(t.app).get(path).set('Authorization', bearer),
    post: (path: string, body: object = {}) => request(t.app).post(path).set('Authorization', bearer).send(body),
    putRecord: (id: string, index: number | string, bytes: Uint8Array, contentType = 'application/octet-stream') =>
      request(t.app)
        .put(`/api/survivor/attachments/${id}/records/${index}`)
        .set('Authorization', bearer)
        .set('Content-Type', contentType)
        .send(Buffer.from(bytes)),
  };
}

export interface UploadedFile {
  id: string;
  records: Uint8Array[];
  /** what the survivor's browser seals into the envelope that carries the file */
  manifest: AttachmentManifest;
}

/**
 * Seals a file as the survivor's browser does and uploads it: creates the upload, PUTs records
 * from 0 up to `upTo` (all by default), and closes it when all are sent (unless `close` is false).
 */
export async function uploadFile(
  t: TestServer,
  survivor: SurvivorActor,
  bytes: Uint8Array,
  opts: { upTo?: number; close?: boolean } = {},
): Promise<UploadedFile> {
  const key = newAttachmentKey();
  const records = encryptFile(bytes, key);
  const as = asSurvivor(t, survivor);
  const created = await as.post('/api/survivor/attachments', { size: bytes.length, records: records.length });
  if (created.status !== 201) throw new Error(`upload create failed: ${created.status} ${created.text}`);
  const id: string = created.body.id;
  const upTo = opts.upTo ?? records.length;
  for (let i = 0; i < upTo; i++) {
    const put = await as.putRecord(id, i, records[i]);
    if (put.status !== 200) throw new Error(`record ${i} failed: ${put.status} ${put.text}`);
  }
  if (upTo === records.length && opts.close !== false) {
    const closed = await as.post(`/api/survivor/attachments/${id}/close`);
    if (closed.status !== 200) throw new Error(`close failed: ${closed.status} ${closed.text}`);
  }
  return { id, records, manifest: makeManifest({ id, name: 'evidence-1', type: 'image/png', size: bytes.length }, key) };
}
