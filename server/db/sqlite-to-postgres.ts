/**
 * Moves an instance from its SQLite file to an empty PostgreSQL database
 * (`npm run admin -- migrate-to-postgres`, issue 13), and proves the copy is whole.
 *
 * - The source file is opened read-only and immutable (`openSqliteReadOnly`): it is never
 *   written. A server that has the file open keeps a `-wal` beside it, so one being there
 *   refuses the copy (stop the server first).
 * - The target gets the migrations (the same as `npm start` runs), then every table is
 *   copied in one transaction, parents before children (the order follows the foreign keys
 *   the catalog lists), in batches read in primary-key order. Tables are discovered from both
 *   schemas, not listed here, and must match. `knex_migrations` is not copied: the source
 *   must have run exactly the migrations this version has, and the target records its own.
 * - Ids are copied as they are; each serial sequence is then set past both the highest id and
 *   SQLite's AUTOINCREMENT high-water mark (`sqlite_sequence`), so no id is ever handed out
 *   twice, as on SQLite. (Envelopes no longer take their ids from the sequence: they draw
 *   random ones, envelope-repo.ts `randomEnvelopeId`, on both engines alike.)
 * - Before the commit, each table's row count and a SHA-256 over its rows in primary-key order
 *   (every value canonically encoded, `canonicalValue`) are computed on both sides by the same
 *   code and compared, as is each sequence's next value. Any difference rolls everything back:
 *   the target's tables stay empty. So does a change to the source file meanwhile (its size,
 *   time or inode, or a `-wal` appearing), which is refused (CopyRefused).
 *
 * Errors name tables and columns, never values (they are survivors' ciphertext and keys).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Knex } from 'knex';
import { migrationSource } from '../../migrations';
import { isPostgres, migrate, openDatabase, openSqliteReadOnly, rowsOf, type Db } from './database';

/** Why the copy did not start, or stopped (rolled back): the target's tables hold none of its rows. */
export class CopyRefused extends Error {}

type Kind = 'integer' | 'boolean' | 'text' | 'binary';

interface TableLayout {
  name: string;
  /** every column, sorted by name (the order values are hashed in) */
  columns: { name: string; kind: Kind }[];
  primaryKey: string[];
  /** tables this one references (its parents) */
  references: string[];
  /** the column a sequence fills (`increments`), if any, and that sequence */
  serial?: { column: string; sequence: string };
}

export interface TableCheck {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceSha256: string;
  targetSha256: string;
  ok: boolean;
}

export interface SequenceCheck {
  table: string;
  column: string;
  /** the id SQLite would hand out next, and the one PostgreSQL will */
  sourceNext: number;
  targetNext: number;
  ok: boolean;
}

export interface CopyReport {
  /** the migrations both databases have run */
  migrations: string[];
  tables: TableCheck[];
  sequences: SequenceCheck[];
  /** every count, hash and sequence matched and the copy was committed */
  ok: boolean;
}

export interface CopyOptions {
  sqliteFile: string;
  postgresUrl: string;
  /** rows per read and per insert (bounded below PostgreSQL's 65,535 parameters per statement) */
  batchRows?: number;
  /** runs on the target's transaction after the copy, before the verification (tests tamper here) */
  beforeVerify?: (trx: Db) => Promise<void>;
}

const KNEX_TABLES = new Set(['knex_migrations', 'knex_migrations_lock']);

