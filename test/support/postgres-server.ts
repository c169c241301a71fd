/**
 * A PostgreSQL server for tests that need one whatever engine the suite runs on (the copy
 * from SQLite to PostgreSQL): the server at TEST_DATABASE_URL when set, else the throwaway
 * one of scripts/test-postgres.sh (started here if it is not running, and stopped afterwards
 * if it was started here). Under CI=true a missing PostgreSQL fails the run; locally those
 * tests are skipped with a loud warning, as the browser tests are without a browser.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness';

const SCRIPT = path.join(ROOT, 'scripts/test-postgres.sh');

function postgresInstalled(): boolean {
  if (process.env.PG_BIN) return fs.existsSync(path.join(process.env.PG_BIN, 'pg_ctl'));
  const root = '/usr/lib/postgresql';
  return fs.existsSync(root) && fs.readdirSync(root).some((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')));
}

const AVAILABLE = Boolean(process.env.TEST_DATABASE_URL) || postgresInstalled();
if (!AVAILABLE) {
  if (process.env.CI)
    throw new Error('PostgreSQL is required for these tests in CI: apt-get install -y postgresql (or set TEST_DATABASE_URL)');
  console.warn(
    '\n!!! POSTGRESQL TESTS SKIPPED: no PostgreSQL found (apt-get install postgresql, or set TEST_DATABASE_URL). CI fails without it. !!!\n',
  );
}

/** `describe` when a PostgreSQL server can be had; a loudly announced skip otherwise (never under CI). */
export const describeWithPostgres = AVAILABLE ? describe : describe.skip;

/** The address of a server whose role may create databases, and how to let go of it. */
export function testPostgresServer(): { url: string; release(): void } {
  if (process.env.TEST_DATABASE_URL) return { url: process.env.TEST_DATABASE_URL, release() {} };
  const urlOf = (out: string) => /TEST_DATABASE_URL=(\S+)/.exec(out)?.[1];
  let running: string | undefined;
  try {
    running = urlOf(execFileSync(SCRIPT, ['url'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    running = undefined;
  }
  if (running) return { url: running, release() {} };
  const url = urlOf(execFileSync(SCRIPT, ['start'], { encoding: 'utf8' }));
  if (!url) throw new Error('scripts/test-postgres.sh start printed no TEST_DATABASE_URL');
  return { url, release: () => void execFileSync(SCRIPT, ['stop'], { stdio: 'ignore' }) };
}
