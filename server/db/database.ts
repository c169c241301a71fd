/**
 * Opens the database and runs the migrations. SQLite gets WAL, foreign keys, secure_delete
 * (erased rows are zeroed in the file; see `erase` for the WAL), temporary tables and
 * sorts in memory rather than in temporary files, and a busy timeout on every connection.
 * A PostgreSQL branch is kept for later; config.ts refuses DATABASE_URL until it is tested.
 */
import fs from 'node:fs';
import path from 'node:path';
import knex, { Knex } from 'knex';
import { migrationSource } from '../../migrations';
import type { Config } from '../config';

export type Db = Knex;

export function openDatabase(database: Config['database']): Db {
  if (database.client === 'pg') {
    return knex({ client: 'pg', connection: database.url, pool: { min: 0, max: 10 }, compileSqlOnError: false });
  }
  fs.mkdirSync(path.dirname(database.filename), { recursive: true, mode: 0o700 });
  return knex({
    client: 'sqlite3',
    connection: { filename: database.filename },
    useNullAsDefault: true,
    // A failed query's error message keeps its `?` placeholders: the values (a survivor's keys,
    // ids, ciphertext) must not reach the log through an error message.
    compileSqlOnError: false,
    // One connection: SQLite serializes writes anyway, and `erase`'s TRUNCATE checkpoint
    // must find no reader of this process in its way.
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { exec: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) {
        conn.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;', (err) => done(err, conn));
      },
    },
  });
}

export async function migrate(db: Db): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** Rows of a raw statement: sqlite3 answers with the array, pg with {rows}. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Every erasure goes through here (withdrawal, "delete everything", a removed member's keys,
 * advocates losing access, and the sweeper's expired counters, challenges and uploads): `work`
 * runs in a transaction, and once this returns, what it deleted or overwrote has no copy left
 * in the main file or the write-ahead log. `flushed` is false when that could not be made
 * sure (another process reading, see flushErased); the sweeper tries again within a minute.
 */
export async function erase<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<{ result: T; flushed: boolean }> {
  const result = await db.transaction((trx) => work(trx));
  return { result, flushed: await flushErased(db) };
}

/**
 * SQLite: secure_delete (set on every connection, and this pool has one) zeroes freed bytes,
 * but in the pages' new versions, which are appended to the WAL; older versions of those
 * pages stay in the WAL, and the main file keeps its own old copy, until a checkpoint. A
 * TRUNCATE checkpoint writes the newest (zeroed) pages into the main file and empties the
 * WAL. It needs no reader in the way: this process has one connection, so only another
 * process (a backup, a sqlite3 shell) can be one; it then waits busy_timeout and reports busy.
 * PostgreSQL: not done yet (its support is refused by config.ts): dead tuples stay in the
 * table until VACUUM, and WAL segments until they are recycled; this answers false.
 */
export async function flushErased(db: Db): Promise<boolean> {
  if (db.client.config.client !== 'sqlite3') return false;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [row] = rowsOf<{ busy: number }>(await db.raw('PRAGMA wal_checkpoint(TRUNCATE)'));
    if (Number(row.busy) === 0) return true;
  }
  return false;
}
