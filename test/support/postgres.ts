/**
 * The PostgreSQL the tests run on, when they do: TEST_DATABASE_URL names a server whose role
 * may create databases (scripts/test-postgres.sh starts a throwaway one; `npm test` sets it
 * for its second run). No jest globals: the browser tests' server processes use it too.
 */
import crypto from 'node:crypto';
import { openDatabase } from '../../server/db/database';

/** The engine the tests run on: PostgreSQL when TEST_DATABASE_URL is set, else the embedded SQLite file. */
export const TEST_ENGINE: 'sqlite' | 'pg' = process.env.TEST_DATABASE_URL ? 'pg' : 'sqlite';

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database on the server of `serverUrl`, and the function that drops it (with any
 * connection still open to it). Every test server gets its own, as each gets its own SQLite file.
 */
export async function freshPostgresDatabase(serverUrl: string): Promise<FreshDatabase> {
  const name = `awaaz_t_${crypto.randomBytes(8).toString('hex')}`;
  const admin = openDatabase({ client: 'pg', url: serverUrl });
  try {
    await admin.raw('CREATE DATABASE ??', [name]);
  } catch (e) {
    await admin.destroy();
    throw e;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      try {
        await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
      } finally {
        await admin.destroy();
      }
    },
  };
}
