/**
 * What someone who copies the database files gets: the SQLite file, its write-ahead log and
 * the WAL index, as raw bytes (deleted rows included, where their bytes are still there).
 */
import fs from 'node:fs';

export function databaseBytes(dbFile: string): Buffer {
  return Buffer.concat([dbFile, `${dbFile}-wal`, `${dbFile}-shm`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
}

/** The needles (text as UTF-8, or bytes) found in those bytes, in the order given. */
export function foundInDatabase<T extends string | Uint8Array>(dbFile: string, needles: T[]): T[] {
  const bytes = databaseBytes(dbFile);
  return needles.filter((n) => bytes.includes(typeof n === 'string' ? Buffer.from(n, 'utf8') : Buffer.from(n)));
}

/** The size of the write-ahead log (0 once a TRUNCATE checkpoint emptied it, or when there is none). */
export function walSize(dbFile: string): number {
  return fs.existsSync(`${dbFile}-wal`) ? fs.statSync(`${dbFile}-wal`).size : 0;
}
