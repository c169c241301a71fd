/**
 * Erasure as an attacker who copies the database sees it (issue 10; SECURITY.md "Addresses"
 * and "Erasure"). On SQLite the file and its write-ahead log are read as raw bytes, so
 * deleted rows whose bytes are still there count as found, and an erasure must leave the WAL
 * empty. On PostgreSQL (TEST_DATABASE_URL) what is read is every table and a pg_dump
 * (test/support/database-files.ts), and an erasure must have vacuumed the tables it emptied;
 * its data files are not read (SECURITY.md says what VACUUM leaves in them).
 *
 * - Rate-limit counters: behind a trusted proxy, clients from one /24 make requests; the
 *   attacker tries every address of that /24 against the files with every secret the database
 *   holds, and finds none. On PostgreSQL, with the address key file too, they find exactly the
 *   clients of the current minute (the control that shows the search works); after the sweep,
 *   not even that. On SQLite the counters are in the server's memory and never in the files,
 *   so even the key file finds nothing (the control: the keys it derives are the ones held).
 * - The sweeper's other erasures: expired challenges, stale uploads, ended staff sessions
 *   (their reload keys) and invites that expired unused leave no bytes behind; and a part of
 *   the sweep that fails stops only itself.
 * (Withdrawal and "delete everything": test/integration/publishing.test.ts; a removed
 * member's keys: test/integration/threads.test.ts.)
 */
