/**
 * The SQLite data folder, checked at start (server/data-dir.ts): its mode and the database
 * files' modes, one server process at a time (a lock file whose holder is checked, so a
 * server killed with -9 does not block the next), SQLite's open errors named as DATA_DIR's;
 * and `npm run admin -- init` (run as built) on a folder that holds no instance.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { checkDataDir, databaseOpenError, lockDataDir } from '../../server/data-dir';
import { migrate, openDatabase } from '../../server/db/database';

let dir: string;
let dbFile: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-data-dir-'));
  dbFile = path.join(dir, 'awaaz.sqlite3');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the folder and the database files must be the server user's alone", () => {
  test('a missing DATA_DIR is made with mode 0700; a 0700 one with 0600 files passes', () => {
    const inner = path.join(dir, 'new', 'data');
    checkDataDir(path.join(inner, 'awaaz.sqlite3'));
    expect(fs.statSync(inner).mode & 0o777).toBe(0o700);
    for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) fs.writeFileSync(f, '', { mode: 0o600 });
    expect(() => checkDataDir(dbFile)).not.toThrow();
  });

  test.each(['0755', '0750', '0701', '0777'])('a DATA_DIR of mode %s stops the start, naming DATA_DIR, the mode and the fix', (octal) => {
    fs.chmodSync(dir, parseInt(octal, 8));
    expect(() => checkDataDir(dbFile)).toThrow(ConfigError);
    expect(() => checkDataDir(dbFile)).toThrow(`DATA_DIR: ${dir} is open to group or others (mode ${octal}); run \`chmod 700 ${dir}\``);
  });

  test('a database, -wal or -shm open to others (as an instance made before this check has them) stops the start with the chmod to run', () => {
    fs.writeFileSync(dbFile, '', { mode: 0o600 });
    fs.writeFileSync(`${dbFile}-wal`, '', { mode: 0o600 });
    fs.chmodSync(dbFile, 0o644);
    fs.chmodSync(`${dbFile}-wal`, 0o640);
    expect(() => checkDataDir(dbFile)).toThrow(
      `DATA_DIR: the database is open to group or others: ${dbFile} (mode 0644), ${dbFile}-wal (mode 0640); run \`chmod 600 ${dbFile} ${dbFile}-wal\``,
    );
    // Left as it was: the operator decides.
    expect(fs.statSync(dbFile).mode & 0o777).toBe(0o644);
    fs.chmodSync(dbFile, 0o600);
    fs.chmodSync(`${dbFile}-wal`, 0o600);
    expect(() => checkDataDir(dbFile)).not.toThrow();
  });

  test("a DATA_DIR that is a file, or a folder in the database's place, stops the start naming DATA_DIR", () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'not a folder');
    expect(() => checkDataDir(path.join(file, 'awaaz.sqlite3'))).toThrow(`DATA_DIR: ${file} is not a folder`);
    expect(() => checkDataDir(path.join(file, 'below', 'awaaz.sqlite3'))).toThrow(
      `DATA_DIR: ${path.join(file, 'below')} cannot be read (ENOTDIR)`,
    );
    fs.mkdirSync(dbFile, { mode: 0o700 });
    expect(() => checkDataDir(dbFile)).toThrow(`DATA_DIR: ${dbFile} is not a regular file`);
  });

  test('a file SQLite cannot open as a database is a ConfigError naming DATA_DIR and the file; other errors stay as they are', async () => {
    fs.writeFileSync(dbFile, 'this is not a SQLite database, but a note left in the wrong folder '.repeat(4), { mode: 0o600 });
    const db = openDatabase(loadConfig({ DATA_DIR: dir }).database);
    const error = await migrate(db).then(
      () => undefined,
      (e: unknown) => e,
    );
    await db.destroy();
    const named = databaseOpenError(dbFile, error);
    expect(named).toBeInstanceOf(ConfigError);
    expect((named as Error).message).toBe(`invalid configuration: DATA_DIR: ${dbFile} is not a SQLite database (SQLITE_NOTADB)`);
    const other = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT' });
    expect(databaseOpenError(dbFile, other)).toBe(other);
  });
});

describe('one server process at a time on a SQLite DATA_DIR', () => {
  const lockFile = () => path.join(dir, 'awaaz.lock');

  test("the lock holds this process's id, refuses a second taker naming DATA_DIR, and is given back", () => {
    const release = lockDataDir(dir);
    expect(fs.readFileSync(lockFile(), 'utf8')).toMatch(new RegExp(`^${process.pid} \\S*\\n$`));
    expect(fs.statSync(lockFile()).mode & 0o777).toBe(0o600);
    expect(() => lockDataDir(dir)).toThrow(ConfigError);
    expect(() => lockDataDir(dir)).toThrow(`DATA_DIR: another Awaaz server (process ${process.pid}) runs on ${dir}: stop it first.`);
    release();
    expect(fs.existsSync(lockFile())).toBe(false);
    lockDataDir(dir)();
  });

  test('the lock of a server killed with -9 does not block the next start', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      // The lock as a running server writes it (its start mark left out: the id alone is then checked).
      fs.writeFileSync(lockFile(), `${child.pid} \n`, { mode: 0o600 });
      expect(() => lockDataDir(dir)).toThrow(`another Awaaz server (process ${child.pid}) runs on ${dir}`);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    const release = lockDataDir(dir);
    expect(fs.readFileSync(lockFile(), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    release();
  });

  if (process.platform === 'linux') {
    test('a lock whose process id now belongs to another process (after a crash or a reboot) is taken over', () => {
      const mine = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      // This process runs, but did not start at that time (or in that boot): not the holder.
      for (const mark of [`${mine}:1`, `00000000-0000-0000-0000-000000000000:1`]) {
        fs.writeFileSync(lockFile(), `${process.pid} ${mark}\n`, { mode: 0o600 });
        const release = lockDataDir(dir);
        expect(fs.readFileSync(lockFile(), 'utf8')).not.toContain(mark);
        release();
      }
    });
  }
});

describe('npm run admin -- init (the built command) where there is no instance', () => {
  const CLI = path.resolve(__dirname, '../../dist/server/admin-cli.js');
  const init = (dataDir: string) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'init'], { env: { PATH: process.env.PATH, DATA_DIR: dataDir } }, (error, out, err) =>
        resolve({ code: error ? Number(error.code) : 0, out, err }),
      );
    });

  test('refuses, naming DATA_DIR and the file, and makes nothing: a link to a new empty instance would be one no server runs', async () => {
    if (!fs.existsSync(CLI)) throw new Error('dist/server/admin-cli.js is missing: run `npm run build` first');
    const wrong = path.join(dir, 'typo');
    const run = await init(wrong);
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain(`DATA_DIR: there is no Awaaz database at ${path.join(wrong, 'awaaz.sqlite3')}; nothing was made.`);
    expect(run.err).toContain('Start the server once (npm start): it sets up the database and prints the link.');
    expect(fs.existsSync(wrong)).toBe(false);
  });

  test("on an instance it prints the link, once its database is the server user's alone", async () => {
    const db = openDatabase(loadConfig({ DATA_DIR: dir }).database);
    await migrate(db);
    await db.destroy();
    fs.chmodSync(dbFile, 0o644);
    const open = await init(dir);
    expect(open.code).toBe(1);
    expect(open.err).toContain(`DATA_DIR: the database is open to group or others: ${dbFile} (mode 0644)`);
    fs.chmodSync(dbFile, 0o600);
    const run = await init(dir);
    expect(run.err).toBe('');
    expect(run.out).toMatch(/^ {2}http:\/\/localhost:8080\/setup#\S+$/m);
    expect(run.code).toBe(0);
  });
});
