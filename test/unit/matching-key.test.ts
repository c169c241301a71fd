/**
 * The matching escrow's OPRF key file (server/config.ts loadMatchingKey, rotateMatchingKey):
 * made at first start with mode 0600 and version 1, refused when open to others or malformed,
 * and rotated to the next version with a new key by the admin command (run here as built).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, loadMatchingKey, rotateMatchingKey } from '../../server/config';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-matching-key-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('made at first start: version 1, 32 random bytes, mode 0600; the same key on the next start', () => {
  const file = path.join(dir, 'matching.key');
  const first = loadMatchingKey(file);
  expect(first.version).toBe(1);
  expect(first.seed).toHaveLength(32);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(file, 'utf8')).toMatch(/^1 [A-Za-z0-9_-]{43}\n$/);
  expect(Buffer.from(loadMatchingKey(file).seed).equals(Buffer.from(first.seed))).toBe(true);
  expect(Buffer.from(loadMatchingKey(path.join(dir, 'other.key')).seed).equals(Buffer.from(first.seed))).toBe(false);
});

test('its default place is beside the address key, apart from the database unless moved', () => {
  const config = loadConfig({ DATA_DIR: dir });
  expect(config.matchingKeyFile).toBe(path.join(dir, 'matching.key'));
  expect(loadConfig({ DATA_DIR: dir, MATCHING_KEY_FILE: '/elsewhere/m.key' }).matchingKeyFile).toBe('/elsewhere/m.key');
  expect(() => loadConfig({ MATCHING_EVALUATIONS_PER_DAY: '0' })).toThrow('MATCHING_EVALUATIONS_PER_DAY');
});

test('a key file open to others, or malformed, stops the start naming the variable, and is left as it is', () => {
  const file = path.join(dir, 'matching.key');
  loadMatchingKey(file);
  fs.chmodSync(file, 0o644);
  expect(() => loadMatchingKey(file)).toThrow(ConfigError);
  expect(() => loadMatchingKey(file)).toThrow(`MATCHING_KEY_FILE: ${file} is open to group or others (mode 0644)`);
  for (const content of [
    '',
    `0 ${Buffer.alloc(32, 1).toString('base64url')}\n`,
    `${Buffer.alloc(32, 1).toString('base64url')}\n`,
    `1 ${Buffer.alloc(31, 1).toString('base64url')}\n`,
  ]) {
    fs.writeFileSync(file, content, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    expect(() => loadMatchingKey(file)).toThrow(`MATCHING_KEY_FILE: ${file} is not a matching key`);
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
  }
});

test('rotation writes the next version with a new key, mode 0600', () => {
  const file = path.join(dir, 'matching.key');
  const first = loadMatchingKey(file);
  expect(rotateMatchingKey(file)).toBe(2);
  const second = loadMatchingKey(file);
  expect(second.version).toBe(2);
  expect(Buffer.from(second.seed).equals(Buffer.from(first.seed))).toBe(false);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(dir)).toEqual(['matching.key']); // no temporary file left
});

const CLI = path.resolve(__dirname, '../../dist/server/admin-cli.js');
test('npm run admin -- rotate-matching-key (the built command) rotates the configured file', () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/server/admin-cli.js is missing: run `npm run build` first');
  const file = path.join(dir, 'matching.key');
  loadMatchingKey(file);
  const out = execFileSync(process.execPath, [CLI, 'rotate-matching-key'], {
    env: { PATH: process.env.PATH, DATA_DIR: dir },
    encoding: 'utf8',
  });
  expect(out).toContain(`${file} is now version 2`);
  expect(loadMatchingKey(file).version).toBe(2);
});

test('rotating a key file that does not exist is refused, naming MATCHING_KEY_FILE, and makes none (the wrong DATA_DIR)', () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/server/admin-cli.js is missing: run `npm run build` first');
  const file = path.join(dir, 'matching.key');
  expect(() => rotateMatchingKey(file)).toThrow(ConfigError);
  expect(() => rotateMatchingKey(file)).toThrow(`MATCHING_KEY_FILE: ${file} does not exist, so there is no key to rotate`);
  const run = spawnSync(process.execPath, [CLI, 'rotate-matching-key'], {
    env: { PATH: process.env.PATH, DATA_DIR: dir },
    encoding: 'utf8',
  });
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toContain(`MATCHING_KEY_FILE: ${file} does not exist, so there is no key to rotate (nothing was written)`);
  expect(fs.readdirSync(dir)).toEqual([]);
});