export async function copySqliteToPostgres(options: CopyOptions): Promise<CopyReport> {
  const file = options.sqliteFile;
  if (!fs.existsSync(file)) throw new CopyRefused(`There is no SQLite database at ${file}: set DATA_DIR to the instance's data folder.`);
  for (const companion of [`${file}-wal`, `${file}-shm`]) {
    if (fs.existsSync(companion)) {
      throw new CopyRefused(
        `${companion} exists: a server still has the database open, or did not stop cleanly. Stop the server (and if it is not running, start it once and stop it with Ctrl-C, which folds the log into the file), then run this again.`,
      );
    }
  }
  const before = fileState(file);
  const checkSourceUnchanged = () => {
    if (fileState(file) !== before || fs.existsSync(`${file}-wal`)) {
      throw new CopyRefused(
        'The SQLite file changed while it was being copied: a server or another program writes it. Stop it, then run this again.',
      );
    }
  };
  const source = openSqliteReadOnly(file);
  const target = openDatabase({ client: 'pg', url: options.postgresUrl });
  try {
    const migrations = await checkSourceMigrations(source);
    const sourceTables = await sqliteTables(source);
    await checkTargetBeforeMigrating(target, sourceTables);
    await migrate(target);
    const layouts = await postgresLayouts(target);
    await checkSameSchema(source, sourceTables, layouts);
    const ordered = parentsFirst(layouts);
    const batchRows = Math.max(1, Math.min(options.batchRows ?? 500, ...ordered.map((t) => Math.floor(60_000 / t.columns.length))));

    const trx = await target.transaction();
    let report: CopyReport;
    try {
      await trx.raw(
        `LOCK TABLE ${ordered.map(() => '??').join(', ')} IN ACCESS EXCLUSIVE MODE`,
        ordered.map((t) => t.name),
      );
      const occupied: string[] = [];
      for (const t of ordered) {
        const n = await rowCount(trx, t.name);
        if (n > 0) occupied.push(`${t.name} (${n})`);
      }
      if (occupied.length) {
        throw new CopyRefused(
          `The PostgreSQL database already holds Awaaz data: ${occupied.join(', ')}. Copy into a new, empty database (createdb …), never over an instance.`,
        );
      }
      for (const t of ordered) {
        await readInKeyOrder(source, t, batchRows, async (rows) => {
          await trx(t.name).insert(rows.map((row) => targetRow(t, row)));
        });
      }
      const expectedNext = await setSequences(source, trx, ordered);
      await options.beforeVerify?.(trx);
      checkSourceUnchanged();
      report = await verify(source, trx, ordered, expectedNext, migrations);
      checkSourceUnchanged();
      if (report.ok) await trx.commit();
      else await trx.rollback();
    } catch (e) {
      if (!trx.isCompleted()) await trx.rollback();
      throw e;
    }
    // Fresh statistics for the planner after a bulk load (outside the transaction).
    if (report.ok)
      await target.raw(
        `ANALYZE ${ordered.map(() => '??').join(', ')}`,
        ordered.map((t) => t.name),
      );
    return report;
  } finally {
    await source.destroy();
    await target.destroy();
  }
}

/** Size, modification time and inode: what changes if anything writes the file. */
function fileState(file: string): string {
  const s = fs.statSync(file);
  return `${s.size}:${s.mtimeMs}:${s.ino}`;
}

async function checkSourceMigrations(source: Db): Promise<string[]> {
  const known = await migrationSource.getMigrations([]);
  if (!(await source.schema.hasTable('knex_migrations')))
    throw new CopyRefused('This SQLite file is not an Awaaz database (it has no knex_migrations table).');
  const done = (await source('knex_migrations').orderBy('id').select('name')).map((r: { name: string }) =>
    r.name.replace(/\.(ts|js)$/, ''),
  );
  const unknown = done.filter((n) => !known.includes(n));
  if (unknown.length)
    throw new CopyRefused(
      `The SQLite file was migrated by a newer version of Awaaz (${unknown.join(', ')}): run this command from that version.`,
    );
  if (done.length !== known.length || done.some((n, i) => n !== known[i])) {
    throw new CopyRefused(
      `The SQLite file has not run every migration of this version (missing: ${known.filter((n) => !done.includes(n)).join(', ')}). Start this version once on it (\`npm start\`, which migrates the file), stop it, then run this again.`,
    );
  }
  return done;
}

async function sqliteTables(source: Db): Promise<string[]> {
  const rows = rowsOf<{ name: string }>(
    await source.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"),
  );
  return rows.map((r) => r.name).filter((n) => !KNEX_TABLES.has(n));
}

async function postgresTableNames(target: Db): Promise<string[]> {
  return rowsOf<{ name: string }>(
    await target.raw('SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename'),
  ).map((r) => r.name);
}

/**
 * The target may be empty, or hold Awaaz's tables (a previous copy that was rolled back, or
 * the migrations alone): the rows are checked under a lock later. Tables of the same names
 * without Awaaz's migration records belong to something else.
 */
async function checkTargetBeforeMigrating(target: Db, appTables: string[]): Promise<void> {
  const existing = await postgresTableNames(target);
  if (existing.includes('knex_migrations')) {
    const known = await migrationSource.getMigrations([]);
    const done = (await target('knex_migrations').orderBy('id').select('name')).map((r: { name: string }) => r.name);
    if (done.some((n, i) => n !== known[i]))
      throw new CopyRefused(
        `The PostgreSQL database holds migrations this version does not know (${done.join(', ')}): copy into a new, empty database.`,
      );
    return;
  }
  const clashing = existing.filter((n) => appTables.includes(n));
  if (clashing.length)
    throw new CopyRefused(
      `The PostgreSQL database already has tables named ${clashing.join(', ')}, not made by Awaaz's migrations: copy into a new, empty database.`,
    );
}

