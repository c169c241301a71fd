/**
 * Opens the database and runs the migrations, on either engine. This file is the one place
 * where SQLite and PostgreSQL differ (server/db/README.md lists how); repositories hold the
 * SQL, written once for both.
 *
 * SQLite gets WAL with synchronous=FULL (NORMAL when SQLITE_SYNCHRONOUS says so), foreign
 * keys, secure_delete (erased rows are zeroed in the file; see `erase` for the WAL),
 * temporary tables and sorts in memory rather than in temporary files, and a busy timeout on
 * every connection. PostgreSQL gets a pool whose bigint values (counts,
 * millisecond times) come back as numbers, as SQLite gives them, instead of strings.
 */
import fs from 'node:fs';
import path from 'node:path';
import knex, { Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from '../../migrations';
import type { Config } from '../config';

export type Db = Knex;

/** PostgreSQL's type id of int8 (bigint), which count(*) also returns. */
const INT8_OID = 20;

/**
 * int8 as a JavaScript number when it is exact (every value Awaaz stores: counts, sizes,
 * millisecond times); a larger one stays a string rather than being silently rounded.
 */
function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** Per pool, not pg's global parsers: another user of pg in the same process is unaffected. */
const pgTypes = {
  getTypeParser: (oid: number, format: string) =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format === 'binary' ? 'binary' : 'text'),
};

export function isPostgres(db: Db): boolean {
  return db.client.config.client === 'pg';
}

/**
 * Locks the rows `query` selects until the transaction ends, so that a count and the insert
 * it allows cannot interleave with another transaction's. PostgreSQL: SELECT … FOR NO KEY
 * UPDATE (which still lets other transactions insert rows that reference them). SQLite needs
 * none: its one connection runs one transaction at a time. Answers the rows it selected.
 */
export async function lockRows(trx: Db, query: Knex.QueryBuilder): Promise<unknown[]> {
  return (await (isPostgres(trx) ? query.forNoKeyUpdate() : query)) as unknown[];
}

/**
 * Takes a PostgreSQL advisory lock until the transaction ends, waiting for it if another
 * session holds it: for work that two app instances must not do at once (where each would
 * lock the other's rows in another order). SQLite needs none: its one connection runs one
 * transaction at a time.
 */
export async function lockForTransaction(trx: Db, key: number): Promise<void> {
  if (isPostgres(trx)) await trx.raw('SELECT pg_advisory_xact_lock(?)', [key]);
}

/**
 * As lockForTransaction, without waiting: false when another session holds the lock (it is
 * doing the same work now). Always true on SQLite.
 */
export async function tryLockForTransaction(trx: Db, key: number): Promise<boolean> {
  if (!isPostgres(trx)) return true;
  const [row] = rowsOf<{ locked: boolean }>(await trx.raw('SELECT pg_try_advisory_xact_lock(?) AS locked', [key]));
  return row.locked === true;
}

export function openDatabase(database: Config['database']): Db {
  if (database.client === 'pg') {
    return knex({
      client: 'pg',
      connection: { connectionString: database.url, types: pgTypes },
      pool: { min: 0, max: 10 },
      // As for SQLite below: values stay out of error messages.
      compileSqlOnError: false,
    });
  }
  fs.mkdirSync(path.dirname(database.filename), { recursive: true, mode: 0o700 });
  // FULL unless the operator chose NORMAL (SQLITE_SYNCHRONOUS): in WAL mode FULL syncs the log
  // at every commit, so an acknowledged write survives a power cut; NORMAL syncs only at
  // checkpoints (a killed process loses nothing, a power cut may lose the last commits).
  const synchronous = database.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
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
      afterCreate(
        conn: { exec: (sql: string, cb: (err: Error | null) => void) => void },
        done: (err: Error | null, conn: unknown) => void,
      ) {
        conn.exec(
          `PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY; PRAGMA busy_timeout = 5000; PRAGMA synchronous = ${synchronous};`,
          (err) => done(err, conn),
        );
      },
    },
  });
}

