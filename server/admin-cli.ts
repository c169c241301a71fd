/**
 * `npm run admin -- init`: prints a fresh one-time link to create the first admin (the old
 * link stops working). Refuses once an admin exists.
 */
import { systemClock } from './clock';
import { loadConfig } from './config';
import { migrate, openDatabase } from './db/database';
import { instanceRepo } from './db/instance-repo';
import { issueSetupLink } from './setup-link';

async function main(): Promise<number> {
  const [command] = process.argv.slice(2);
  if (command !== 'init') {
    console.error('usage: npm run admin -- init    print a one-time link to create the first admin');
    return 2;
  }
  const config = loadConfig();
  const db = openDatabase(config.database);
  try {
    await migrate(db);
    const repo = instanceRepo(db);
    const row = await repo.ensure(systemClock.today());
    if (row.instance_pk) {
      console.error('This instance already has an admin. New staff are invited from the staff page.');
      return 1;
    }
    console.log('Open this one-time link in your browser to create the first admin:');
    console.log(`  ${await issueSetupLink(repo, config.publicUrl)}`);
    return 0;
  } finally {
    await db.destroy();
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
