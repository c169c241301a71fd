/**
 * The address search of issue 10 against a real server process (dist/server/main.js, as
 * `npm start` runs it) behind one trusted proxy hop: clients of one /24 make requests; an
 * attacker copies the database file and its WAL, pulls every rate-limit key out of the raw
 * bytes (deleted rows included), takes every 32-byte secret the files hold, and tries every
 * address of the /24. On PostgreSQL (TEST_DATABASE_URL) the attacker's copy is every table
 * and a pg_dump (test/support/database-files.ts says why not the server's data files). They find none. On PostgreSQL the same search with the address key file finds the
 * clients of the current minute, and nothing once the server's own sweeper has run after that
 * minute; on SQLite the counters stay in the server's memory, and the files hold none at all.
 * A key file that group or others may read stops the server at start; on SQLite the database
 * files are mode 0600 and a second server on the same DATA_DIR is refused.
 * No browser: this test needs only the server.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { utcDay, toBase64url } from '../../protocol';
import { hashAddress } from '../../server/http/rate-limit';
import { hmac } from '../../server/http/tokens';
import { openDatabase, rowsOf, type Db } from '../../server/db/database';
import { ROOT, startServer, type RunningServer } from './support';

const RANGE = Array.from({ length: 256 }, (_, i) => `198.51.100.${i}`);
const CLIENTS = ['198.51.100.4', '198.51.100.99', '198.51.100.250'];

/** What the attacker reads out of the copy's raw bytes: every counter key, and every value that could be a secret. */
async function loot(server: RunningServer): Promise<{ keys: Set<string>; secrets: string[] }> {
  const text = (await server.storedBytes()).toString('latin1');
  const keys = new Set([...text.matchAll(/(?:all|sensitive|records):(?:[st]\.)?([A-Za-z0-9_-]{32})/g)].map((m) => m[1]));
  const secrets = [...new Set([...text.matchAll(/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g)].map((m) => m[0]))];
  return { keys, secrets };
}

/**
 * Every 32-byte value (43 base64url characters) that any cell of any table holds, as the
 * attacker reads them from a copy of the files (SQLite) or of the database (PostgreSQL); the
 * instance row's fake-salt key (what is left of the server secret, migrations/014) among them.
 */
