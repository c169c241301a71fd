/**
 * Where a benchmark's app keeps its data: a fresh SQLite file in a temporary folder, or, when
 * BENCH_DATABASE_URL names a PostgreSQL server (a role that may create databases), a fresh
 * database there. Either is removed by `drop`.
 */
import crypto from 'node:crypto';
import { openDatabase } from '../../server/db/database';

export interface BenchDatabase {
  engine: 'sqlite' | 'pg';
  /** settings for loadConfig: DATABASE_URL on PostgreSQL, nothing on SQLite (DATA_DIR decides) */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function benchDatabase(): Promise<BenchDatabase> {
  const serverUrl = process.env.BENCH_DATABASE_URL;
  if (!serverUrl) return { engine: 'sqlite', env: {}, drop: () => Promise.resolve() };
  const name = `awaaz_bench_${crypto.randomBytes(6).toString('hex')}`;
  const admin = openDatabase({ client: 'pg', url: serverUrl });
  await admin.raw('CREATE DATABASE ??', [name]);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    engine: 'pg',
    env: { DATABASE_URL: url.toString() },
    async drop() {
      try {
        await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
      } finally {
        await admin.destroy();
      }
    },
  };
}
