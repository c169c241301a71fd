/**
 * The key files against what the database last ran with (server/key-checks.ts), on the test
 * database of each engine, then once through the built server as `npm start` runs it:
 * - a matching key made afresh under a version number the database has seen, or a version
 *   older than one it has seen, stops the start naming MATCHING_KEY_FILE (every match would
 *   otherwise stop without a word); the next version after a rotation is accepted;
 * - a different address or server key is recorded and said (expected after a restore on a new
 *   machine), and an instance that another one, started with other files, has overruled sees it;
 * - the database holds a keyed hash of each key, never the key.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nacl from 'tweetnacl';
import { ConfigError, loadMatchingKey } from '../../server/config';
import { checkKeyFiles, keyFilesOverruled, type CheckedKeys } from '../../server/key-checks';
import { foundInDatabase } from '../support/database-files';
import { makeTestServer, type TestServer } from '../support/harness';

let t: TestServer;
beforeAll(async () => {
  t = await makeTestServer();
});
afterAll(() => t.close());

const newKey = () => Buffer.from(nacl.randomBytes(32)).toString('base64url');
const files = () => t.ctx.config;

test('the first start records each key; the same files again change nothing', async () => {
  const keys: CheckedKeys = { addressKey: newKey(), serverKey: newKey(), matchingKey: { version: 1, seed: nacl.randomBytes(32) } };
  await t.db('key_checks').delete();
  expect(await checkKeyFiles(t.db, files(), keys)).toEqual([]);
  const stored = await t.db('key_checks').orderBy('name').select();
  expect(stored.map((r) => r.name)).toEqual(['address', 'matching:v1', 'server']);
  expect(await checkKeyFiles(t.db, files(), keys)).toEqual([]);
  expect(await t.db('key_checks').orderBy('name').select()).toEqual(stored);
  expect(await keyFilesOverruled(t.db, files(), keys)).toEqual([]);
  // A keyed hash, never the key, in any form.
  const forms = [keys.addressKey, keys.serverKey, Buffer.from(keys.matchingKey.seed).toString('base64url')];
  expect(await foundInDatabase(t, forms)).toEqual([]);
});

test('a matching key made afresh under a version the database has seen, or older than one it has seen, stops the start', async () => {
  const first: CheckedKeys = { addressKey: newKey(), serverKey: newKey(), matchingKey: { version: 1, seed: nacl.randomBytes(32) } };
  await t.db('key_checks').delete();
  await checkKeyFiles(t.db, files(), first);
  const afresh = { ...first, matchingKey: { version: 1, seed: nacl.randomBytes(32) } };
  await expect(checkKeyFiles(t.db, files(), afresh)).rejects.toThrow(ConfigError);
  await expect(checkKeyFiles(t.db, files(), afresh)).rejects.toThrow(
    `MATCHING_KEY_FILE: ${files().matchingKeyFile} holds a version 1 other than the version-1 key`,
  );
  // The next version (a rotation) is accepted, and from then on version 1 is too old.
  const rotated = { ...first, matchingKey: { version: 2, seed: nacl.randomBytes(32) } };
  expect(await checkKeyFiles(t.db, files(), rotated)).toEqual([]);
  await expect(checkKeyFiles(t.db, files(), first)).rejects.toThrow('holds version 1, but this database has seen version 2');
  expect((await t.db('key_checks').pluck('name')).sort()).toEqual(['address', 'matching:v1', 'matching:v2', 'server']);
});

test('another address or server key is recorded and said; the instance it overruled sees so', async () => {
  const a: CheckedKeys = { addressKey: newKey(), serverKey: newKey(), matchingKey: { version: 1, seed: nacl.randomBytes(32) } };
  await t.db('key_checks').delete();
  await checkKeyFiles(t.db, files(), a);
  const b = { ...a, serverKey: newKey() };
  const warnings = await checkKeyFiles(t.db, files(), b);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(`SERVER_KEY_FILE: ${files().serverKeyFile} is not the key this database last ran with`);
  expect(await checkKeyFiles(t.db, files(), b)).toEqual([]);
  // The instance still running with the first file finds itself overruled; the second does not.
  const overruled = await keyFilesOverruled(t.db, files(), a);
  expect(overruled).toHaveLength(1);
  expect(overruled[0]).toContain('SERVER_KEY_FILE: another instance on this database started with a different key');
  expect(await keyFilesOverruled(t.db, files(), b)).toEqual([]);
  const c = { ...b, addressKey: newKey() };
  expect((await checkKeyFiles(t.db, files(), c))[0]).toContain('ADDRESS_KEY_FILE');
});

/** Runs the built server on a data folder until it prints its URL (then stops it) or exits; its output. */
function runBuiltServer(dataDir: string): Promise<{ code: number | null; out: string }> {
  const main = path.join(__dirname, '../../dist/server/main.js');
  if (!fs.existsSync(main)) throw new Error('dist/server/main.js is missing: run `npm run build` first');
  return new Promise((resolve, reject) => {
    // Its own SQLite file in the folder: what is tested is main.ts's start, on either engine's run.
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, POW_BITS: '8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const collect = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Awaaz is running at')) child.kill('SIGTERM');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

test('the built server refuses to start with a matching key made afresh, naming the file and what to do', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-key-checks-'));
  try {
    const first = await runBuiltServer(dataDir);
    expect(first.out).toContain('Awaaz is running at');
    const keyFile = path.join(dataDir, 'matching.key');
    const before = loadMatchingKey(keyFile);
    fs.rmSync(keyFile); // lost: the next start makes a new version 1
    const second = await runBuiltServer(dataDir);
    expect(second.code).toBe(1);
    expect(second.out).toContain(`MATCHING_KEY_FILE: ${keyFile} holds a version 1 other than the version-1 key`);
    expect(second.out).toContain('npm run admin -- rotate-matching-key');
    expect(second.out).not.toContain('Awaaz is running at');
    expect(Buffer.from(loadMatchingKey(keyFile).seed).equals(Buffer.from(before.seed))).toBe(false);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
