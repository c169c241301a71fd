/**
 * npm runs a dependency's install script only if package.json's `allowScripts` approves it
 * (npm 11 warns about the others; a later npm refuses them). Every package of the lock that has
 * an install script must be decided there, approved or denied, so a new one fails this test
 * until someone looks at what its script does.
 */
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
const pkg: { allowScripts?: Record<string, unknown> } = read('package.json');
const lock: { packages: Record<string, { hasInstallScript?: boolean }> } = read('package-lock.json');

/** "node_modules/a/node_modules/@scope/b" → "@scope/b" */
const nameOf = (lockPath: string) => lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
const withInstallScripts = [
  ...new Set(
    Object.entries(lock.packages)
      .filter(([p, entry]) => p !== '' && entry.hasInstallScript === true)
      .map(([p]) => nameOf(p)),
  ),
].sort();
const policy = pkg.allowScripts ?? {};

test('every package of the lock with an install script is approved or denied in allowScripts, and nothing else is listed', () => {
  expect(withInstallScripts.length).toBeGreaterThan(0);
  expect(Object.keys(policy).sort()).toEqual(withInstallScripts);
});

test('each entry is a bare package name decided true or false (npm pins need a resolved URL, which this lock does not keep)', () => {
  for (const [name, decision] of Object.entries(policy)) {
    expect(name).toMatch(/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/);
    expect(typeof decision).toBe('boolean');
  }
});

test('only the packages that cannot work without their script run one', () => {
  // sqlite3 ships no addon and builds it from source; argon2's install script loads its
  // prebuilt addon in a child process and builds from source when that fails (the linux-x64
  // prebuild of 0.45.1 crashes with a segmentation fault on some machines, this one included).
  // esbuild and unrs-resolver find their platform packages through the lock, and
  // @parcel/watcher (jest's watch mode) builds only when asked to build from source.
  expect(
    Object.keys(policy)
      .filter((name) => policy[name] === true)
      .sort(),
  ).toEqual(['argon2', 'sqlite3']);
});