function kindOf(dataType: string, table: string, column: string): Kind {
  if (['integer', 'bigint', 'smallint'].includes(dataType)) return 'integer';
  if (dataType === 'boolean') return 'boolean';
  if (['text', 'character varying', 'character'].includes(dataType)) return 'text';
  if (dataType === 'bytea') return 'binary';
  throw new CopyRefused(`${table}.${column} has type ${dataType}, which this copy does not know how to carry over exactly.`);
}

/** The kind of a column SQLite declares as knex writes it (varchar(32), bigint, boolean, blob…): its type affinity, with booleans apart. */
function sqliteKind(declared: string): Kind {
  const type = declared.toLowerCase();
  if (type.includes('int')) return 'integer';
  if (type.includes('bool')) return 'boolean';
  if (/char|clob|text/.test(type)) return 'text';
  return 'binary';
}

/** Columns, primary key, foreign keys and serial sequences of the target's tables, from its catalog. */
async function postgresLayouts(target: Db): Promise<TableLayout[]> {
  const names = (await postgresTableNames(target)).filter((n) => !KNEX_TABLES.has(n));
  const columns = rowsOf<{ table: string; column: string; type: string; serial: string | null }>(
    await target.raw(
      `SELECT table_name AS "table", column_name AS "column", data_type AS "type",
              CASE WHEN column_default LIKE 'nextval(%' THEN pg_get_serial_sequence(quote_ident(table_name), column_name) END AS "serial"
         FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, column_name`,
    ),
  );
  const keys = rowsOf<{ table: string; column: string }>(
    await target.raw(
      `SELECT c.relname AS "table", a.attname AS "column"
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace s ON s.oid = c.relnamespace
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE i.indisprimary AND s.nspname = current_schema() ORDER BY c.relname, k.position`,
    ),
  );
  const foreign = rowsOf<{ child: string; parent: string }>(
    await target.raw(
      `SELECT DISTINCT c.relname AS child, p.relname AS parent
         FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class p ON p.oid = f.confrelid JOIN pg_namespace s ON s.oid = c.relnamespace
        WHERE f.contype = 'f' AND s.nspname = current_schema() ORDER BY 1, 2`,
    ),
  );
  return names.map((name) => {
    const cols = columns.filter((c) => c.table === name);
    const serial = cols.find((c) => c.serial);
    const primaryKey = keys.filter((k) => k.table === name).map((k) => k.column);
    if (primaryKey.length === 0) throw new CopyRefused(`Table ${name} has no primary key, so its rows have no set order to verify.`);
    return {
      name,
      columns: cols.map((c) => ({ name: c.column, kind: kindOf(c.type, name, c.column) })),
      primaryKey,
      references: foreign.filter((f) => f.child === name && f.parent !== name).map((f) => f.parent),
      ...(serial ? { serial: { column: serial.column, sequence: serial.serial! } } : {}),
    };
  });
}

/** The same tables with the same columns on both sides (the migrations define both). */
async function checkSameSchema(source: Db, sourceTables: string[], layouts: TableLayout[]): Promise<void> {
  const targetTables = layouts.map((t) => t.name);
  const onlySource = sourceTables.filter((n) => !targetTables.includes(n));
  const onlyTarget = targetTables.filter((n) => !sourceTables.includes(n));
  if (onlySource.length || onlyTarget.length) {
    throw new CopyRefused(
      `The two schemas differ after migrating: tables only in SQLite: ${onlySource.join(', ') || 'none'}; only in PostgreSQL: ${onlyTarget.join(', ') || 'none'}.`,
    );
  }
  for (const t of layouts) {
    const sourceColumns = rowsOf<{ name: string; type: string }>(
      await source.raw('SELECT name, type FROM pragma_table_info(?) ORDER BY name', [t.name]),
    );
    const described = (columns: { name: string; kind: Kind }[]) => columns.map((c) => `${c.name} (${c.kind})`).join(', ');
    const sourceLayout = described(sourceColumns.map((c) => ({ name: c.name, kind: sqliteKind(c.type) })));
    if (sourceLayout !== described(t.columns)) {
      throw new CopyRefused(`Table ${t.name} has columns ${sourceLayout} in SQLite but ${described(t.columns)} in PostgreSQL.`);
    }
  }
}

