/**
 * Opens the database and runs the migrations. SQLite gets WAL, foreign keys, secure_delete
 * (erased rows are zeroed in the file) and a busy timeout on every connection. A PostgreSQL
 * branch is kept for later; config.ts refuses DATABASE_URL until it is tested.
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
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { exec: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) {
        conn.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;', (err) => done(err, conn));
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
 * After erasing a survivor: SQLite's secure_delete zeroes freed pages in the main file, but
 * copies of those pages can sit in the write-ahead log until a checkpoint. A TRUNCATE
 * checkpoint writes them back (zeroed) and empties the log. (PostgreSQL: nothing to do here;
 * its dead tuples are reclaimed by VACUUM, see SECURITY.md.)
 */
export async function compactDatabase(db: Db): Promise<void> {
  if (db.client.config.client !== 'sqlite3') return;
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
}
