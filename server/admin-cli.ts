/**
 * `npm run admin -- init`: prints a fresh one-time link to create the first admin (the old
 * link stops working). Refuses once an admin exists, and where there is no instance yet (no
 * database in DATA_DIR, or an empty DATABASE_URL): a link to a new empty database would be to
 * an instance no server runs (the wrong folder, most likely); the first `npm start` makes the
 * database and prints the link itself.
 *
 * `npm run admin -- migrate-to-postgres [postgres://…]` (or DATABASE_URL): copies this
 * instance's SQLite file (DATA_DIR) into an empty PostgreSQL database, verifies every table's
 * count and hash, and commits only if all match (server/db/sqlite-to-postgres.ts).
 *
 * `npm run admin -- rotate-matching-key`: replaces the matching escrow's OPRF key
 * (MATCHING_KEY_FILE) with a new one of the next version. Restart every server instance
 * afterwards; survivors' browsers re-derive their tags under the new key on their next visit.
 */
import { systemClock } from './clock';
import fs from 'node:fs';
import { ConfigError, loadConfig, rotateMatchingKey } from './config';
import { checkDataDir, databaseOpenError } from './data-dir';
import { migrate, openDatabase } from './db/database';
import { instanceRepo } from './db/instance-repo';
import { copySqliteToPostgres, CopyRefused, type CopyReport } from './db/sqlite-to-postgres';
import { issueSetupLink, setupLinkValidUntil } from './setup-link';

const USAGE = [
  'usage: npm run admin -- init                               print a one-time link to create the first admin',
  '       npm run admin -- migrate-to-postgres [postgres://…]  copy this SQLite instance into an empty PostgreSQL database',
  '                                                            (the address defaults to DATABASE_URL)',
  '       npm run admin -- rotate-matching-key                 replace the matching OPRF key with the next version (then restart)',
].join('\n');

// Anything these commands write (a key file, the database's -wal and -shm) is this user's alone, as the server's.
process.umask(0o077);

const NO_INSTANCE =
  'Start the server once (npm start): it sets up the database and prints the link. If the instance exists, run this command with the DATA_DIR (or DATABASE_URL) the server runs with.';

async function init(): Promise<number> {
  const config = loadConfig();
  if (config.database.client === 'sqlite') {
    if (!fs.existsSync(config.database.filename)) {
      console.error(`DATA_DIR: there is no Awaaz database at ${config.database.filename}; nothing was made. ${NO_INSTANCE}`);
      return 1;
    }
    checkDataDir(config.database.filename);
  }
  const db = openDatabase(config.database);
  try {
    let made: boolean;
    try {
      made = await db.schema.hasTable('instance');
    } catch (e) {
      throw config.database.client === 'sqlite' ? databaseOpenError(config.database.filename, e) : e;
    }
    if (!made) {
      console.error(
        `${config.database.client === 'sqlite' ? 'DATA_DIR' : 'DATABASE_URL'}: this database holds no Awaaz instance. ${NO_INSTANCE}`,
      );
      return 1;
    }
    await migrate(db);
    const repo = instanceRepo(db);
    const row = await repo.ensure(systemClock.today());
    if (row.instance_pk) {
      console.error('This instance already has an admin. New staff are invited from the staff page.');
      return 1;
    }
    console.log('Open this one-time link in your browser to create the first admin:');
    const link = await issueSetupLink(repo, config.publicUrl, systemClock);
    console.log(`  ${link.url}`);
    console.log(`It works until ${setupLinkValidUntil(link)}; any earlier setup link no longer works.`);
    return 0;
  } finally {
    await db.destroy();
  }
}

