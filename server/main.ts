/**
 * Starts Awaaz: checks the configuration, the data folder (SQLite: its modes, and one server
 * at a time: server/data-dir.ts) and the key files, opens the database, runs the migrations,
 * checks the key files against the database (server/key-checks.ts), starts the sweeper, prints
 * the URL (and a one-time setup link while there is no admin), listens, and shuts down cleanly.
 */
import { once } from 'node:events';
import path from 'node:path';
import { fingerprint, fingerprintLink } from '../protocol';
import { createApp } from './app';
import { ConfigError, loadAddressKey, loadConfig, loadMatchingKey, loadServerKey, loadTotpKeys } from './config';
import { checkDataDir, databaseOpenError, lockDataDir } from './data-dir';
import { migrate, openDatabase } from './db/database';
import { checkKeyFiles, watchKeyFiles } from './key-checks';
import { issueSetupLink, setupLinkValidUntil } from './setup-link';
import { startMailer } from './mailer';
import { startSweeper } from './sweeper';

// Before any file is made: the database, its -wal and -shm, and the key files are the server user's alone.
process.umask(0o077);

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.database.client === 'sqlite') {
    checkDataDir(config.database.filename);
    lockDataDir(path.dirname(config.database.filename)); // given back at exit
  }
  const addressKey = loadAddressKey(config.addressKeyFile);
  const serverKey = loadServerKey(config.serverKeyFile);
  const matchingKey = loadMatchingKey(config.matchingKeyFile);
  const totpKeys = loadTotpKeys(config);
  const db = openDatabase(config.database);
  try {
    await migrate(db);
  } catch (e) {
    throw config.database.client === 'sqlite' ? databaseOpenError(config.database.filename, e) : e;
  }
  // A matching key the database contradicts stops the start; a changed address or server key is said.
  const keys = { addressKey, serverKey, matchingKey };
  for (const warning of await checkKeyFiles(db, config, keys)) console.warn(warning);
  const stopKeyWatch = watchKeyFiles(db, config, keys, (line) => console.warn(line));
  const { app, ctx } = await createApp({
    db,
    config,
    addressKey,
    serverKey,
    matchingKey,
    totpKeys,
    clientDir: path.resolve(__dirname, '../client'),
  });
  // Expired counters, challenges and stale uploads are erased now and a second after every minute.
  const stopSweeper = startSweeper(ctx);
  // Staff alerts, when an SMTP server is configured: sent from their queue every ALERT_CHECK_SECONDS.
  const stopMailer = startMailer(ctx);

  const server = app.listen(config.port, config.host);
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing open requests, then stopping`);
    stopSweeper();
    stopMailer();
    stopKeyWatch();
    server.close(() => {
      db.destroy().then(
        () => process.exit(0),
        (err) => {
          console.error(err);
          process.exit(1);
        },
      );
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  // Rejects (and main() reports it) if the port cannot be listened on.
  await once(server, 'listening');
  console.log(`Awaaz is running at ${config.publicUrl}`);
  console.log(`Database: ${config.database.client === 'sqlite' ? config.database.filename : 'PostgreSQL (DATABASE_URL)'}`);
  console.log(`Address key: ${config.addressKeyFile} (never back it up with the database)`);
  console.log(`Server key: ${config.serverKeyFile} (never back it up with the database)`);
  console.log(`Matching key: ${config.matchingKeyFile}, version ${matchingKey.version} (never back it up with the database)`);
  console.log(`TOTP key: ${config.totpKeyFile} (keep a copy apart from the database backups: without it no one can sign in)`);
  console.log(config.smtp ? `Staff alerts: by email through ${config.smtp.host}:${config.smtp.port}` : 'Staff alerts: off (no SMTP_HOST)');
  const row = await ctx.repos.instance.ensure(ctx.clock.today());
  if (!row.instance_pk) {
    const link = await issueSetupLink(ctx.repos.instance, config.publicUrl, ctx.clock);
    console.log('');
    console.log('No admin yet. Open this one-time link in your browser to create the first admin:');
    console.log(`  ${link.url}`);
    console.log(
      `It works until ${setupLinkValidUntil(link)}. (Expired or lost? Restart the server or run \`npm run admin -- init\` for a new one.)`,
    );
  } else {
    const fp = fingerprint(row.instance_pk);
    console.log(`Instance fingerprint: ${fp}`);
    // With the newest keyset version: a visit through the link refuses an older list (publish it again after a removal).
    const version = (await ctx.repos.keysets.current())?.keyset.version;
    console.log(
      `Link to publish (a first visit through it trusts only this fingerprint, and no list of readers older than version ${version ?? 1}; publish it again after removing a member): ${fingerprintLink(config.publicUrl, fp, version)}`,
    );
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
