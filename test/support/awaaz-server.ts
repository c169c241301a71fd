/**
 * A real Awaaz server process (dist/server/main.js, as `npm start` runs it) on a temporary
 * SQLite file, or, when TEST_DATABASE_URL names a PostgreSQL server (`npm test`'s second
 * run), on a fresh database there that is dropped when the server stops; and the flags
 * Chromium runs with here. No jest globals, so bench/ uses it too (test/e2e/support.ts
 * re-exports it for the browser tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../server/config';
import { openDatabase, type Db } from '../../server/db/database';
import { storedBytes } from './database-files';
import { freshPostgresDatabase, type FreshDatabase } from './postgres';

/** The repository (this file is run from test/support, or bundled into dist/bench: both two levels down). */
export const ROOT = path.resolve(__dirname, '../..');

/** Chromium's flags here: headless as root, and quiet on a closed network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface RunningServer {
  url: string;
  setupLink: string;
  dataDir: string;
  /** the database the server runs on, as its configuration names it */
  database: Config['database'];
  /** the SQLite file; '' on PostgreSQL */
  dbFile: string;
  /** the PostgreSQL database's address; '' on SQLite */
  databaseUrl: string;
  /** a pool of the test's own on the server's database (the test destroys it) */
  openDb(): Db;
  /** what a copy of the database holds: the SQLite file and its WAL, or every table and a pg_dump (test/support/database-files.ts) */
  storedBytes(): Promise<Buffer>;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts the built server the way `npm start` does and waits for its setup link. On
 * PostgreSQL (TEST_DATABASE_URL set, and no DATABASE_URL in `env`), on a database of its own.
 */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const main = path.join(ROOT, 'dist/server/main.js');
  if (!fs.existsSync(main)) throw new Error('dist/server/main.js is missing: run `npm run build` first');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-e2e-'));
  const port = await freePort();
  const serverUrl = process.env.TEST_DATABASE_URL;
  const fresh: FreshDatabase | undefined = serverUrl && !env.DATABASE_URL ? await freshPostgresDatabase(serverUrl) : undefined;
  const databaseUrl = env.DATABASE_URL ?? fresh?.url ?? '';
  const database: Config['database'] = databaseUrl
    ? { client: 'pg', url: databaseUrl }
    : { client: 'sqlite', filename: path.join(dataDir, 'awaaz.sqlite3') };
  const cleanUp = async () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    await fresh?.drop();
  };
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      POW_BITS: '8',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const setupLink = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print a setup link:\n${out}`)), 20_000);
    const check = () => {
      const m = /(http:\/\/\S+\/setup#\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  }).catch(async (e) => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await cleanUp();
    throw e;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    setupLink,
    dataDir,
    database,
    dbFile: database.client === 'sqlite' ? database.filename : '',
    databaseUrl,
    openDb: () => openDatabase(database),
    async storedBytes() {
      if (database.client === 'sqlite') return storedBytes({ dbFile: database.filename });
      const db = openDatabase(database);
      try {
        return await storedBytes({ db, dbFile: '', databaseUrl });
      } finally {
        await db.destroy();
      }
    },
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await cleanUp();
    },
  };
}
