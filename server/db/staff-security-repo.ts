/**
 * Staff account security: the TOTP second factor and recovery codes, per-username login
 * throttling, sessions ended together ("log out everywhere", password change), the last-seen
 * day, and replacing a member's password-derived credentials. Policy (how long a lock lasts,
 * what counts as a valid code) lives in server/http; this file only reads and writes.
 */
import { fromBase64url, type Argon2Params } from '../../protocol';
import type { TotpSealer } from '../crypto/totp-sealing';
import { lockRows, rowsOf, type Db } from './database';

export interface TotpState {
  /** the confirmed secret; null until the member confirmed a code */
  secret: Uint8Array | null;
  /** a secret shown but not yet confirmed */
  pending: Uint8Array | null;
  lastStep: number | null;
}

export interface LoginLock {
  failures: number;
  lockedUntil: number;
}

/**
 * TOTP secrets are stored sealed (server/crypto/totp-sealing.ts): `sealer` encrypts what is
 * written and opens what is read, each value bound to its member and column.
 */
export function staffSecurityRepo(db: Db, sealer: TotpSealer) {
  /** The member's recovery codes are these from now on; the old ones stop working. */
  async function replaceRecoveryCodes(trx: Db, staffId: string, recoveryCodeHashes: string[]): Promise<void> {
    await trx('staff_recovery_codes').where({ staff_id: staffId }).delete();
    await trx('staff_recovery_codes').insert(recoveryCodeHashes.map((code_hash) => ({ staff_id: staffId, code_hash })));
  }
  const open = (v: string | null | undefined, staffId: string, slot: 'secret' | 'pending') => (v ? sealer.open(v, staffId, slot) : null);
  return {
    // TOTP -------------------------------------------------------------------------------
    async totpState(staffId: string, q: Db = db): Promise<TotpState> {
      const row = await q('staff').where({ id: staffId }).first('totp_secret_sealed', 'totp_pending_sealed', 'totp_last_step');
      return {
        secret: open(row?.totp_secret_sealed, staffId, 'secret'),
        pending: open(row?.totp_pending_sealed, staffId, 'pending'),
        lastStep: row?.totp_last_step == null ? null : Number(row.totp_last_step),
      };
    },
    /** Whether the member has confirmed a TOTP secret (in the caller's transaction when given). */
    async totpEnrolled(staffId: string, q: Db = db): Promise<boolean> {
      const row = await q('staff').where({ id: staffId }).whereNotNull('totp_secret_sealed').first('id');
      return Boolean(row);
    },
    /** Stores a new unconfirmed secret (in `trx` when given); false once a secret is confirmed (it cannot be swapped this way). */
    async setPendingTotp(staffId: string, secret: Uint8Array, trx: Db = db): Promise<boolean> {
      const n = await trx('staff')
        .where({ id: staffId })
        .whereNull('totp_secret_sealed')
        .update({ totp_pending_sealed: sealer.seal(secret, staffId, 'pending') });
      return n === 1;
    },
    /**
     * Makes the pending secret the member's secret, records the confirming code's step, and
     * replaces the recovery codes. False if the pending secret changed meanwhile.
     */
    async confirmTotp(
      trx: Db,
      staffId: string,
      pending: Uint8Array,
      step: number,
      now: number,
      recoveryCodeHashes: string[],
    ): Promise<boolean> {
      // The stored value is sealed under a fresh nonce each time: compare what it opens to.
      const row = await trx('staff').where({ id: staffId }).whereNull('totp_secret_sealed').first('totp_pending_sealed');
      const stored: string | null = row?.totp_pending_sealed ?? null;
      const current = open(stored, staffId, 'pending');
      if (!stored || !current || Buffer.compare(Buffer.from(current), Buffer.from(pending)) !== 0) return false;
      const n = await trx('staff')
        .where({ id: staffId, totp_pending_sealed: stored })
        .whereNull('totp_secret_sealed')
        .update({
          totp_secret_sealed: sealer.seal(pending, staffId, 'secret'),
          totp_pending_sealed: null,
          totp_last_step: step,
          totp_enrolled_at: now,
        });
      if (n !== 1) return false;
      await replaceRecoveryCodes(trx, staffId, recoveryCodeHashes);
      return true;
    },
    replaceRecoveryCodes,
    /**
     * Forgets the member's second factor (an admin's reset): secret, unconfirmed secret, last
     * step and recovery codes. Their next sign-in can only enrol TOTP again. False if the member
     * had none.
     */
    async resetTotp(trx: Db, staffId: string): Promise<boolean> {
      const n = await trx('staff')
        .where({ id: staffId })
        .whereNotNull('totp_secret_sealed')
        .update({ totp_secret_sealed: null, totp_pending_sealed: null, totp_last_step: null, totp_enrolled_at: null });
      await trx('staff_recovery_codes').where({ staff_id: staffId }).delete();
      return n === 1;
    },
    /**
     * At start: seals every TOTP secret not yet under the current key: those stored before
     * encryption at rest (in the plaintext columns, which are emptied) and, while rotating,
     * those under the previous key. Returns how many members' rows changed. Throws
     * TotpKeyMissing, before writing anything, if one is under a key that is not loaded.
     */
    async sealStoredSecrets(trx: Db): Promise<number> {
      type Row = Record<'totp_secret' | 'totp_pending_secret' | 'totp_secret_sealed' | 'totp_pending_sealed', string | null> & {
        id: string;
      };
      const rows: Row[] = await trx('staff')
        .where((q) => {
          for (const c of ['totp_secret', 'totp_pending_secret', 'totp_secret_sealed', 'totp_pending_sealed']) q.orWhereNotNull(c);
        })
        .select('id', 'totp_secret', 'totp_pending_secret', 'totp_secret_sealed', 'totp_pending_sealed');
      const updates: { was: Row; now: Partial<Row> }[] = [];
      for (const r of rows) {
        const sealed = (plain: string | null, stored: string | null, slot: 'secret' | 'pending') => {
          if (plain !== null) return sealer.seal(fromBase64url(plain), r.id, slot);
          if (stored === null || sealer.isCurrent(stored)) return stored;
          return sealer.seal(sealer.open(stored, r.id, slot), r.id, slot);
        };
        const now = {
          totp_secret: null,
          totp_pending_secret: null,
          totp_secret_sealed: sealed(r.totp_secret, r.totp_secret_sealed, 'secret'),
          totp_pending_sealed: sealed(r.totp_pending_secret, r.totp_pending_sealed, 'pending'),
        };
        if (Object.entries(now).some(([k, v]) => r[k as keyof Row] !== v)) updates.push({ was: r, now });
      }
      for (const { was, now } of updates) {
        // Only if nobody changed it meanwhile (another instance starting at the same time).
        const q = trx('staff').where({ id: was.id });
        for (const column of Object.keys(now)) {
          const value = was[column as keyof Row];
          if (value === null) q.whereNull(column);
          else q.where(column, value);
        }
        await q.update(now);
      }
      return updates.length;
    },
    /** Records a code's step as used; false if this step or a later one was already used (a replay). */
    async acceptTotpStep(trx: Db, staffId: string, step: number): Promise<boolean> {
      const n = await trx('staff')
        .where({ id: staffId })
        .whereNotNull('totp_secret_sealed')
        .where((q) => {
          q.whereNull('totp_last_step').orWhere('totp_last_step', '<', step);
        })
        .update({ totp_last_step: step });
      return n === 1;
    },
    /** Spends a recovery code: true if it existed (it is deleted, so it works once). */
    async useRecoveryCode(trx: Db, staffId: string, codeHash: string): Promise<boolean> {
      const n = await trx('staff_recovery_codes').where({ staff_id: staffId, code_hash: codeHash }).delete();
      return n === 1;
    },
    async recoveryCodesLeft(staffId: string, q: Db = db): Promise<number> {
      const row = await q('staff_recovery_codes').where({ staff_id: staffId }).count<{ n: number | string }[]>({ n: '*' }).first();
      return Number(row?.n ?? 0);
    },

    // Login throttling, per username (keyed by an HMAC of it) --------------------------------
    async loginLock(key: string): Promise<LoginLock> {
      const row = await db('login_failures').where({ key }).first('failures', 'locked_until');
      return row ? { failures: Number(row.failures), lockedUntil: Number(row.locked_until) } : { failures: 0, lockedUntil: 0 };
    },
    /**
     * Reserves one sign-in attempt, counted up front as a failure, in one conditional
     * statement: unless the key is locked at `now`, it counts one more consecutive failure
     * (counting restarts after `forgetBefore`: a failure older than that is forgotten) and sets
     * the lock that this count calls for (`lockMsAfter[n - 1]` after n failures; the last entry
     * for every count beyond). Answers undefined, writing nothing, while locked. Because the
     * check and the count are one statement (SQLite's one connection runs them alone;
     * PostgreSQL's upsert locks the row and re-checks the condition on the newest version),
     * concurrent attempts cannot all pass the same unlocked state: once the count reaches the
     * lock, every later attempt is refused before anything is verified. A success undoes it
     * with clearLoginFailures.
     */
    async reserveLoginAttempt(
      key: string,
      now: number,
      forgetBefore: number,
      lockMsAfter: readonly number[],
    ): Promise<LoginLock | undefined> {
      const until = (ms: number) => (ms > 0 ? now + ms : 0);
      const counted = 'CASE WHEN login_failures.last_failed_at < ? THEN 1 ELSE login_failures.failures + 1 END';
      const last = lockMsAfter.length;
      const [row] = rowsOf<{ failures: number | string; locked_until: number | string }>(
        await db.raw(
          `INSERT INTO login_failures (key, failures, locked_until, last_failed_at) VALUES (?, 1, ?, ?)
           ON CONFLICT (key) DO UPDATE SET
             failures = ${counted},
             locked_until = CASE ${counted} ${lockMsAfter
               .slice(0, -1)
               .map(() => 'WHEN ? THEN CAST(? AS BIGINT)')
               .join(' ')} ELSE CAST(? AS BIGINT) END,
             last_failed_at = excluded.last_failed_at
           WHERE login_failures.locked_until <= ?
           RETURNING failures, locked_until`,
          [
            key,
            until(lockMsAfter[0]),
            now,
            forgetBefore,
            forgetBefore,
            ...lockMsAfter.slice(0, -1).flatMap((ms, i) => [i + 1, until(ms)]),
            until(lockMsAfter[last - 1]),
            now,
          ],
        ),
      );
      return row && { failures: Number(row.failures), lockedUntil: Number(row.locked_until) };
    },
    /**
     * Gives back an attempt that reserveLoginAttempt counted but nothing verified (the server was
     * too busy to run argon2): the count and lock return to what they were before it, unlocked,
     * if no other attempt was counted since (`counted`: what the reservation answered).
     */
    async releaseLoginAttempt(key: string, counted: LoginLock): Promise<void> {
      await db('login_failures')
        .where({ key, failures: counted.failures, locked_until: counted.lockedUntil })
        .update({ failures: counted.failures - 1, locked_until: 0 });
    },
    /** Moves the counter's last failure to `at`: a write that every failed attempt commits, known username or not. */
    async touchLoginFailure(trx: Db, key: string, at: number): Promise<void> {
      await trx('login_failures').where({ key }).update({ last_failed_at: at });
    },
    async clearLoginFailures(trx: Db, key: string): Promise<void> {
      await trx('login_failures').where({ key }).delete();
    },
    /** Forgets failure counters nobody added to since `before` (and whose lock is over). */
    async purgeLoginFailures(before: number, now: number): Promise<void> {
      await db('login_failures').where('last_failed_at', '<', before).where('locked_until', '<=', now).delete();
    },

    // Sessions and presence ------------------------------------------------------------------
    /** Deletes every session of the member, except `keepTokenHash` if given; returns how many. */
    async deleteSessions(trx: Db, staffId: string, keepTokenHash?: string): Promise<number> {
      const q = trx('staff_sessions').where({ staff_id: staffId });
      if (keepTokenHash) q.whereNot({ token_hash: keepTokenHash });
      return q.delete();
    },
    /** Live sessions per member under the given timeouts. */
    async liveSessionCounts(now: number, idleMs: number, absoluteMs: number): Promise<Map<string, number>> {
      const rows: { staff_id: string; n: number | string }[] = await db('staff_sessions')
        .where('live_until', '>=', now)
        .where('last_seen_at', '>=', now - idleMs)
        .where('created_at', '>=', now - absoluteMs)
        .groupBy('staff_id')
        .select('staff_id')
        .count({ n: '*' });
      return new Map(rows.map((r) => [r.staff_id, Number(r.n)]));
    },
    /** Sets the member's last-seen day (a no-op write-free query when it is already today). */
    async markSeen(staffId: string, day: string): Promise<void> {
      await db('staff')
        .where({ id: staffId })
        .where((q) => {
          q.whereNull('last_seen_day').orWhereNot('last_seen_day', day);
        })
        .update({ last_seen_day: day });
    },
    async lastSeenDays(): Promise<Map<string, string | null>> {
      const rows: { id: string; last_seen_day: string | null }[] = await db('staff').select('id', 'last_seen_day');
      return new Map(rows.map((r) => [r.id, r.last_seen_day]));
    },

    // Credentials --------------------------------------------------------------------------
    /**
     * Locks the member's row if they are not removed and their auth hash is still this one: a
     * sign-in checks again, where it stores its session, the hash it verified the password
     * against. A change of credentials or a removal then waits for the sign-in (PostgreSQL).
     */
    async lockIfCredentials(trx: Db, staffId: string, authHash: string): Promise<boolean> {
      const rows = await lockRows(
        trx,
        trx('staff').where({ id: staffId, auth_hash: authHash }).whereNot({ status: 'removed' }).select('id'),
      );
      return rows.length === 1;
    },
    /**
     * Replaces the password-derived credentials, only if the stored login hash is still the
     * one the caller verified (so two concurrent changes cannot both win).
     */
    async replaceCredentials(
      trx: Db,
      staffId: string,
      verifiedAuthHash: string,
      next: { kdfParams: Argon2Params; kdfSalt: string; authHash: string; wrappedKeys: string },
    ): Promise<boolean> {
      const n = await trx('staff')
        .where({ id: staffId, auth_hash: verifiedAuthHash })
        .update({
          kdf_params: JSON.stringify(next.kdfParams),
          kdf_salt: next.kdfSalt,
          auth_hash: next.authHash,
          wrapped_keys: next.wrappedKeys,
        });
      return n === 1;
    },
  };
}
export type StaffSecurityRepo = ReturnType<typeof staffSecurityRepo>;
