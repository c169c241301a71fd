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
        // An autovacuum worker in the database can only be ended by a role with
        // pg_signal_backend (scripts/test-postgres.sh grants it); on a server whose role lacks
        // it, wait for the worker to finish instead.
        for (let attempt = 1; ; attempt++) {
          try {
            await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
            return;
          } catch (e) {
            if (attempt >= 20 || !/pg_signal_backend/.test(String((e as Error).message))) throw e;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      } finally {
        await admin.destroy();
      }
    },
  };
}