async function cellSecrets(server: RunningServer): Promise<{ all: string[]; fakeSaltKey: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-stolen-'));
  let db: Db;
  if (server.database.client === 'pg') {
    db = server.openDb();
  } else {
    for (const suffix of ['', '-wal'])
      if (fs.existsSync(server.dbFile + suffix)) fs.copyFileSync(server.dbFile + suffix, path.join(dir, `stolen.sqlite3${suffix}`));
    db = openDatabase({ client: 'sqlite', filename: path.join(dir, 'stolen.sqlite3') });
  }
  try {
    const tables = rowsOf<{ name: string }>(
      await db.raw(
        server.database.client === 'pg'
          ? 'SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()'
          : "select name from sqlite_master where type = 'table'",
      ),
    );
    const all = new Set<string>();
    for (const { name } of tables) {
      for (const row of (await db(name).select()) as Record<string, unknown>[]) {
        for (const v of Object.values(row)) if (typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v)) all.add(v);
      }
    }
    return { all: [...all], fakeSaltKey: (await db('instance').first()).fake_salt_key };
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The addresses of the range whose counter key, under one of these secrets, is among the keys. */
function recover(keys: Set<string>, secrets: string[]): string[] {
  const day = utcDay();
  return RANGE.filter((address) =>
    secrets.some(
      (secret) => keys.has(toBase64url(hmac(secret, 'address', day, address)).slice(0, 32)) || keys.has(hashAddress(secret, address, day)),
    ),
  );
}

describe('the address search against a running server (TRUST_PROXY_HOPS=1)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ TRUST_PROXY_HOPS: '1' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("the database files give no address; with the key file they give this minute's clients, and after the sweep nothing", async () => {
    const keyFile = path.join(server.dataDir, 'address.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(server.output()).toContain(`Address key: ${keyFile}`);
    const addressKey = fs.readFileSync(keyFile, 'utf8').trim();

    for (const address of CLIENTS) {
      const remaining: number[] = [];
      for (const route of ['/api/instance', '/', '/api/keysets']) {
        const res = await fetch(`${server.url}${route}`, { headers: { 'X-Forwarded-For': address } });
        expect({ address, route, status: res.status }).toEqual({ address, route, status: 200 });
        remaining.push(Number(/r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]));
      }
      // The limiter counts each client on its own (wherever it keeps the counts).
      expect(remaining).toEqual([remaining[0], remaining[0] - 1, remaining[0] - 2]);
      const pow = await fetch(`${server.url}/api/pow`, {
        method: 'POST',
        headers: { 'X-Forwarded-For': address, 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(pow.status).toBe(200);
    }

    const { keys, secrets: rawSecrets } = await loot(server);
    const cells = await cellSecrets(server);
    const secrets = [...new Set([...rawSecrets, ...cells.all])];
    expect(secrets).toContain(cells.fakeSaltKey);
    expect(secrets).not.toContain(addressKey);
    // Nor the key that signs survivor tokens (SERVER_KEY_FILE, made beside the address key).
    const serverKeyFile = path.join(server.dataDir, 'server.key');
    expect(fs.statSync(serverKeyFile).mode & 0o777).toBe(0o600);
    expect(server.output()).toContain(`Server key: ${serverKeyFile}`);
    expect(secrets).not.toContain(fs.readFileSync(serverKeyFile, 'utf8').trim());
    if (server.database.client === 'sqlite') {
      // On SQLite the counters live in the server process (server/db/rate-limit-store.ts): the
      // files hold none, so even the key file recovers nothing. (The integration test
      // test/integration/erasure.test.ts checks that the keys this search derives are the ones
      // the process holds.)
      expect(keys.size).toBe(0);
      expect(recover(keys, [addressKey])).toEqual([]);
      return;
    }
    // The counters are there (one hash per client, behind both the general and the sensitive limiter's name).
    expect(keys.size).toBeGreaterThanOrEqual(CLIENTS.length);
    expect(recover(keys, secrets)).toEqual([]);
    // The control: with the key file, the same search finds exactly the clients of this minute.
    expect(recover(keys, [addressKey])).toEqual(CLIENTS);

    // The server's sweeper runs a second after the minute ends: then no key is left in the files.
    const deadline = Date.now() + 75_000;
    let left = recover((await loot(server)).keys, [addressKey]);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      left = recover((await loot(server)).keys, [addressKey]);
    }
    expect(left).toEqual([]);
    expect((await loot(server)).keys.size).toBe(0);
    // PostgreSQL's WAL keeps erased rows until its segments are recycled (SECURITY.md "What
    // "deleted" means on PostgreSQL"), so no claim is made about it here.
  }, 120_000);

  test("SQLite: the database files are the server user's alone, and a second server on the same DATA_DIR is refused, naming it", async () => {
    // On PostgreSQL the database is not in DATA_DIR, and several servers may share it (README "On PostgreSQL").
    if (server.database.client !== 'sqlite') return;
    for (const file of [server.dbFile, `${server.dbFile}-wal`, `${server.dbFile}-shm`, path.join(server.dataDir, 'awaaz.lock')])
      expect({ file, mode: (fs.statSync(file).mode & 0o777).toString(8) }).toEqual({ file, mode: '600' });
    const second = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const env = { PATH: process.env.PATH, DATA_DIR: server.dataDir, PORT: '0', HOST: '127.0.0.1' };
        // Were it not refused, it would serve: the timeout ends it, and the exit code is not 1.
        execFile(process.execPath, [path.join(ROOT, 'dist/server/main.js')], { env, timeout: 15_000 }, (error, _out, err) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, err }),
        );
      });
    const running = await second();
    expect(running.err).toContain(`DATA_DIR: another Awaaz server (process `);
    expect(running.err).toContain(`runs on ${server.dataDir}: stop it first`);
    expect(running.code).toBe(1);
    fs.chmodSync(server.dataDir, 0o755);
    try {
      const open = await second();
      expect(open.err).toContain(`DATA_DIR: ${server.dataDir} is open to group or others (mode 0755); run \`chmod 700 ${server.dataDir}\``);
      expect(open.code).toBe(1);
    } finally {
      fs.chmodSync(server.dataDir, 0o700);
    }
    // The first server still serves.
    expect((await fetch(`${server.url}/api/instance`)).status).toBe(200);
  }, 40_000);
});

test.each(['ADDRESS_KEY_FILE', 'SERVER_KEY_FILE'])(
  '%s: a key file that group or others may read stops the server at start, naming it',
  async (variable) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-key-'));
    const keyFile = path.join(dir, 'some.key');
    fs.writeFileSync(keyFile, `${Buffer.alloc(32, 9).toString('base64url')}\n`, { mode: 0o644 });
    fs.chmodSync(keyFile, 0o644);
    try {
      await expect(startServer({ [variable]: keyFile })).rejects.toThrow(`${variable}: ${keyFile} is open to group or others (mode 0644)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