import fs from 'node:fs';
import request from 'supertest';
import nacl from 'tweetnacl';
import { fromBase64url, RECORD_BYTES, toBase64url, utcDay } from '../../protocol';
import { loadAddressKey } from '../../server/config';
import { hashAddress, identityHash } from '../../server/http/rate-limit';
import { hashToken, hmac } from '../../server/http/tokens';
import { openDatabase } from '../../server/db/database';
import { sweepExpired, type Swept } from '../../server/sweeper';
import { foundInDatabase, storedBytes, walSize } from '../support/database-files';
import { interleave } from '../support/interleave';
import {
  asSurvivor,
  makeTestServer,
  registerSurvivor,
  secondInstance,
  setupAdmin,
  signIn,
  TEST_ENGINE,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';

/** The range the attacker searches (a /24, as a city's or a campus's network), and the clients in it. */
const RANGE = Array.from({ length: 256 }, (_, i) => `203.0.113.${i}`);
const CLIENTS = ['203.0.113.7', '203.0.113.77', '203.0.113.200'];

let t: TestServer;
let survivor: SurvivorActor;
let admin: StaffActor;

beforeAll(async () => {
  t = await makeTestServer({ TRUST_PROXY_HOPS: '1' });
  for (const address of CLIENTS) {
    for (let i = 0; i < 3; i++) expect((await request(t.app).get('/api/instance').set('X-Forwarded-For', address)).status).toBe(200);
    expect((await request(t.app).post('/api/pow').set('X-Forwarded-For', address).send({})).status).toBe(200);
  }
  // A survivor's record upload: counted against her own (hashed) id rather than an address.
  survivor = await registerSurvivor(t);
  await uploadFile(t, survivor, nacl.randomBytes(100));
});
afterAll(() => t.close());

/** Every string the database's instance row holds (its id, the server secret, ...): whatever secret a thief finds there. */
async function secretsInDatabase(): Promise<string[]> {
  const row: Record<string, unknown> = await t.db('instance').first();
  return Object.values(row).filter((v): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{16,}$/.test(v));
}

/** The counter keys an attacker derives from a candidate secret: the derivation before issue 10, and today's. */
function addressCandidates(secret: string, address: string): string[] {
  return [toBase64url(hmac(secret, 'address', utcDay(), address)).slice(0, 32), hashAddress(secret, address, utcDay())];
}
function survivorCandidates(secret: string, survivorId: string): string[] {
  return [
    toBase64url(hmac(secret, 'identity', utcDay(), 'survivor', survivorId)).slice(0, 32),
    identityHash(secret, 'survivor', survivorId, utcDay()),
  ];
}

/** The addresses of RANGE whose counter key, derived with one of these secrets, is in the files. */
async function searchAddresses(secrets: string[]): Promise<string[]> {
  const bytes = await storedBytes(t);
  return RANGE.filter((address) => secrets.some((s) => addressCandidates(s, address).some((key) => bytes.includes(Buffer.from(key)))));
}
async function searchSurvivors(secrets: string[]): Promise<string[]> {
  const bytes = await storedBytes(t);
  const ids: string[] = (await t.db('survivors').select('id')).map((r: { id: string }) => r.id);
  return ids.filter((id) => secrets.some((s) => survivorCandidates(s, id).some((key) => bytes.includes(Buffer.from(key)))));
}

const addressKey = () => loadAddressKey(t.ctx.config.addressKeyFile);

/** The counters' keys, where the server keeps them: the database on PostgreSQL, its memory on SQLite. */
const counterKeys = async () => (await t.ctx.rateLimits.rows()).map((r) => r.key);

/** How many times PostgreSQL has vacuumed a table (VACUUM reports it to the statistics at once). */
async function vacuumCount(table: string): Promise<number> {
  const { rows } = await t.db.raw('SELECT vacuum_count AS n FROM pg_stat_user_tables WHERE relname = ? AND schemaname = current_schema()', [
    table,
  ]);
  return Number(rows[0].n);
}

/**
 * Runs an erasure and checks that the engine's flush followed it: on SQLite the WAL is empty
 * (its pages, the erased rows' old versions among them, were checkpointed into the zeroed
 * main file); on PostgreSQL the emptied table was vacuumed.
 */
async function flushedAfter<T>(table: string, erasure: () => Promise<T>): Promise<T> {
  const before = TEST_ENGINE === 'pg' ? await vacuumCount(table) : 0;
  const out = await erasure();
  if (TEST_ENGINE === 'pg') expect(await vacuumCount(table)).toBeGreaterThan(before);
  else expect(walSize(t.dbFile)).toBe(0);
  return out;
}

describe('rate-limit counters', () => {
  test('the address key is in a file of mode 0600 beside the database, and neither it nor the addresses are in the database', async () => {
    expect(t.ctx.config.addressKeyFile).toBe(`${t.dir}/address.key`);
    expect(fs.statSync(t.ctx.config.addressKeyFile).mode & 0o777).toBe(0o600);
    expect(await foundInDatabase(t, [addressKey(), fromBase64url(addressKey()), ...CLIENTS])).toEqual([]);
  });

  test('with the database file and its WAL, and any secret the database holds, no address of the range is recovered', async () => {
    const secrets = await secretsInDatabase();
    expect(secrets).toContain((await t.db('instance').first()).fake_salt_key);
    // The counters are there to attack: one per client and limiter, and the survivor's.
    const keys = await counterKeys();
    expect(keys.filter((k) => k.startsWith('all:')).length).toBeGreaterThanOrEqual(CLIENTS.length);
    expect(keys.some((k) => k.startsWith('records:s.'))).toBe(true);

    expect(await searchAddresses(secrets)).toEqual([]);
    expect(await searchSurvivors(secrets)).toEqual([]);
  });

  if (TEST_ENGINE === 'pg')
    test('with the address key file as well, the same search finds exactly the clients of the current minute', async () => {
      // The control: it shows the search works, and what a thief holding both files gets.
      expect(await searchAddresses([addressKey()])).toEqual(CLIENTS);
      const [{ id }] = await t.db('survivors').select('id');
      expect(await searchSurvivors([addressKey()])).toEqual([id]);
    });
  else
    test("with the address key file as well, the search finds nothing: the counters are in the server's memory, and they are exactly the keys it looks for", async () => {
      expect(await searchAddresses([addressKey()])).toEqual([]);
      expect(await searchSurvivors([addressKey()])).toEqual([]);
      // The control: the keys the search derives with the key file are the counters the server
      // holds, so it would find them in the files if they were there.
      const held = new Set((await counterKeys()).map((k) => k.replace(/^[a-z]+:(?:[st]\.)?/, '')));
      expect(RANGE.filter((address) => addressCandidates(addressKey(), address).some((k) => held.has(k)))).toEqual(CLIENTS);
      const [{ id }] = await t.db('survivors').select('id');
      expect(survivorCandidates(addressKey(), id).some((k) => held.has(k))).toBe(true);
    });

  test("a sweep before the counters' window ends keeps every one of them: the limits count until then", async () => {
    const rows = await t.ctx.rateLimits.rows();
    const firstEnd = Math.min(...rows.map((r) => r.resetAt));
    expect((await sweepExpired(t.ctx, firstEnd - 1)).counters).toBe(0);
    expect(await t.ctx.rateLimits.rows()).toHaveLength(rows.length);
  });

  test('once the minute is over, the sweep erases every counter: neither search finds anything in the main file or the WAL', async () => {
    const keys = await counterKeys();
    // On PostgreSQL the counters are rows; on SQLite they never reach the file.
    expect(await foundInDatabase(t, keys)).toEqual(TEST_ENGINE === 'pg' ? keys : []);
    // Windows end at the next clock minute; the sweeper runs a second after it.
    const swept = await flushedAfter('rate_limits', () => sweepExpired(t.ctx, Math.ceil((Date.now() + 1) / 60_000) * 60_000 + 1_000));
    expect(swept.counters).toBe(keys.length);
    expect(await t.ctx.rateLimits.rows()).toEqual([]);
    expect(await t.db('rate_limits').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await foundInDatabase(t, keys)).toEqual([]);
    expect(await searchAddresses([addressKey(), ...(await secretsInDatabase())])).toEqual([]);
    expect(await searchSurvivors([addressKey()])).toEqual([]);
  });
});

describe("the sweeper's other erasures", () => {
  test('expired challenges leave no bytes behind', async () => {
    const issued: string[] = [];
    for (let i = 0; i < 3; i++) issued.push((await request(t.app).post('/api/pow').send({})).body.challenge);
    expect(await foundInDatabase(t, issued)).toEqual(issued);
    // Not yet expired: kept.
    expect((await sweepExpired(t.ctx)).challenges).toBe(0);
    expect(await foundInDatabase(t, issued)).toEqual(issued);
    const swept = await flushedAfter('challenges', () => sweepExpired(t.ctx, Date.now() + 24 * 3_600_000));
    expect(swept.challenges).toBeGreaterThanOrEqual(issued.length);
    expect(await t.db('challenges').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await foundInDatabase(t, issued)).toEqual([]);
  });

  test("an upload no message carried is erased after two days, its sealed records' bytes with it", async () => {
    const stale = await uploadFile(t, survivor, nacl.randomBytes(2 * RECORD_BYTES + 10));
    const kept = await uploadFile(t, survivor, nacl.randomBytes(RECORD_BYTES));
    // 48-byte slices from every few KiB of each record: most of them lie within one page.
    const slices = (records: Uint8Array[]) =>
      records
        .flatMap((r) => Array.from({ length: Math.ceil(r.length / 4096) }, (_, i) => r.subarray(i * 4096 + 100, i * 4096 + 148)))
        .filter((s) => s.length === 48);
    const staleSlices = slices(stale.records);
    expect(staleSlices.length).toBeGreaterThan(30);
    expect((await foundInDatabase(t, staleSlices)).length).toBeGreaterThan(staleSlices.length * 0.8);
    const threeDaysAgo = utcDay(new Date(Date.now() - 3 * 86_400_000));
    await t.db('attachments').where({ id: stale.id }).update({ created_day: threeDaysAgo });

    expect((await flushedAfter('attachment_records', () => sweepExpired(t.ctx))).uploads).toBe(1);
    expect(await foundInDatabase(t, staleSlices)).toEqual([]);
    // The other upload, not stale, is untouched.
    const keptSlices = slices(kept.records);
    expect((await foundInDatabase(t, keptSlices)).length).toBeGreaterThan(keptSlices.length * 0.8);
    expect((await asSurvivor(t, survivor).get(`/api/survivor/attachments/${stale.id}`)).status).toBe(404);
    expect((await asSurvivor(t, survivor).get(`/api/survivor/attachments/${kept.id}`)).status).toBe(200);
  });

  test('many stale uploads are erased in batches, one transaction each, all of them', async () => {
    const stale = [];
    for (let i = 0; i < 3; i++) stale.push(await uploadFile(t, survivor, nacl.randomBytes(RECORD_BYTES)));
    const threeDaysAgo = utcDay(new Date(Date.now() - 3 * 86_400_000));
    await t
      .db('attachments')
      .whereIn(
        'id',
        stale.map((u) => u.id),
      )
      .update({ created_day: threeDaysAgo });
    const batches = jest.spyOn(t.ctx.repos.attachments, 'deleteStale');
    try {
      // A budget below two uploads' bytes: one upload per batch.
      const swept = await sweepExpired(t.ctx, Date.now(), { uploadBatch: { uploads: 64, bytes: RECORD_BYTES + 1 } });
      expect(swept.uploads).toBe(3);
      expect(batches.mock.calls.length).toBe(3);
    } finally {
      batches.mockRestore();
    }
    expect(
      await t.db('attachments').whereIn(
        'id',
        stale.map((u) => u.id),
      ),
    ).toEqual([]);
  });

  test("a staff session past its idle timeout is erased, its reload key's bytes with it", async () => {
    admin = await setupAdmin(t);
    const key: string = (await admin.agent.post('/api/staff/session/key').send({})).body.key;
    expect(await foundInDatabase(t, [key])).toEqual([key]);
    // Not yet ended: kept.
    expect((await sweepExpired(t.ctx, t.clock.now() + 29 * 60_000)).sessions).toBe(0);
    expect(await foundInDatabase(t, [key])).toEqual([key]);
    const swept = await flushedAfter('staff_sessions', () => sweepExpired(t.ctx, t.clock.now() + 31 * 60_000));
    expect(swept.sessions).toBe(1);
    expect(await t.db('staff_sessions').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await foundInDatabase(t, [key])).toEqual([]);
  });

  test('an invite that expired unused is erased, its token hash and its maker with it; a pending one and a used one stay', async () => {
    admin = { ...admin, agent: await signIn(t, admin) };
    const make = async () => {
      const made = await admin.agent.post('/api/staff/invites').send({ roles: ['advocate'] });
      expect(made.status).toBe(201);
      return hashToken(String(made.body.url).split('#')[1]);
    };
    const [expired, used, pending] = [await make(), await make(), await make()];
    const past = t.clock.now() - 1;
    await t.db('staff_invites').whereIn('token_hash', [expired, used]).update({ expires_at: past });
    // Stands for an enrolment: a used invite keeps the roles its member was invited with.
    await t.db('staff_invites').where({ token_hash: used }).update({ used_by: admin.staffId });
    expect(await foundInDatabase(t, [expired, used, pending])).toEqual([expired, used, pending]);
    const swept = await flushedAfter('staff_invites', () => sweepExpired(t.ctx, t.clock.now()));
    expect(swept.invites).toBe(1);
    expect((await t.db('staff_invites').select('token_hash')).map((r: { token_hash: string }) => r.token_hash).sort()).toEqual(
      [used, pending].sort(),
    );
    expect(await foundInDatabase(t, [expired, used, pending])).toEqual([used, pending]);
  });
});

// Each part of the sweep runs in its own transaction: a table made unreadable (a real failure
// of the real database, as a lock, a deadlock or a bad row would be) stops only its part.
describe('when a part of the sweep fails', () => {
  const failedLines = () => t.logs.filter((l) => l.startsWith('sweeper:'));
  async function withTableAway<T>(table: string, work: () => Promise<T>): Promise<T> {
    await t.db.schema.renameTable(table, `${table}_away`);
    try {
      return await work();
    } finally {
      await t.db.schema.renameTable(`${table}_away`, table);
    }
  }

  test('the purges still erase counters and challenges when uploads and retention fail; the log names the code, no value', async () => {
    t.logs.length = 0;
    await request(t.app).get('/api/instance').set('X-Forwarded-For', CLIENTS[0]);
    const issued: string = (await request(t.app).post('/api/pow').send({})).body.challenge;
    expect(await counterKeys()).not.toEqual([]);
    const swept = await withTableAway('attachments', () => sweepExpired(t.ctx, Date.now() + 24 * 3_600_000));
    expect(swept.failed).toEqual(['uploads', 'retention']);
    expect(swept.challenges).toBeGreaterThanOrEqual(1);
    expect(swept.counters).toBeGreaterThanOrEqual(1);
    expect(await counterKeys()).toEqual([]);
    expect(await foundInDatabase(t, [issued])).toEqual([]);
    const code = TEST_ENGINE === 'pg' ? '42P01 error' : 'SQLITE_ERROR Error';
    expect(failedLines()).toEqual([
      `sweeper: erasing uploads failed (${code}); the next sweep tries again`,
      `sweeper: erasing retention failed (${code}); the next sweep tries again`,
    ]);
  });

  test('stale uploads and retention are still erased when a purge fails', async () => {
    t.logs.length = 0;
    const stale = await uploadFile(t, survivor, nacl.randomBytes(100));
    await t
      .db('attachments')
      .where({ id: stale.id })
      .update({ created_day: utcDay(new Date(Date.now() - 3 * 86_400_000)) });
    const swept = await withTableAway('challenges', () => sweepExpired(t.ctx));
    expect(swept.failed).toEqual(['challenges']);
    expect(swept.uploads).toBe(1);
    expect(swept.retention).toEqual({ cases: 0, accounts: 0 });
    expect(await t.db('attachments').where({ id: stale.id }).first()).toBeUndefined();
    expect(failedLines()).toEqual([
      `sweeper: erasing challenges failed (${TEST_ENGINE === 'pg' ? '42P01 error' : 'SQLITE_ERROR Error'}); the next sweep tries again`,
    ]);
    expect((await sweepExpired(t.ctx)).failed).toEqual([]);
  });
});

// SQLite only: another process's read snapshot stops the WAL from being emptied, which the
// erasure reports and the next sweep makes good. PostgreSQL has no such step to fail: its
// VACUUM does not wait for readers (the rows they can still see wait for a later VACUUM:
// SECURITY.md), so there the erasure answers, logs nothing, and later readers find nothing.
// Each engine's test is defined only when the suite runs on that engine.
if (TEST_ENGINE === 'sqlite') {
  describe('when another process reads the SQLite file', () => {
    test('the erasure still answers and says in the log that a copy may remain; the next sweep removes it', async () => {
      const issued: string = (await request(t.app).post('/api/pow').send({})).body.challenge;
      // Another connection (a sqlite3 shell, a backup) holds a read snapshot: the WAL cannot be emptied meanwhile.
      const reader = openDatabase({ client: 'sqlite', filename: t.dbFile });
      await t.db.raw('PRAGMA busy_timeout = 50'); // the server waits 5 s per try; a test need not
      try {
        await reader.transaction(async (trx) => {
          await trx('instance').first();
          const swept = await sweepExpired(t.ctx, Date.now() + 24 * 3_600_000);
          expect(swept.challenges).toBe(1);
          expect(t.logs.filter((l) => l.startsWith('erasure:'))).toEqual([
            'erasure: erased rows may still have a copy in the database files (SQLite: another process was reading it); the sweeper tries again within a minute',
          ]);
          expect(walSize(t.dbFile)).toBeGreaterThan(0);
          expect(await foundInDatabase(t, [issued])).toEqual([issued]);
        });
      } finally {
        await reader.destroy();
        await t.db.raw('PRAGMA busy_timeout = 5000');
      }
      await sweepExpired(t.ctx);
      expect(walSize(t.dbFile)).toBe(0);
      expect(await foundInDatabase(t, [issued])).toEqual([]);
      expect(t.logs.filter((l) => l.startsWith('erasure:'))).toHaveLength(1);
    });
  });
} else {
  describe('when another session reads the PostgreSQL database', () => {
    test('the erasure answers while a reader holds an older snapshot, logs nothing, and a dump made afterwards holds nothing', async () => {
      const issued: string = (await request(t.app).post('/api/pow').send({})).body.challenge;
      // Another session (a pg_dump, another instance's long request) in a repeatable-read snapshot that saw the challenge.
      const reader = openDatabase({ client: 'pg', url: t.databaseUrl });
      try {
        await reader.transaction(
          async (trx) => {
            expect(await trx('challenges').where({ challenge: issued }).first()).toBeDefined();
            const swept = await flushedAfter('challenges', () => sweepExpired(t.ctx, Date.now() + 24 * 3_600_000));
            expect(swept.challenges).toBe(1);
            // MVCC: the reader's snapshot still sees the row; nobody else does.
            expect(await trx('challenges').where({ challenge: issued }).first()).toBeDefined();
            expect(await foundInDatabase(t, [issued])).toEqual([]);
          },
          { isolationLevel: 'repeatable read' },
        );
      } finally {
        await reader.destroy();
      }
      expect(t.logs.filter((l) => l.startsWith('erasure:'))).toEqual([]);
      expect(await foundInDatabase(t, [issued])).toEqual([]);
    });
  });

  describe('two instances sweeping at once', () => {
    test("while one erases uploads, the other's sweep purges what is due, skips the heavy part instead of waiting for its rows, and fails nowhere", async () => {
      const other = await secondInstance(t);
      try {
        const stale = await uploadFile(t, survivor, nacl.randomBytes(100));
        await t
          .db('attachments')
          .where({ id: stale.id })
          .update({ created_day: utcDay(new Date(Date.now() - 3 * 86_400_000)) });
        const issued: string = (await request(t.app).post('/api/pow').send({})).body.challenge;
        let meanwhile: Swept | undefined;
        // The first instance has deleted the upload, its transaction still open, when the other sweeps.
        interleave(t.ctx.repos.attachments, 'deleteStale', async () => {
          meanwhile = await sweepExpired(other.ctx, Date.now() + 24 * 3_600_000);
        });
        const first = await sweepExpired(t.ctx);
        expect(first).toMatchObject({ uploads: 1, failed: [] });
        expect(meanwhile).toMatchObject({ uploads: 0, retention: { cases: 0, accounts: 0 }, failed: [] });
        expect(meanwhile!.challenges).toBeGreaterThanOrEqual(1);
        expect(await foundInDatabase(t, [issued])).toEqual([]);
        expect(await t.db('attachments').where({ id: stale.id }).first()).toBeUndefined();
      } finally {
        jest.restoreAllMocks();
        await other.close();
      }
    });
  });
}