/** Parents before children (Kahn's algorithm; ties by name, so the order is the same every run). */
function parentsFirst(layouts: TableLayout[]): TableLayout[] {
  const done = new Set<string>();
  const out: TableLayout[] = [];
  let rest = [...layouts].sort((a, b) => (a.name < b.name ? -1 : 1));
  while (rest.length) {
    const ready = rest.filter((t) => t.references.every((p) => done.has(p)));
    if (ready.length === 0)
      throw new CopyRefused(`The foreign keys of ${rest.map((t) => t.name).join(', ')} form a cycle: no table can be copied first.`);
    for (const t of ready) {
      out.push(t);
      done.add(t.name);
    }
    rest = rest.filter((t) => !done.has(t.name));
  }
  return out;
}

async function rowCount(db: Db, table: string): Promise<number> {
  const [row] = await db(table).count({ n: '*' });
  return Number(row.n);
}

/**
 * Calls `onBatch` with the table's rows in primary-key order, `batchRows` at a time, each row
 * holding every column. Text keys are ordered by their bytes on both engines: SQLite's BINARY
 * collation, PostgreSQL's "C" (whatever the database's own collation is). SQLite reads by
 * keyset on the key's index; PostgreSQL through one cursor in the caller's transaction (a
 * keyset under "C" could not use an index built with another collation).
 */
async function readInKeyOrder(
  db: Db,
  t: TableLayout,
  batchRows: number,
  onBatch: (rows: Record<string, unknown>[]) => void | Promise<void>,
): Promise<void> {
  const columns = t.columns.map((c) => c.name);
  const keyKinds = t.primaryKey.map((k) => t.columns.find((c) => c.name === k)!.kind);
  if (isPostgres(db)) {
    if (!db.isTransaction) throw new Error('readInKeyOrder needs a transaction on PostgreSQL (for its cursor)');
    const order = t.primaryKey.map((k, i) => (keyKinds[i] === 'text' ? '?? COLLATE "C"' : '??')).join(', ');
    await db.raw(`DECLARE awaaz_copy_rows NO SCROLL CURSOR FOR SELECT ${columns.map(() => '??').join(', ')} FROM ?? ORDER BY ${order}`, [
      ...columns,
      t.name,
      ...t.primaryKey,
    ]);
    try {
      for (;;) {
        const rows = rowsOf<Record<string, unknown>>(await db.raw(`FETCH FORWARD ${Math.floor(batchRows)} FROM awaaz_copy_rows`));
        if (rows.length === 0) break;
        await onBatch(rows);
      }
    } finally {
      await db.raw('CLOSE awaaz_copy_rows');
    }
    return;
  }
  let last: Knex.Value[] | undefined;
  for (;;) {
    let query = db(t.name).select(columns).orderBy(t.primaryKey).limit(batchRows);
    if (last)
      query = query.whereRaw(`(${t.primaryKey.map(() => '??').join(', ')}) > (${t.primaryKey.map(() => '?').join(', ')})`, [
        ...t.primaryKey,
        ...last,
      ]);
    const rows = (await query) as Record<string, unknown>[];
    if (rows.length === 0) break;
    await onBatch(rows);
    const tail = rows[rows.length - 1];
    last = t.primaryKey.map((k) => tail[k] as Knex.Value);
    if (rows.length < batchRows) break;
  }
}

/**
 * One value as bytes, the same whichever engine it was read from: a tag, a 4-byte length and
 * the value (integers in decimal, booleans as 0 or 1, text as UTF-8, binary as it is). A value
 * that does not fit its column's kind (text in an integer column, which SQLite allows) is
 * refused rather than converted, as a conversion could hide a difference.
 */
function canonicalValue(kind: Kind, value: unknown, where: string): Buffer {
  const tagged = (tag: string, bytes: Buffer) => {
    const head = Buffer.alloc(5);
    head.write(tag, 0, 'latin1');
    head.writeUInt32BE(bytes.length, 1);
    return Buffer.concat([head, bytes]);
  };
  if (value === null || value === undefined) return tagged('n', Buffer.alloc(0));
  switch (kind) {
    case 'integer':
      if (
        (typeof value === 'number' && Number.isSafeInteger(value)) ||
        typeof value === 'bigint' ||
        (typeof value === 'string' && /^-?\d+$/.test(value))
      )
        return tagged('i', Buffer.from(BigInt(value).toString()));
      break;
    case 'boolean':
      if (value === true || value === false || value === 1 || value === 0)
        return tagged('b', Buffer.from(value === true || value === 1 ? '1' : '0'));
      break;
    case 'text':
      if (typeof value === 'string') return tagged('t', Buffer.from(value, 'utf8'));
      break;
    case 'binary':
      if (Buffer.isBuffer(value)) return tagged('x', value);
      break;
  }
  if (kind === 'integer' && typeof value === 'number' && Number.isInteger(value)) {
    throw new CopyRefused(
      `${where} holds an integer beyond 2^53, which the SQLite driver cannot read exactly: it cannot be copied exactly.`,
    );
  }
  throw new CopyRefused(
    `${where} holds a value that is not ${kind === 'integer' ? 'an' : 'a'} ${kind} (a ${Buffer.isBuffer(value) ? 'binary value' : typeof value}): it cannot be copied exactly.`,
  );
}

