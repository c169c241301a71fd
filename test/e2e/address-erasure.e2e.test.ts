/**
 * The address search of issue 10 against a real server process (dist/server/main.js, as
 * `npm start` runs it) behind one trusted proxy hop: clients of one /24 make requests; an
 * attacker copies the database file and its WAL, pulls every rate-limit key out of the raw
 * bytes (deleted rows included), takes every 32-byte secret the files hold, and tries every
 * address of the /24. They find none. The same search with the address key file finds the
 * clients of the current minute, and nothing once the server's own sweeper has run after that
 * minute. A key file that group or others may read stops the server at start.
 * No browser: this test needs only the server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { utcDay, toBase64url } from '../../protocol';
import { hashAddress } from '../../server/http/rate-limit';
import { hmac } from '../../server/http/tokens';
import { openDatabase } from '../../server/db/database';
import { databaseBytes, walSize } from '../support/database-files';
import { startServer, type RunningServer } from './support';

const RANGE = Array.from({ length: 256 }, (_, i) => `198.51.100.${i}`);
const CLIENTS = ['198.51.100.4', '198.51.100.99', '198.51.100.250'];

/** What the attacker reads out of the files' raw bytes: every counter key, and every value that could be a secret. */
function loot(dbFile: string): { keys: Set<string>; secrets: string[] } {
  const text = databaseBytes(dbFile).toString('latin1');
  const keys = new Set([...text.matchAll(/(?:all|sensitive|records):(?:[st]\.)?([A-Za-z0-9_-]{32})/g)].map((m) => m[1]));
  const secrets = [...new Set([...text.matchAll(/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g)].map((m) => m[0]))];
  return { keys, secrets };
}

/**
 * Every 32-byte value (43 base64url characters) that any cell of any table holds, as the
 * attacker reads them from a copy of the files; the server secret among them.
 */
async function cellSecrets(dbFile: string): Promise<{ all: string[]; serverSecret: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-stolen-'));
  for (const suffix of ['', '-wal']) if (fs.existsSync(dbFile + suffix)) fs.copyFileSync(dbFile + suffix, path.join(dir, `stolen.sqlite3${suffix}`));
  const db = openDatabase({ client: 'sqlite', filename: path.join(dir, 'stolen.sqlite3') });
  try {
    const tables: { name: string }[] = await db.raw("select name from sqlite_master where type = 'table'");
    const all = new Set<string>();
    for (const { name } of tables) {
      for (const row of (await db(name).select()) as Record<string, unknown>[]) {
        for (const v of Object.values(row)) if (typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v)) all.add(v);
      }
    }
    return { all: [...all], serverSecret: (await db('instance').first()).server_secret };
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The addresses of the range whose counter key, under one of these secrets, is among the keys. */
function recover(keys: Set<string>, secrets: string[]): string[] {
  const day = utcDay();
  return RANGE.filter((address) =>
    secrets.some((secret) => keys.has(toBase64url(hmac(secret, 'address', day, address)).slice(0, 32)) || keys.has(hashAddress(secret, address, day))),
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

  test('the database files give no address; with the key file they give this minute\'s clients, and after the sweep nothing', async () => {
    const keyFile = path.join(server.dataDir, 'address.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(server.output()).toContain(`Address key: ${keyFile}`);
    const addressKey = fs.readFileSync(keyFile, 'utf8').trim();

    for (const address of CLIENTS) {
      for (const route of ['/api/instance', '/', '/api/keysets']) {
        const res = await fetch(`${server.url}${route}`, { headers: { 'X-Forwarded-For': address } });
        expect({ address, route, status: res.status }).toEqual({ address, route, status: 200 });
      }
      const pow = await fetch(`${server.url}/api/pow`, { method: 'POST', headers: { 'X-Forwarded-For': address, 'Content-Type': 'application/json' }, body: '{}' });
      expect(pow.status).toBe(200);
    }

    const { keys, secrets: rawSecrets } = loot(server.dbFile);
    const cells = await cellSecrets(server.dbFile);
    const secrets = [...new Set([...rawSecrets, ...cells.all])];
    // The counters are there (one hash per client, behind both the general and the sensitive limiter's name).
    expect(keys.size).toBeGreaterThanOrEqual(CLIENTS.length);
    expect(secrets).toContain(cells.serverSecret);
    expect(secrets).not.toContain(addressKey);
    expect(recover(keys, secrets)).toEqual([]);
    // The control: with the key file, the same search finds exactly the clients of this minute.
    expect(recover(keys, [addressKey])).toEqual(CLIENTS);

    // The server's sweeper runs a second after the minute ends: then no key is left in the files.
    const deadline = Date.now() + 75_000;
    let left = recover(loot(server.dbFile).keys, [addressKey]);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      left = recover(loot(server.dbFile).keys, [addressKey]);
    }
    expect(left).toEqual([]);
    expect(loot(server.dbFile).keys.size).toBe(0);
    expect(walSize(server.dbFile)).toBe(0);
  }, 120_000);
});

test('a key file that group or others may read stops the server at start, naming it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-key-'));
  const keyFile = path.join(dir, 'address.key');
  fs.writeFileSync(keyFile, `${Buffer.alloc(32, 9).toString('base64url')}\n`, { mode: 0o644 });
  fs.chmodSync(keyFile, 0o644);
  try {
    await expect(startServer({ ADDRESS_KEY_FILE: keyFile })).rejects.toThrow(`ADDRESS_KEY_FILE: ${keyFile} is open to group or others (mode 0644)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
