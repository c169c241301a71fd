/**
 * Whether the key files are the ones this database last ran with (migrations/015_key_checks.ts).
 * The database keeps, per key, an HMAC of a fixed text under the key: it tells one key from
 * another and gives nothing towards the key.
 *
 * - The matching key: entries are tagged under a numbered version of it, and survivors' browsers
 *   derive their tags again only when the number goes up. A key file made afresh (lost, or not
 *   copied to a new machine) starts again at version 1 with other bytes, and every match would
 *   silently stop. So a version whose bytes differ from those the database saw, or a version
 *   older than one it saw, stops the start with a ConfigError naming MATCHING_KEY_FILE.
 * - The address and server keys: a new one is expected after the database is restored on a new
 *   machine (they are never backed up with it), so a change is recorded and said, not refused.
 *   Instances sharing one PostgreSQL database must read the same files: each run checks again
 *   every minute (`watchKeyFiles`), so an instance that another one, started with other files,
 *   has overruled says so in its log.
 * The TOTP key is checked elsewhere: its secrets name the key they are sealed under
 * (server/app.ts sealTotpSecrets).
 */
import crypto from 'node:crypto';
import { ConfigError, type Config, type MatchingKeyFile } from './config';
import type { Db } from './db/database';
import { keyCheckRepo } from './db/key-check-repo';

export interface CheckedKeys {
  addressKey: string;
  serverKey: string;
  matchingKey: MatchingKeyFile;
}

type KeyFileNames = Pick<Config, 'addressKeyFile' | 'serverKeyFile' | 'matchingKeyFile'>;

/** The check of one key: 16 bytes of HMAC-SHA-256 over a text naming its use. */
export function keyCheck(key: string | Uint8Array, name: string): string {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'base64url') : Buffer.from(key);
  return crypto.createHmac('sha256', bytes).update(`awaaz/v1/key-check\n${name}`).digest().subarray(0, 16).toString('base64url');
}

const matchingName = (version: number) => `matching:v${version}`;

/** The address and server keys, by check name, with the variable and file that name them. */
function replaceableKeys(files: KeyFileNames, keys: CheckedKeys) {
  return [
    { name: 'address', variable: 'ADDRESS_KEY_FILE', file: files.addressKeyFile, check: keyCheck(keys.addressKey, 'address') },
    { name: 'server', variable: 'SERVER_KEY_FILE', file: files.serverKeyFile, check: keyCheck(keys.serverKey, 'server') },
  ];
}

/**
 * At start, after the migrations: refuses a matching key the database contradicts, records
 * new checks, and answers a warning for each address or server key that changed.
 */
export async function checkKeyFiles(db: Db, files: KeyFileNames, keys: CheckedKeys): Promise<string[]> {
  const checks = keyCheckRepo(db);
  const { version, seed } = keys.matchingKey;
  const newest = Math.max(0, ...(await checks.names()).filter((n) => n.startsWith('matching:v')).map((n) => Number(n.slice(10))));
  const refuse = (why: string) =>
    new ConfigError(
      `invalid configuration: MATCHING_KEY_FILE: ${files.matchingKeyFile} ${why}. Put back the key file this database ran with; ` +
        'if it is lost, run `npm run admin -- rotate-matching-key` until its version is above the ones this database has seen, ' +
        "so that survivors' browsers derive their tags again under a new key",
    );
  if (version < newest) throw refuse(`holds version ${version}, but this database has seen version ${newest}`);
  const stored = await checks.recordIfNew(matchingName(version), keyCheck(seed, matchingName(version)));
  if (stored !== keyCheck(seed, matchingName(version)))
    throw refuse(`holds a version ${version} other than the version-${version} key this database's matching entries were made with`);

  const warnings: string[] = [];
  for (const k of replaceableKeys(files, keys)) {
    const before = await checks.recordIfNew(k.name, k.check);
    if (before === k.check) continue;
    await checks.replace(k.name, k.check);
    warnings.push(
      `${k.variable}: ${k.file} is not the key this database last ran with. That is expected after restoring the database on ` +
        'another machine. If another instance still runs on this database, give every instance the same file: ' +
        (k.name === 'server' ? 'each refuses the sign-ins the others issued.' : 'each counts the rate limits apart.'),
    );
  }
  return warnings;
}

/** The address and server keys that another instance has since recorded as different from this one's. */
export async function keyFilesOverruled(db: Db, files: KeyFileNames, keys: CheckedKeys): Promise<string[]> {
  const checks = keyCheckRepo(db);
  const overruled: string[] = [];
  for (const k of replaceableKeys(files, keys)) {
    const stored = await checks.get(k.name);
    if (stored !== undefined && stored !== k.check)
      overruled.push(
        `${k.variable}: another instance on this database started with a different key than ${k.file}; ` +
          'give every instance the same file' +
          (k.name === 'server'
            ? ': until then each refuses the sign-ins the others issued.'
            : ': until then each counts the rate limits apart.'),
      );
  }
  return overruled;
}

/** Every minute, logs once each key that another instance overruled (see keyFilesOverruled). Returns a stop function. */
export function watchKeyFiles(db: Db, files: KeyFileNames, keys: CheckedKeys, log: (line: string) => void): () => void {
  const said = new Set<string>();
  const timer = setInterval(() => {
    keyFilesOverruled(db, files, keys).then(
      (lines) => {
        for (const line of lines.filter((l) => !said.has(l))) {
          said.add(line);
          log(line);
        }
      },
      () => undefined, // the database unreachable for a moment: the next minute checks again
    );
  }, 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