/** A source row as the target receives it: booleans as booleans, every value checked against its column's kind. */
function targetRow(t: TableLayout, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of t.columns) {
    const v = row[c.name];
    canonicalValue(c.kind, v, `${t.name}.${c.name}`);
    out[c.name] = v === null || v === undefined ? null : c.kind === 'boolean' ? v === true || v === 1 : v;
  }
  return out;
}

/** SHA-256 over the table's name, its columns and every row in primary-key order, and how many rows that was. */
async function tableDigest(db: Db, t: TableLayout, batchRows: number): Promise<{ rows: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  hash.update(`awaaz-table-v1\0${t.name}\0${t.columns.map((c) => c.name).join(',')}\0`);
  let rows = 0;
  await readInKeyOrder(db, t, batchRows, (batch) => {
    for (const row of batch) {
      for (const c of t.columns) hash.update(canonicalValue(c.kind, row[c.name], `${t.name}.${c.name}`));
      rows++;
    }
  });
  return { rows, sha256: hash.digest('hex') };
}

/**
 * The id SQLite hands out next for each serial table (past the highest id, and past
 * sqlite_sequence's record of the highest ever used, even if that row is gone), and the
 * target's sequence set to hand out the same.
 */
async function setSequences(source: Db, trx: Db, layouts: TableLayout[]): Promise<Map<string, number>> {
  const next = new Map<string, number>();
  const hasSequenceTable =
    rowsOf(await source.raw("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")).length > 0;
  for (const t of layouts) {
    if (!t.serial) continue;
    const [{ highest }] = await source(t.name).max({ highest: t.serial.column });
    const [recorded] = hasSequenceTable
      ? rowsOf<{ seq: number }>(await source.raw('SELECT seq FROM sqlite_sequence WHERE name = ?', [t.name]))
      : [];
    const last = Math.max(Number(highest ?? 0), Number(recorded?.seq ?? 0));
    next.set(t.name, last + 1);
    await trx.raw('SELECT setval(?::regclass, ?, ?)', [t.serial.sequence, Math.max(last, 1), last > 0]);
  }
  return next;
}

async function verify(
  source: Db,
  trx: Db,
  layouts: TableLayout[],
  expectedNext: Map<string, number>,
  migrations: string[],
): Promise<CopyReport> {
  const tables: TableCheck[] = [];
  for (const t of layouts) {
    const [s, p] = [await tableDigest(source, t, 500), await tableDigest(trx, t, 500)];
    const [sourceRows, targetRows] = [await rowCount(source, t.name), await rowCount(trx, t.name)];
    // A count that disagrees with the rows read would mean the reading itself skipped rows.
    if (s.rows !== sourceRows || p.rows !== targetRows) throw new Error(`reading ${t.name} in key order missed rows`);
    tables.push({
      table: t.name,
      sourceRows,
      targetRows,
      sourceSha256: s.sha256,
      targetSha256: p.sha256,
      ok: sourceRows === targetRows && s.sha256 === p.sha256,
    });
  }
  const sequences: SequenceCheck[] = [];
  for (const t of layouts) {
    if (!t.serial) continue;
    const [row] = rowsOf<{ last_value: number | string; is_called: boolean }>(
      await trx.raw('SELECT last_value, is_called FROM ??', [t.serial.sequence]),
    );
    const targetNext = Number(row.last_value) + (row.is_called ? 1 : 0);
    const sourceNext = expectedNext.get(t.name)!;
    sequences.push({ table: t.name, column: t.serial.column, sourceNext, targetNext, ok: sourceNext === targetNext });
  }
  return { migrations, tables, sequences, ok: tables.every((t) => t.ok) && sequences.every((s) => s.ok) };
}
