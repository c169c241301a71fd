/**
 * The server key (SECURITY.md "Threat model", a database thief): survivor tokens and staff
 * sign-in tickets are signed with the key in SERVER_KEY_FILE, never with anything the database
 * holds. Before, they were signed with `instance.server_secret`: anyone with a copy of the
 * database could make a token for any survivor and, on the live server, erase everything she
 * sent. These tests play that thief against the real app, on either engine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import nacl from 'tweetnacl';
import { DELETE_EVERYTHING_CONFIRMATION, randomId, toBase64url } from '../../protocol';
import { createApp } from '../../server/app';
import { loadConfig, loadServerKey } from '../../server/config';
import { openDatabase, type Db } from '../../server/db/database';
import { hmac, issueSignInTicket, issueSurvivorToken } from '../../server/http/tokens';
import { migrationSource } from '../../migrations';
import { freshPostgresDatabase } from '../support/postgres';
import {
  asSurvivor,
  CLIENT_DIR,
  loginBody,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  snapshot,
  submitTestimony,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';

/** Every cell of every table that could be a 32-byte key (43 base64url characters): what a thief would try first. */
async function keyShapedCells(db: Db): Promise<string[]> {
  const cells = Object.values(await snapshot(db)).flatMap((rows) => rows.flatMap((row) => Object.values(row as object)));
  return [...new Set(cells.filter((v): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v)))];
}

/** A thief's request: "delete everything" for `survivorId`, with a token signed by `secret`. */
function deleteEverythingAs(t: TestServer, secret: string, survivorId: string) {
  return request(t.app)
    .post('/api/survivor/delete-everything')
    .set('Authorization', `Bearer ${issueSurvivorToken(secret, survivorId, 30 * 60_000, t.clock.now())}`)
    .send({ confirm: DELETE_EVERYTHING_CONFIRMATION });
}

async function onlySurvivorId(t: TestServer): Promise<string> {
  const rows: { id: string }[] = await t.db('survivors').select('id');
  expect(rows).toHaveLength(1);
  return rows[0].id;
}

/** The survivor's own token still opens her cases, and her testimony is there. */
async function expectIntact(t: TestServer, s: SurvivorActor): Promise<void> {
  const res = await asSurvivor(t, s).get('/api/survivor/cases');
  expect(res.status).toBe(200);
  expect(res.body.cases).toHaveLength(1);
}