/** The address with its password hidden, to print. */
function shown(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

function printReport(report: CopyReport): void {
  const header = ['table', 'rows in SQLite', 'rows in PostgreSQL', 'SHA-256 of the rows (both sides, in key order)', ''];
  const lines = report.tables.map((t) => [
    t.table,
    String(t.sourceRows),
    String(t.targetRows),
    t.ok ? t.sourceSha256 : `SQLite ${t.sourceSha256} / PostgreSQL ${t.targetSha256}`,
    t.ok ? 'same' : 'DIFFERENT',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(row(header));
  for (const l of lines) console.log(row(l));
  for (const s of report.sequences)
    console.log(`next ${s.table}.${s.column}: ${s.sourceNext} in SQLite, ${s.targetNext} in PostgreSQL: ${s.ok ? 'same' : 'DIFFERENT'}`);
  console.log(`migrations: ${report.migrations.join(', ')} (run on PostgreSQL by this command; knex_migrations is not copied)`);
}

async function migrateToPostgres(urlArgument: string | undefined): Promise<number> {
  const url = urlArgument ?? process.env.DATABASE_URL;
  if (!url) {
    console.error(
      'Name the PostgreSQL database to copy into: npm run admin -- migrate-to-postgres postgres://user:password@host:5432/database (or set DATABASE_URL).',
    );
    return 2;
  }
  // The source is the SQLite file this instance runs on without DATABASE_URL; the target is checked as DATABASE_URL is at start.
  const source = loadConfig({ ...process.env, DATABASE_URL: undefined });
  const target = loadConfig({ ...process.env, DATABASE_URL: url });
  if (source.database.client !== 'sqlite' || target.database.client !== 'pg') throw new Error('unreachable');
  console.log(`Copying ${source.database.filename} into ${shown(target.database.url)}`);
  let report: CopyReport;
  try {
    report = await copySqliteToPostgres({ sqliteFile: source.database.filename, postgresUrl: target.database.url });
  } catch (e) {
    if (e instanceof CopyRefused) {
      console.error(`Stopped: nothing was copied into PostgreSQL. ${e.message}`);
      return 1;
    }
    // The transaction was rolled back: the migrations may have run, but no table holds a copied row.
    console.error(
      `The copy failed and nothing of it was kept (the SQLite file is untouched): ${e instanceof Error ? e.message : String(e)}`,
    );
    return 1;
  }
  printReport(report);
  if (!report.ok) {
    console.error('');
    console.error(
      'The copy does not match, so it was rolled back: the PostgreSQL tables are empty again and the SQLite file is untouched.',
    );
    console.error(
      'Make sure no Awaaz server runs on either database, then run this command again. Until a copy matches, keep serving from SQLite.',
    );
    return 1;
  }
  console.log('');
  console.log('Every table was copied and matches. Next:');
  console.log('  1. Keep the key files with the instance: none of them is in the database. On another machine, copy each');
  console.log('     there (mode 0600) and set its variable. Most of all:');
  console.log(`     - the TOTP key, ${source.totpKeyFile} (TOTP_KEY_FILE): without it no staff member can sign in;`);
  console.log(`     - the matching key, ${source.matchingKeyFile} (MATCHING_KEY_FILE): without it no identifier named so far matches;`);
  console.log(`     - the server key, ${source.serverKeyFile} (SERVER_KEY_FILE): without it, open survivor sessions end;`);
  console.log(`     - the address key, ${source.addressKeyFile} (ADDRESS_KEY_FILE): without it, rate-limit counters start afresh.`);
  console.log('  2. Start Awaaz on PostgreSQL: DATABASE_URL=<this address> npm start');
  console.log(`  3. Keep ${source.database.filename} as a backup until you have checked the instance, then delete it.`);
  return 0;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'init' && rest.length === 0) return init();
  if (command === 'migrate-to-postgres' && rest.length <= 1) return migrateToPostgres(rest[0]);
  if (command === 'rotate-matching-key' && rest.length === 0) {
    const config = loadConfig();
    const version = rotateMatchingKey(config.matchingKeyFile);
    console.log(`Matching key ${config.matchingKeyFile} is now version ${version}. Restart every Awaaz instance that shares it.`);
    console.log(
      "Survivors' browsers re-derive their identifiers' tags under it on their next visit; until then, older tags match only each other.",
    );
    return 0;
  }
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
