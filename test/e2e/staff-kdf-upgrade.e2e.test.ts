/**
 * A staff record made with the older KDF parameters (64 MiB, t = 3) is re-keyed by the real
 * sign-in page in Chromium: the page says it is updating the account's key protection, the
 * record afterwards holds STAFF_KDF and a new salt, the same password still opens the same
 * private keys, and the next sign-in does not re-key again.
 *
 * The old record is made as the code before the change of defaults made it: the admin's
 * private keys (opened here with the password) wrapped under 64 MiB / t = 3 and a new salt.
 */
import type { Knex } from 'knex';
import nacl from 'tweetnacl';
import type { Browser } from 'playwright-core';
import {
  fromBase64url,
  STAFF_KDF,
  staffSecrets,
  toBase64url,
  unwrapPrivateKeys,
  wrapPrivateKeys,
  type Argon2Params,
  type StaffPrivateKeys,
} from '../../protocol';
import { hashAuthKey } from '../../server/http/staff-credentials';
import { ADMIN, setUpFirstAdmin, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

const OLD_KDF: Argon2Params = { alg: 'argon2id', m: 64 * 1024, t: 3, p: 1 };

describeInBrowser('re-keying an old staff record at sign-in in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Knex;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    db = server.openDb();
  });
  afterAll(async () => {
    await db?.destroy();
    await browser?.close();
    await server?.stop();
  });

  const record = async () => {
    const row = await db('staff').where({ username: ADMIN.username }).first();
    return {
      params: JSON.parse(row.kdf_params) as Argon2Params,
      salt: row.kdf_salt as string,
      wrappedKeys: row.wrapped_keys as string,
      authHash: row.auth_hash as string,
    };
  };
  const openKeys = async (r: Awaited<ReturnType<typeof record>>): Promise<StaffPrivateKeys> =>
    unwrapPrivateKeys(r.wrappedKeys, (await staffSecrets(ADMIN.password, fromBase64url(r.salt), r.params)).wrapKey);

  test('an old record is re-keyed to the current parameters on the next sign-in, once', async () => {
    const setup = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(setup.page, server.setupLink, false);
    await setup.context.close();

    // Turn the admin's record into one made before the change of defaults.
    const made = await record();
    expect(made.params).toEqual(STAFF_KDF);
    const keys = await openKeys(made);
    const oldSalt = nacl.randomBytes(16);
    const old = await staffSecrets(ADMIN.password, oldSalt, OLD_KDF);
    await db('staff')
      .where({ username: ADMIN.username })
      .update({
        kdf_params: JSON.stringify(OLD_KDF),
        kdf_salt: toBase64url(oldSalt),
        auth_hash: await hashAuthKey(toBase64url(old.authKey)),
        wrapped_keys: wrapPrivateKeys(keys, old.wrapKey),
      });
    const before = await record();
    expect(before.params).toEqual(OLD_KDF);

    // Sign in through the page, keeping every text the sign-in status shows.
    const { page, context, sent } = await newGuardedPage(browser, problems);
    await page.addInitScript(`document.addEventListener('DOMContentLoaded', () => {
      window.__statuses = [];
      const status = document.getElementById('login-status');
      new MutationObserver(() => window.__statuses.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
    });`);
    const rekeyed = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/staff/kdf', {
      timeout: 60_000,
    });
    await staffSignIn(page, server.url, ADMIN);
    expect((await rekeyed).status()).toBe(200);
    const statuses = await page.evaluate<string[]>('window.__statuses');
    expect(statuses.filter((s) => /Updating this account's key protection \(only this once\)/.test(s))).toHaveLength(1);

    const after = await record();
    expect(after.params).toEqual(STAFF_KDF);
    expect(after.salt).not.toBe(before.salt);
    expect(after.authHash).not.toBe(before.authHash);
    // The same password opens the same private keys under the new record; the old derivation no longer does.
    const reopened = await openKeys(after);
    expect(reopened.boxSecretKey).toEqual(keys.boxSecretKey);
    expect(reopened.signSecretKey).toEqual(keys.signSecretKey);
    expect(reopened.instanceSecretKey).toEqual(keys.instanceSecretKey);
    expect(() => unwrapPrivateKeys(after.wrappedKeys, old.wrapKey)).toThrow();
    // The workspace works after the re-key, and the audit log names it.
    await page.getByRole('heading', { name: 'Workspace' }).waitFor();
    const actions = (await db('audit_log').select('action')).map((r: { action: string }) => r.action);
    expect(actions.filter((a) => a === 'staff.kdf_upgraded')).toHaveLength(1);
    await context.close();

    // The next sign-in uses the current parameters and does not re-key.
    const again = await newGuardedPage(browser, problems);
    await staffSignIn(again.page, server.url, ADMIN);
    expect(again.sent.filter((r) => new URL(r.url).pathname === '/api/staff/kdf')).toEqual([]);
    expect(sent.filter((r) => new URL(r.url).pathname === '/api/staff/kdf')).toHaveLength(1);
    expect((await record()).salt).toBe(after.salt);
    await again.context.close();
    expect(problems).toEqual([]);
  });
});
