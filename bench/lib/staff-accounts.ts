/**
 * Many staff accounts at once, for benchmarks that sign staff in (bench/login.ts). Runs where
 * the database is (the benchmark's server process), through the app's repositories.
 *
 * Creating each account through an invite would cost one 64 MiB argon2id in the "browser"
 * per account (about a second each); instead every account shares one password-derived
 * authKey, which the load generator derives once, and the server stores its argon2id hash
 * exactly as the routes do (hashAuthKey, same parameters). Each account gets its own TOTP
 * secret, confirmed with "step 0" as its last used step, so any current code is fresh. What a
 * sign-in then does (argon2 verification, TOTP check, the step and counter writes, the audit
 * entry, the session) is exactly what it does in production.
 */
import nacl from 'tweetnacl';
import { randomId, toBase64url, type Argon2Params } from '../../protocol';
import type { AppContext } from '../../server/app';
import type { StaffRecord } from '../../server/db/staff-repo';
import { hashAuthKey, newRecoveryCode, recoveryCodeHash } from '../../server/http/staff-credentials';
import { newTotpSecret } from '../../server/http/totp';

export interface SeededAccount {
  username: string;
  /** base64url of the 20-byte TOTP secret */
  totpSecret: string;
}

/** Inserts `count` active moderators named `${prefix}${i}` sharing one authKey; returns their TOTP secrets. */
export async function seedLoginAccounts(
  ctx: Pick<AppContext, 'db' | 'repos'>,
  count: number,
  shared: { kdf: { params: Argon2Params; salt: string }; authKey: string },
  prefix = 'bench.login',
): Promise<SeededAccount[]> {
  const authHash = await hashAuthKey(shared.authKey);
  const records: StaffRecord[] = Array.from({ length: count }, (_, i) => ({
    id: randomId(),
    username: `${prefix}${i}`,
    roles: ['moderator'],
    status: 'active',
    kdfParams: shared.kdf.params,
    kdfSalt: shared.kdf.salt,
    authHash,
    boxPk: toBase64url(nacl.randomBytes(32)),
    signPk: toBase64url(nacl.randomBytes(32)),
    wrappedKeys: toBase64url(nacl.randomBytes(200)),
  }));
  await ctx.db.transaction(async (trx) => {
    for (const r of records) await ctx.repos.staff.insert(trx, r, Date.now());
  });
  const out: SeededAccount[] = [];
  for (const r of records) {
    const secret = newTotpSecret();
    if (!(await ctx.repos.security.setPendingTotp(r.id, secret))) throw new Error(`could not give ${r.username} a TOTP secret`);
    const confirmed = await ctx.db.transaction((trx) =>
      ctx.repos.security.confirmTotp(trx, r.id, secret, 0, Date.now(), [recoveryCodeHash(newRecoveryCode())]),
    );
    if (!confirmed) throw new Error(`could not confirm ${r.username}'s TOTP secret`);
    out.push({ username: r.username, totpSecret: toBase64url(secret) });
  }
  return out;
}