describe('a copy of the database does not let anyone act as a survivor', () => {
  let t: TestServer;
  let admin: StaffActor;
  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t);
  });
  afterAll(async () => {
    await new Promise((resolve) => setTimeout(resolve, 50)); // staff sessions are touched after the response
    await t.close();
  });

  test('a token signed with anything the database holds is refused (401), and erases nothing; her own token still works', async () => {
    const s = await registerSurvivor(t);
    expect((await submitTestimony(t, s, 'not for a thief')).res.status).toBe(201);
    const survivorId = await onlySurvivorId(t);

    const candidates = await keyShapedCells(t.db);
    // What the instance row keeps (the fake-salt key, once the token secret) is among them.
    expect(candidates).toContain((await t.db('instance').first()).fake_salt_key);
    for (const secret of candidates) {
      const res = await deleteEverythingAs(t, secret, survivorId);
      expect({ secret, status: res.status, code: res.body.error?.code }).toEqual({ secret, status: 401, code: 'unauthorized' });
    }
    await expectIntact(t, s);

    // The real sign-in's token works on the same token-only route.
    expect((await asSurvivor(t, s).post('/api/survivor/delete-everything', { confirm: DELETE_EVERYTHING_CONFIRMATION })).status).toBe(204);
    expect(await t.db('survivors').count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });

  test('the key that signs tokens and sign-in tickets is the key file, mode 0600 beside the database, and no cell of the database holds it', async () => {
    expect(t.ctx.config.serverKeyFile).toBe(path.join(t.dir, 'server.key'));
    expect(fs.statSync(t.ctx.config.serverKeyFile).mode & 0o777).toBe(0o600);
    expect(t.ctx.serverSecret).toBe(loadServerKey(t.ctx.config.serverKeyFile));
    expect(JSON.stringify(await snapshot(t.db))).not.toContain(t.ctx.serverSecret);
    expect(t.ctx.fakeSaltKey).not.toBe(t.ctx.serverSecret);
  });

  test('a sign-in ticket signed with what the instance row holds counts as none; the real one works as before', async () => {
    t.clock.advance(30_000); // a TOTP step of its own
    const startedAt = t.clock.now();
    const { body, ticket } = await loginBody(t, admin);
    t.clock.advance(90_000); // a slow key derivation: the code is judged by the ticket's start, or refused
    const instanceRow: Record<string, unknown> = await t.db('instance').first();
    const forgers = Object.values(instanceRow).filter((v): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v));
    expect(forgers).toContain(instanceRow.fake_salt_key);
    for (const secret of forgers) {
      const forged = issueSignInTicket(secret, admin.username, startedAt);
      expect(
        (
          await request(t.app)
            .post('/api/staff/login')
            .send({ ...body, ticket: forged })
        ).status,
      ).toBe(401);
    }
    expect(
      (
        await request(t.app)
          .post('/api/staff/login')
          .send({ ...body, ticket })
      ).status,
    ).toBe(200);
  });

  test('a key file that group or others may read stops the start, naming SERVER_KEY_FILE', async () => {
    const file = path.join(t.dir, 'open.key');
    fs.writeFileSync(file, `${toBase64url(nacl.randomBytes(32))}\n`, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    await expect(createApp({ db: t.db, config: { ...t.ctx.config, serverKeyFile: file }, clientDir: CLIENT_DIR })).rejects.toThrow(
      `SERVER_KEY_FILE: ${file} is open to group or others (mode 0644)`,
    );
  });
});

test('the upgrade (migration 013_server_key_file): the old secret signs nothing any more, and unknown usernames keep their fake salts', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-upgrade-'));
  const pg = process.env.TEST_DATABASE_URL ? await freshPostgresDatabase(process.env.TEST_DATABASE_URL) : undefined;
  const env = { DATA_DIR: dir, ...(pg ? { DATABASE_URL: pg.url } : {}) };
  let t: TestServer | undefined;
  try {
    // A database as the version before this one left it, with its secret in the instance row.
    const before = openDatabase(loadConfig(env).database);
    const beforeServerKeyFile = {
      ...migrationSource,
      getMigrations: async () => (await migrationSource.getMigrations([])).filter((name) => name < '013'),
    };
    await before.migrate.latest({ migrationSource: beforeServerKeyFile });
    const oldSecret = toBase64url(nacl.randomBytes(32));
    await before('instance').insert({ id: 1, instance_id: randomId(), server_secret: oldSecret, created_day: '2026-11-01' });
    await before.destroy();

    t = await makeTestServer(env);
    const row = await t.db('instance').first();
    expect(row).not.toHaveProperty('server_secret');
    expect(row.fake_salt_key).toBe(oldSecret);

    // An unknown username's fake salt is what it was before the upgrade.
    const params = await request(t.app).post('/api/staff/login/params').send({ username: 'nobody.here' });
    expect(params.status).toBe(200);
    expect(params.body.kdf.salt).toBe(toBase64url(hmac(oldSecret, 'fake-salt', 'nobody.here').slice(0, 16)));

    // A token signed with the old secret (from a backup of before the upgrade) is refused.
    await setupAdmin(t);
    const s = await registerSurvivor(t);
    expect((await submitTestimony(t, s, 'kept')).res.status).toBe(201);
    expectStatus(await deleteEverythingAs(t, oldSecret, await onlySurvivorId(t)), 401);
    await expectIntact(t, s);
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t?.close();
    await pg?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function expectStatus(res: request.Response, status: number): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
}
