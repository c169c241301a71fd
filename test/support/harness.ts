/**
 * Test harness: a real app on a real SQLite file in a temporary folder, with real argon2 and
 * real tweetnacl, and helpers that play the admin's, a moderator's and a survivor's browsers
 * with the same protocol/ code the pages use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  generateCodename,
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
  type Envelope,
  type KeyPairs,
  type SignedKeyset,
  type StaffRole,
} from '../../protocol';
import { createApp, type AppContext } from '../../server/app';
import { loadConfig } from '../../server/config';
import { migrate, openDatabase, type Db } from '../../server/db/database';
import { issueSetupLink } from '../../server/setup-link';

export const ROOT = path.resolve(__dirname, '../..');
export const CLIENT_DIR = path.join(ROOT, 'dist/client');

export interface TestServer {
  app: Parameters<typeof request>[0];
  ctx: AppContext;
  db: Db;
  dir: string;
  dbFile: string;
  logs: string[];
  close(): Promise<void>;
}

export async function makeTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-test-'));
  const config = loadConfig({ DATA_DIR: dir, POW_BITS: '2', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_SENSITIVE_PER_MINUTE: '100000', ...env });
  const db = openDatabase(config.database);
  await migrate(db);
  const logs: string[] = [];
  const { app, ctx } = await createApp({ db, config, clientDir: CLIENT_DIR, log: (l) => logs.push(l) });
  return {
    app,
    ctx,
    db,
    dir,
    dbFile: config.database.client === 'sqlite' ? config.database.filename : '',
    logs,
    async close() {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every table's rows except rate-limit counters, to prove a rejected request wrote nothing. */
export async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of ['instance', 'staff', 'staff_invites', 'staff_sessions', 'keysets', 'survivors', 'cases', 'envelopes', 'challenges']) {
    out[table] = await db(table).select();
  }
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
}

async function staffMaterial(username: string, password: string, instance?: nacl.SignKeyPair) {
  const box = nacl.box.keyPair();
  const sign = nacl.sign.keyPair();
  const salt = nacl.randomBytes(16);
  const { wrapKey, authKey } = await staffSecrets(password, salt, STAFF_KDF);
  const wrappedKeys = wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey, instanceSecretKey: instance?.secretKey }, wrapKey);
  return {
    box,
    sign,
    material: { username, kdf: { params: STAFF_KDF, salt: toBase64url(salt) }, authKey: toBase64url(authKey), boxPk: toBase64url(box.publicKey), signPk: toBase64url(sign.publicKey), wrappedKeys },
  };
}

export async function setupAdmin(t: TestServer, roles: StaffRole[] = ['admin', 'moderator']): Promise<StaffActor> {
  const link = await issueSetupLink(t.ctx.repos.instance, 'http://test');
  const setupToken = link.split('#')[1];
  const instance = nacl.sign.keyPair();
  const staffId = randomId();
  const password = 'admin password for tests';
  const { box, sign, material } = await staffMaterial('admin', password, instance);
  const keyset = signKeyset(
    { v: 1, instanceId: t.ctx.instanceId, version: 1, prev: null, issuedDay: utcDay(), members: [{ staffId, username: 'admin', roles, boxPk: material.boxPk, signPk: material.signPk }] },
    instance,
  );
  const agent = request.agent(t.app);
  const res = await agent.post('/api/setup').send({ setupToken, staffId, roles, keyset, ...material });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { agent, staffId, username: 'admin', roles, password, box, sign, instance };
}

export async function currentKeyset(t: TestServer): Promise<SignedKeyset> {
  return (await request(t.app).get('/api/instance')).body.keyset;
}

/** Admin invites, the new member enrols, the admin's browser signs the next keyset. */
export async function addStaff(t: TestServer, admin: StaffActor, username: string, role: StaffRole = 'moderator'): Promise<StaffActor> {
  const invite = await admin.agent.post('/api/staff/invites').send({ roles: [role] });
  if (invite.status !== 201) throw new Error(`invite failed: ${invite.status} ${JSON.stringify(invite.body)}`);
  const inviteToken = String(invite.body.url).split('#')[1];
  const password = `${username} password for tests`;
  const { box, sign, material } = await staffMaterial(username, password);
  const agent = request.agent(t.app);
  const enrol = await agent.post('/api/staff/enrol').send({ inviteToken, ...material });
  if (enrol.status !== 201) throw new Error(`enrol failed: ${enrol.status} ${JSON.stringify(enrol.body)}`);
  const current = await currentKeyset(t);
  const next = signKeyset(
    {
      v: 1,
      instanceId: t.ctx.instanceId,
      version: current.keyset.version + 1,
      prev: keysetHash(current.keyset),
      issuedDay: utcDay(),
      members: [...current.keyset.members, { staffId: enrol.body.id, username, roles: [role], boxPk: material.boxPk, signPk: material.signPk }],
    },
    admin.instance!,
  );
  const published = await admin.agent.post('/api/staff/keysets').send({ signed: next });
  if (published.status !== 201) throw new Error(`keyset failed: ${published.status} ${JSON.stringify(published.body)}`);
  return { agent, staffId: enrol.body.id, username, roles: [role], password, box, sign };
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
    .send({ signPk: toBase64url(keys.sign.publicKey), boxPk: toBase64url(keys.box.publicKey), pow: p, sig: toBase64url(signLogin(t.ctx.instanceId, p.challenge, keys.sign.secretKey)) });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { codename, keys, token: res.body.token, handle: res.body.handle };
}

export function testimonyEnvelope(survivor: SurvivorActor, keyset: SignedKeyset, what: string, caseId = randomId()): Envelope {
  return sealEnvelope({
    kind: 'testimony',
    caseId,
    body: { testimony: { what, when: '2018', context: 'workplace', wantsReplies: true } },
    recipients: [survivor.keys.box.publicKey, ...readersOf(keyset.keyset)],
    signer: survivor.keys.sign,
  });
}

export async function submitTestimony(t: TestServer, survivor: SurvivorActor, what: string) {
  const keyset = await currentKeyset(t);
  const envelope = testimonyEnvelope(survivor, keyset, what);
  const res = await request(t.app)
    .post('/api/survivor/cases')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ envelope, keysetVersion: keyset.keyset.version, pow: await pow(t) });
  return { res, envelope };
}
