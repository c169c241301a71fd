/**
 * What someone who copies the database gets, on the engine the tests run on:
 *
 * - SQLite: the database file, its write-ahead log and the WAL index, as raw bytes (deleted
 *   rows included, where their bytes are still there).
 * - PostgreSQL: what a dump or a reader of the tables gets: every row of every table read
 *   through the app's pool (binary columns as their bytes), and a `pg_dump` of the database.
 *   The server's data files are not read: the tests may run against a server elsewhere, and
 *   on PostgreSQL an erased row's bytes may stay in a table file's free space or the WAL
 *   after VACUUM (SECURITY.md "Erasure"), which these tests do not claim otherwise.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../../server/db/database';

/** The part of a TestServer (or of a server started as `npm start` runs it) these read. */
export interface DatabaseHolder {
  db?: Db;
  dbFile: string;
  databaseUrl?: string;
}

/** pg_dump of the newest PostgreSQL installed (PG_BIN, /usr/lib/postgresql/N/bin), else from the PATH. */
function pgDumpPath(): string {
  if (process.env.PG_BIN) return path.join(process.env.PG_BIN, 'pg_dump');
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_dump'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin', 'pg_dump') : 'pg_dump';
}

/** Every table's rows, as bytes: strings as UTF-8, binary values as they are. */
async function tableBytes(db: Db): Promise<Buffer> {
  const tables: { rows: { name: string }[] } = await db.raw(
    'SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename',
  );
  const parts: Buffer[] = [];
  for (const { name } of tables.rows) {
    for (const row of (await db(name).select()) as Record<string, unknown>[]) {
      for (const value of Object.values(row)) {
        if (Buffer.isBuffer(value)) parts.push(value);
        else if (value !== null)
          parts.push(
            Buffer.from(typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean | bigint), 'utf8'),
          );
        parts.push(Buffer.from([0]));
      }
    }
  }
  return Buffer.concat(parts);
}

/** SQLite: the file, its WAL and the WAL index, as raw bytes (the browser tests' servers run on SQLite). */
export function databaseBytes(dbFile: string): Buffer {
  return Buffer.concat([dbFile, `${dbFile}-wal`, `${dbFile}-shm`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
}

/** What a copy of the database holds, on either engine (see the top of this file). */
export async function storedBytes(t: DatabaseHolder): Promise<Buffer> {
  if (t.databaseUrl) {
    if (!t.db) throw new Error('storedBytes needs the pool on PostgreSQL');
    const dump = execFileSync(pgDumpPath(), ['--no-owner', '--no-privileges', t.databaseUrl], { maxBuffer: 512 * 1024 * 1024 });
    return Buffer.concat([await tableBytes(t.db), dump]);
  }
  return databaseBytes(t.dbFile);
}

/** The needles (text as UTF-8, or bytes) found in what a copy of the database holds, in the order given. */
export async function foundInDatabase<T extends string | Uint8Array>(t: DatabaseHolder, needles: T[]): Promise<T[]> {
  const bytes = await storedBytes(t);
  return needles.filter((n) => bytes.includes(typeof n === 'string' ? Buffer.from(n, 'utf8') : Buffer.from(n)));
}

/** SQLite only: the size of the write-ahead log (0 once a TRUNCATE checkpoint emptied it, or when there is none). */
export function walSize(dbFile: string): number {
  return fs.existsSync(`${dbFile}-wal`) ? fs.statSync(`${dbFile}-wal`).size : 0;
}