/**
 * A SQLite file opened to be read and never written (the source of `copySqliteToPostgres`):
 * read-only and `immutable`, so that SQLite takes no lock and makes no `-wal` or `-shm`
 * companion. Immutable means SQLite trusts that nothing else writes the file meanwhile, so
 * the caller first checks that no server has it open (no `-wal` file: see sqlite-to-postgres.ts).
 */
export function openSqliteReadOnly(filename: string): Db {
  const uri = `file:${path.resolve(filename).split('/').map(encodeURIComponent).join('/')}?mode=ro&immutable=1`;
  return knex({
    client: 'sqlite3',
    // knex opens read-write unless told otherwise; the URI's mode=ro is the stricter and wins.
    connection: { filename: uri, flags: ['OPEN_URI'] },
    useNullAsDefault: true,
    compileSqlOnError: false,
    pool: {
      min: 1,
      max: 1,
      afterCreate(
        conn: { exec: (sql: string, cb: (err: Error | null) => void) => void },
        done: (err: Error | null, conn: unknown) => void,
      ) {
        conn.exec('PRAGMA query_only = ON;', (err) => done(err, conn));
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
 * advocates losing access, and the sweeper's stale uploads and retention batches): `work` runs
 * in a transaction, then flushErased (unless `flushIf` says the transaction erased nothing).
 * On SQLite, once this returns, what it deleted or overwrote has no copy left in the main
 * file or the write-ahead log; `flushed` is false when that could not be made sure (another
 * process reading); the sweeper tries again within a minute. On PostgreSQL the guarantee is
 * weaker: see flushErased. (The sweeper's small purges run in transactions of their own and
 * then call flushErased once.)
 */
export async function erase<T>(
  db: Db,
  work: (trx: Db) => Promise<T>,
  flushIf: (result: T) => boolean = () => true,
): Promise<{ result: T; flushed: boolean }> {
  const result = await db.transaction((trx) => work(trx));
  return { result, flushed: flushIf(result) ? await flushErased(db) : true };
}

/**
 * SQLite: secure_delete (set on every connection, and this pool has one) zeroes freed bytes,
 * but in the pages' new versions, which are appended to the WAL; older versions of those
 * pages stay in the WAL, and the main file keeps its own old copy, until a checkpoint. A
 * TRUNCATE checkpoint writes the newest (zeroed) pages into the main file and empties the
 * WAL. It needs no reader in the way: this process has one connection, so only another
 * process (a backup, a sqlite3 shell) can be one; it then waits busy_timeout and reports busy.
 *
 * PostgreSQL has no secure_delete: a deleted or updated row stays in its page as a dead tuple
 * until VACUUM (no query or dump returns it, but a copy of the data files holds it whole).
 * This runs a plain VACUUM of the app's tables (outside the transaction, which VACUUM
 * requires), so the dead rows are removed from their pages and indexes at once instead of
 * whenever autovacuum gets to them. It does not zero them: their bytes may stay in the pages'
 * free space until new rows overwrite it, in the WAL until its segments are recycled, and in
 * any WAL archive or base backup (VACUUM FULL rewrites a table into a new file, but locks it
 * against every reader meanwhile, so it is left to the operator). A
 * transaction older than the erasure (a running pg_dump, another instance's long request)
 * keeps the dead rows until the next VACUUM after it ends (the next erasure, the sweeper's
 * within a minute, or autovacuum). Answers true once the VACUUM ran.
 */
export async function flushErased(db: Db): Promise<boolean> {
  if (isPostgres(db)) {
    const tables = rowsOf<{ name: string }>(
      await db.raw(
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex\\_%' ORDER BY tablename",
      ),
    );
    if (tables.length > 0)
      await db.raw(
        `VACUUM ${tables.map(() => '??').join(', ')}`,
        tables.map((t) => t.name),
      );
    return true;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const [row] = rowsOf<{ busy: number }>(await db.raw('PRAGMA wal_checkpoint(TRUNCATE)'));
    if (Number(row.busy) === 0) return true;
  }
  return false;
}
