/** Configuration is checked at start: a bad value stops the server with a message naming it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadAddressKey, loadConfig, loadServerKey } from '../../server/config';
import { openDatabase, rowsOf } from '../../server/db/database';

test('defaults give the embedded SQLite file under ./data on localhost:8080', () => {
  const c = loadConfig({});
  expect(c.port).toBe(8080);
  expect(c.publicUrl).toBe('http://localhost:8080');
  expect(c.database).toEqual({ client: 'sqlite', filename: expect.stringMatching(/data\/awaaz\.sqlite3$/), synchronous: 'FULL' });
  expect(c.cookieSecure).toBe(false);
  expect(loadConfig({ PUBLIC_URL: 'https://awaaz.example.org/' }).cookieSecure).toBe(true);
});

test('DATABASE_URL=postgres://… (or postgresql://…) selects PostgreSQL; unset, the SQLite file stays', () => {
  expect(loadConfig({ DATABASE_URL: 'postgres://awaaz:secret@db.internal:5432/awaaz' }).database).toEqual({
    client: 'pg',
    url: 'postgres://awaaz:secret@db.internal:5432/awaaz',
  });
  expect(loadConfig({ DATABASE_URL: 'postgresql://awaaz@127.0.0.1/awaaz?sslmode=require' }).database.client).toBe('pg');
  expect(loadConfig({ DATA_DIR: '/srv/awaaz' }).database).toEqual({
    client: 'sqlite',
    filename: '/srv/awaaz/awaaz.sqlite3',
    synchronous: 'FULL',
  });
  expect(() => loadConfig({ DATABASE_URL: 'mysql://user@localhost/awaaz' })).toThrow('DATABASE_URL: must be a PostgreSQL address');
});

test('SQLite syncs every commit (FULL) unless SQLITE_SYNCHRONOUS=NORMAL trades the last commits on power loss for speed', () => {
  expect(loadConfig({}).database).toMatchObject({ synchronous: 'FULL' });
  expect(loadConfig({ SQLITE_SYNCHRONOUS: 'NORMAL' }).database).toMatchObject({ synchronous: 'NORMAL' });
  expect(() => loadConfig({ SQLITE_SYNCHRONOUS: 'OFF' })).toThrow('SQLITE_SYNCHRONOUS: must be FULL');
});

test('the opened SQLite file runs the synchronous level the configuration names (FULL = 2, NORMAL = 1)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-sync-'));
  try {
    for (const [setting, level] of [
      [undefined, 2],
      ['NORMAL', 1],
      ['FULL', 2],
    ] as const) {
      const db = openDatabase(loadConfig({ DATA_DIR: dir, ...(setting ? { SQLITE_SYNCHRONOUS: setting } : {}) }).database);
      const [row] = rowsOf<{ synchronous: number }>(await db.raw('PRAGMA synchronous'));
      await db.destroy();
      expect(row.synchronous).toBe(level);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('attachment limits default to 25 MB a file and 100 MB a testimony, in bytes of 1024 * 1024', () => {
  const c = loadConfig({});
  expect([c.attachmentMaxFileBytes, c.attachmentMaxTestimonyBytes]).toEqual([25 * 1048576, 100 * 1048576]);
  const set = loadConfig({ ATTACHMENT_MAX_FILE_MB: '5', ATTACHMENT_MAX_TESTIMONY_MB: '5', RATE_LIMIT_RECORDS_PER_MINUTE: '60' });
  expect([set.attachmentMaxFileBytes, set.attachmentMaxTestimonyBytes, set.rateLimitRecordsPerMinute]).toEqual([
    5 * 1048576,
    5 * 1048576,
    60,
  ]);
  expect(c.rateLimitRecordsPerMinute).toBe(1200);
});

test.each([
  ['PORT', { PORT: 'eighty' }],
  ['POW_BITS', { POW_BITS: '99' }],
  ['PUBLIC_URL', { PUBLIC_URL: 'not a url' }],
  ['COOKIE_SECURE', { COOKIE_SECURE: 'maybe' }],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://user@localhost/awaaz' }],
  ['DATABASE_URL', { DATABASE_URL: 'sqlite:///var/lib/awaaz.sqlite3' }],
  ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
  ['DATABASE_URL', { DATABASE_URL: 'postgres://' }],
  ['ATTACHMENT_MAX_FILE_MB', { ATTACHMENT_MAX_FILE_MB: '0' }],
  ['ATTACHMENT_MAX_FILE_MB', { ATTACHMENT_MAX_FILE_MB: '2.5' }],
  ['ATTACHMENT_MAX_TESTIMONY_MB', { ATTACHMENT_MAX_TESTIMONY_MB: 'lots' }],
  ['ATTACHMENT_MAX_TESTIMONY_MB', { ATTACHMENT_MAX_FILE_MB: '50', ATTACHMENT_MAX_TESTIMONY_MB: '40' }],
  ['RATE_LIMIT_RECORDS_PER_MINUTE', { RATE_LIMIT_RECORDS_PER_MINUTE: '0' }],
])('a bad %s is refused with its name in the message', (name, env) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(name);
});

test.each([
  ['POW_BITS', '', 'is set but empty'],
  ['PORT', '', 'is set but empty'],
  ['PORT', '0xBC3D', 'must be a whole number from 0 to 65535, in decimal digits'],
  ['PORT', ' 8080', 'must be a whole number'],
  ['PORT', '8e3', 'must be a whole number'],
  ['PORT', '65536', 'must be a whole number from 0 to 65535'],
  ['TRUST_PROXY_HOPS', '-1', 'must be a whole number from 0 to 5'],
  ['RATE_LIMIT_PER_MINUTE', '', 'is set but empty'],
  ['RATE_LIMIT_SENSITIVE_PER_MINUTE', '20.0', 'must be a whole number'],
  ['SMTP_PORT', '', 'is set but empty'],
  ['ALERT_CHECK_SECONDS', '0x3c', 'must be a whole number from 5 to 3600'],
])('%s=%j is refused, naming the variable (an empty value is not 0, nor 0x… hexadecimal)', (name, value, message) => {
  const env = { [name]: value, ...(name === 'SMTP_PORT' ? { SMTP_HOST: 'localhost', SMTP_FROM: 'a@b.org' } : {}) };
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(`${name}: ${message}`);
});

test('numbers in decimal digits are read as written, and unset ones take their defaults', () => {
  const c = loadConfig({ PORT: '48189', POW_BITS: '0', TRUST_PROXY_HOPS: '1', RATE_LIMIT_PER_MINUTE: '1000000' });
  expect([c.port, c.powBits, c.trustProxyHops, c.rateLimitPerMinute]).toEqual([48189, 0, 1, 1000000]);
  const d = loadConfig({});
  expect([d.port, d.powBits, d.trustProxyHops, d.rateLimitPerMinute]).toEqual([8080, 14, 0, 300]);
});

test.each([
  ['ftp://awaaz.example.org', 'must be an http:// or https:// address'],
  ['javascript:alert(1)', 'must be an http:// or https:// address'],
  ['awaaz.example.org', 'must be an http:// or https:// address'],
  ['', 'must be an http:// or https:// address'],
  ['https://awaaz.example.org/awaaz', 'must be the address of the site alone'],
  ['https://awaaz.example.org/?lang=ur', 'must be the address of the site alone'],
  ['https://awaaz.example.org?', 'must be the address of the site alone'],
  ['https://awaaz.example.org/#top', 'must be the address of the site alone'],
  ['https://admin:secret@awaaz.example.org', 'must be the address of the site alone'],
])('PUBLIC_URL=%j is refused, naming it: links are built from it', (value, message) => {
  expect(() => loadConfig({ PUBLIC_URL: value })).toThrow(ConfigError);
  expect(() => loadConfig({ PUBLIC_URL: value })).toThrow(`PUBLIC_URL: ${message}`);
});

test('PUBLIC_URL is kept as its origin: the links printed from it have no doubled slash', () => {
  expect(loadConfig({ PUBLIC_URL: 'https://Awaaz.Example.org/' }).publicUrl).toBe('https://awaaz.example.org');
  expect(loadConfig({ PUBLIC_URL: 'https://awaaz.example.org:443' }).publicUrl).toBe('https://awaaz.example.org');
  expect(loadConfig({ PUBLIC_URL: 'http://abcdefghij234567.onion' }).publicUrl).toBe('http://abcdefghij234567.onion');
  expect(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:8081' }).publicUrl).toBe('http://127.0.0.1:8081');
  // Unset, it is made from HOST and PORT: an IPv6 address in brackets.
  expect(loadConfig({ HOST: '::1', PORT: '8081' }).publicUrl).toBe('http://[::1]:8081');
  expect(loadConfig({ HOST: '192.0.2.7' }).publicUrl).toBe('http://192.0.2.7:8080');
});

describe('the address key file (rate-limit keys; never in the database)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-key-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('lives beside the database unless ADDRESS_KEY_FILE says otherwise', () => {
    expect(loadConfig({ DATA_DIR: dir }).addressKeyFile).toBe(path.join(dir, 'address.key'));
    expect(loadConfig({}).addressKeyFile).toBe(path.resolve('data/address.key'));
    expect(loadConfig({ DATA_DIR: dir, ADDRESS_KEY_FILE: '/etc/awaaz/address.key' }).addressKeyFile).toBe('/etc/awaaz/address.key');
    // loadConfig only names it: reading or making it is loadAddressKey's, at start.
    expect(fs.existsSync(path.join(dir, 'address.key'))).toBe(false);
  });

  test('is made at first start, mode 0600, in a folder made 0700, and read back unchanged at every later start', () => {
    const file = path.join(dir, 'keys', 'address.key');
    const key = loadAddressKey(file);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${key}\n`);
    expect(loadAddressKey(file)).toBe(key);
    // Another instance, or another machine, gets a key of its own.
    expect(loadAddressKey(path.join(dir, 'other.key'))).not.toBe(key);
    // Nothing but the key is left behind (the temporary file it was written under is gone).
    expect(fs.readdirSync(path.dirname(file))).toEqual(['address.key']);
  });

  test('a key written by hand, without a final newline, is accepted', () => {
    const file = path.join(dir, 'address.key');
    const key = Buffer.alloc(32, 7).toString('base64url');
    fs.writeFileSync(file, key, { mode: 0o600 });
    expect(loadAddressKey(file)).toBe(key);
  });

  test.each(['0640', '0604', '0644', '0660', '0606', '0710'])(
    'a key file of mode %s (open to group or others) stops the start, naming the file',
    (octal) => {
      const mode = parseInt(octal, 8);
      const file = path.join(dir, 'address.key');
      const key = loadAddressKey(file);
      fs.chmodSync(file, mode);
      expect(() => loadAddressKey(file)).toThrow(ConfigError);
      expect(() => loadAddressKey(file)).toThrow(
        `ADDRESS_KEY_FILE: ${file} is open to group or others (mode ${octal}); run \`chmod 600 ${file}\``,
      );
      // It is neither changed nor replaced.
      expect(fs.readFileSync(file, 'utf8')).toBe(`${key}\n`);
      fs.chmodSync(file, 0o600);
      expect(loadAddressKey(file)).toBe(key);
    },
  );

  test.each([
    ['empty', ''],
    ['too short', 'abc\n'],
    ['33 bytes', `${Buffer.alloc(33, 1).toString('base64url')}\n`],
    ['standard base64 (+ and /)', `${'+/'.repeat(21)}A\n`],
    ['padded', `${Buffer.alloc(32, 1).toString('base64')}\n`],
    ['two lines', `${Buffer.alloc(32, 1).toString('base64url')}\n${Buffer.alloc(32, 2).toString('base64url')}\n`],
  ])('a malformed key file (%s) stops the start, naming the file', (_what, content) => {
    const file = path.join(dir, 'address.key');
    fs.writeFileSync(file, content, { mode: 0o600 });
    expect(() => loadAddressKey(file)).toThrow(ConfigError);
    expect(() => loadAddressKey(file)).toThrow(`ADDRESS_KEY_FILE: ${file} is not an address key`);
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
  });

  test('a folder in its place, or a place where it cannot be made, stops the start, naming the file', () => {
    const folder = path.join(dir, 'address.key');
    fs.mkdirSync(folder, { mode: 0o700 });
    expect(() => loadAddressKey(folder)).toThrow(`ADDRESS_KEY_FILE: ${folder} is not a regular file`);
    const blocked = path.join(dir, 'a-file', 'address.key');
    fs.writeFileSync(path.join(dir, 'a-file'), 'not a folder');
    expect(() => loadAddressKey(blocked)).toThrow(ConfigError);
    expect(() => loadAddressKey(blocked)).toThrow(`ADDRESS_KEY_FILE: ${blocked} does not exist and could not be made`);
  });
});

describe('the server key file (signs survivor tokens and staff sign-in tickets; never in the database)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-key-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('lives beside the database unless SERVER_KEY_FILE says otherwise, and is made at first start with mode 0600', () => {
    expect(loadConfig({ DATA_DIR: dir }).serverKeyFile).toBe(path.join(dir, 'server.key'));
    expect(loadConfig({ DATA_DIR: dir, SERVER_KEY_FILE: '/etc/awaaz/server.key' }).serverKeyFile).toBe('/etc/awaaz/server.key');
    const file = loadConfig({ DATA_DIR: dir }).serverKeyFile;
    expect(fs.existsSync(file)).toBe(false);
    const key = loadServerKey(file);
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadServerKey(file)).toBe(key);
    // Not the address key: each file is its own key.
    expect(loadAddressKey(path.join(dir, 'address.key'))).not.toBe(key);
  });

  test('one others may read, or that is not a key, stops the start, naming SERVER_KEY_FILE and the file', () => {
    const file = path.join(dir, 'server.key');
    const key = loadServerKey(file);
    fs.chmodSync(file, 0o644);
    expect(() => loadServerKey(file)).toThrow(ConfigError);
    expect(() => loadServerKey(file)).toThrow(`SERVER_KEY_FILE: ${file} is open to group or others (mode 0644); run \`chmod 600 ${file}\``);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${key}\n`);
    fs.writeFileSync(file, 'not a key\n', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    expect(() => loadServerKey(file)).toThrow(`SERVER_KEY_FILE: ${file} is not a server key`);
  });
});
