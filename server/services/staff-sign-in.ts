/**
 * Staff sign-in and account security: KDF parameters with a sign-in ticket, sign-in with a
 * second factor (TOTP or a recovery code) under the per-account lock, "log out everywhere",
 * TOTP enrolment with its recovery codes, password change and the KDF upgrade. The session
 * cookie itself is the route's (server/http/auth.ts starts and ends sessions).
 *
 * The browser derives authKey and wrapKey from the password; only authKey is sent, and the
 * server checks it against argon2id(authKey). Every failed sign-in answers the same 401
 * ("wrong username, password or code") whether the username exists, the password is wrong
 * or the code is wrong; unknown usernames still cost one argon2 verification and are counted
 * and locked exactly like real ones (the counter is keyed by an HMAC of the username). Each
 * attempt is counted before its argon2 verification starts and uncounted by a success, so
 * attempts sent at the same time cannot get more verifications than the lock allows.
 */
import type { z } from 'zod';
import { sameKdfParams, STAFF_KDF, toBase64url, type Argon2Params } from '../../protocol';
import {
  schemas,
  type RecoveryCodes,
  type StaffLoginParams,
  type StaffLoginResult,
  type StaffMe,
  type TotpSetup,
} from '../../protocol/api';
import type { AppContext } from '../app';
import type { Db } from '../db/database';
import type { LoginLock } from '../db/staff-security-repo';
import type { StaffRecord } from '../db/staff-repo';
import type { PreparedSession } from '../http/auth';
import { conflict, HttpError, unauthorized } from '../http/errors';
import {
  hashAuthKey,
  isArgon2Busy,
  LOGIN_LOCK,
  LOGIN_LOCK_SCHEDULE,
  newRecoveryCode,
  RECOVERY_CODE_COUNT,
  recoveryCodeHash,
  verifyAuthKey,
} from '../http/staff-credentials';
import { hmac, issueSignInTicket, readSignInTicket } from '../http/tokens';
import { groupedBase32, matchTotp, newTotpSecret, otpauthUri } from '../http/totp';
import { staffMe } from './presenters';
import { requireNotRemoved } from './staff-accounts';

export const LOGIN_FAILED_MESSAGE = 'wrong username, password or code';

type LoginFailure = 'password' | 'account_removed' | 'code_missing' | 'totp' | 'totp_replayed' | 'recovery_code';

type CredentialsSwap = z.infer<typeof schemas.changePassword>;

/** An attempt counted before it is checked: the counter as it now stands, when, and under which throttling key. */
type Reservation = LoginLock & { at: number; key: string };

/** The refusal while an account is locked (429 with Retry-After), or undefined once the lock is over. */
export function accountLocked(lockedUntil: number, at: number): HttpError | undefined {
  if (lockedUntil <= at) return undefined;
  const seconds = Math.ceil((lockedUntil - at) / 1000);
  const wait = seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
  return new HttpError(429, 'account_locked', `too many failed sign-ins for this account; try again in ${wait}`, {
    'Retry-After': String(seconds),
  });
}

/**
 * New credentials are derived with the current staff KDF parameters only: a record with others
 * answers /login/params unlike an unknown username (which gets STAFF_KDF), so it shows who has
 * an account, and a password change must not set weaker ones than the default.
 */
function requireCurrentKdf(params: Argon2Params): void {
  if (!sameKdfParams(params, STAFF_KDF))
    throw new HttpError(
      400,
      'not_current_kdf',
      `kdf.params must be the current staff parameters (argon2id, m = ${STAFF_KDF.m} KiB, t = ${STAFF_KDF.t}, p = ${STAFF_KDF.p})`,
    );
}

export type StaffSignIn = ReturnType<typeof createStaffSignIn>;

/**
 * Built once with the app (staffAuthRoutes calls it): it holds the argon2 hash that unknown
 * usernames are verified against, made at start so the first unknown name costs no more
 * than a real one.
 */
export function createStaffSignIn(ctx: AppContext) {
  const { staff, security, audit } = ctx.repos;
  // A hash to verify against when the username is unknown, so both paths cost the same.
  const dummyHash = hashAuthKey(toBase64url(new Uint8Array(32)));
  dummyHash.catch(() => undefined);

  /** The throttling key of a username: the table of counters does not list who has an account. */
  const lockKey = (username: string) => toBase64url(hmac(ctx.serverSecret, 'login-failures', username));

  /**
   * Reserves one attempt for the username before anything is verified: it is counted as a
   * failure at once (and locks the username when the count calls for it), so that however
   * many attempts run at the same time, no more are verified than the lock allows; a success
   * resets the count (clearLoginFailures). While locked: 429, and nothing is checked or counted.
   */
  async function reserveAttempt(username: string): Promise<Reservation> {
    const key = lockKey(username);
    // A lock that a concurrent success cleared between the two statements: reserve again.
    for (let tries = 1; ; tries++) {
      const at = ctx.clock.now();
      const lock = await security.reserveLoginAttempt(key, at, at - LOGIN_LOCK.forgetAfterMs, LOGIN_LOCK_SCHEDULE);
      if (lock) return { ...lock, at, key };
      const refusal =
        accountLocked((await security.loginLock(key)).lockedUntil, at) ?? (tries >= 3 ? accountLocked(at + 1000, at) : undefined);
      if (refusal) throw refusal;
    }
  }

  /**
   * Verifies the authKey of a reserved attempt. When the server is too busy to run argon2 (503
   * `busy`, nothing was verified), the attempt is given back before the refusal goes out, so a
   * flood of sign-ins cannot lock out a member who typed nothing wrong.
   */
  async function verifyReserved(reservation: Reservation, hash: string, authKey: string): Promise<boolean> {
    try {
      return await verifyAuthKey(hash, authKey);
    } catch (e) {
      if (isArgon2Busy(e)) await security.releaseLoginAttempt(reservation.key, reservation);
      throw e;
    }
  }

  /**
   * The reserved attempt failed: it is counted already; this audits it for an existing account
   * and forgets counters nobody added to for a day.
   */
  async function recordFailure(
    reservation: Reservation,
    member: StaffRecord | undefined,
    reason: LoginFailure,
    action = 'staff.login_failed',
  ): Promise<void> {
    const { failures, lockedUntil, at, key } = reservation;
    await ctx.db.transaction(async (trx) => {
      // Written for every username, so that an unknown one commits a write too (a commit with
      // nothing in it costs no sync, and its speed would tell who has an account).
      await security.touchLoginFailure(trx, key, ctx.clock.now());
      if (member) {
        await audit.record(trx, {
          actorId: member.id,
          action,
          subject: member.id,
          detail: { reason, failures, lockedForSeconds: lockedUntil ? Math.ceil((lockedUntil - at) / 1000) : 0 },
        });
      }
    });
    await security.purgeLoginFailures(at - LOGIN_LOCK.forgetAfterMs, at);
  }

  /** What the browser needs to derive authKey for this username, and a ticket of when sign-in began. */
  async function loginParams(username: string): Promise<StaffLoginParams> {
    const member = await staff.byUsername(username);
    // Unknown usernames get a stable fake salt, so the answer does not tell who has an account.
    const kdf = member
      ? { params: member.kdfParams, salt: member.kdfSalt }
      : { params: STAFF_KDF, salt: toBase64url(hmac(ctx.fakeSaltKey, 'fake-salt', username).slice(0, 16)) };
    // Every username gets a ticket, so the ticket says nothing about who has an account either.
    return { kdf, ticket: issueSignInTicket(ctx.serverSecret, username, ctx.clock.now()) };
  }

  /**
   * Checks the password, then the second factor, under the lock. On success the session is
   * stored; the caller sends its cookie (`session.send`) and answers `answer`.
   */
  async function signIn(body: z.infer<typeof schemas.staffLogin>): Promise<{ answer: StaffLoginResult; session: PreparedSession }> {
    const reservation = await reserveAttempt(body.username);

    const found = await staff.byUsername(body.username);
    const member = found && found.status !== 'removed' ? found : undefined;
    const passwordOk = member
      ? await verifyReserved(reservation, member.authHash, body.authKey)
      : (await verifyReserved(reservation, await dummyHash, body.authKey), false);
    if (!member || !passwordOk) {
      await recordFailure(reservation, found, found && !member ? 'account_removed' : 'password');
      throw unauthorized(LOGIN_FAILED_MESSAGE);
    }

    // The second factor, checked only after the password (so it says nothing to a guesser).
    const at = ctx.clock.now();
    const totp = await security.totpState(member.id);
    const enrolled = totp.secret !== null;
    let failure: LoginFailure | undefined;
    let method: 'totp' | 'recovery_code' | 'password_before_totp_setup';
    /** What the sign-in's transaction checks (and spends) again, each with the failure it counts as. */
    const spend: { check: (trx: Db) => Promise<boolean>; otherwise: LoginFailure }[] = [];
    if (totp.secret === null) {
      method = 'password_before_totp_setup'; // a session that can only finish the TOTP setup
      // Only while TOTP is still not set up: a confirm that committed meanwhile (in another
      // session) ended the member's password-only sessions, and this one must not outlive it.
      spend.push({ check: async (trx) => !(await security.totpEnrolled(member.id, trx)), otherwise: 'code_missing' });
    } else if (body.totp !== undefined) {
      method = 'totp';
      // A code read when sign-in began may be minutes old by now (slow key derivation): with a
      // valid ticket it is also judged by the start time. Any other ticket counts as none.
      const startedAt = body.ticket === undefined ? undefined : readSignInTicket(ctx.serverSecret, body.ticket, body.username, at);
      const step = matchTotp(totp.secret, body.totp, at, totp.lastStep, startedAt);
      if (step === undefined) failure = matchTotp(totp.secret, body.totp, at, null, startedAt) === undefined ? 'totp' : 'totp_replayed';
      else spend.push({ check: (trx) => security.acceptTotpStep(trx, member.id, step), otherwise: 'totp_replayed' });
    } else if (body.recoveryCode !== undefined) {
      method = 'recovery_code';
      const hash = recoveryCodeHash(body.recoveryCode);
      spend.push({ check: (trx) => security.useRecoveryCode(trx, member.id, hash), otherwise: 'recovery_code' });
    } else {
      method = 'totp';
      failure = 'code_missing';
    }

    if (!failure) {
      const session = await ctx.auth.staff.prepareSession(member.id);
      failure = await ctx.db.transaction(async (trx): Promise<LoginFailure | undefined> => {
        // The password was verified against the hash read before argon2 ran: a password change
        // or a removal committed since then fails the sign-in, and one that comes later waits
        // for this row (PostgreSQL) and ends the session stored below with the others.
        if (!(await security.lockIfCredentials(trx, member.id, member.authHash))) return 'password';
        // A code used by a concurrent sign-in (or a recovery code already spent) fails here, and
        // so does a password-only sign-in of a member who has set up TOTP since.
        for (const s of spend) if (!(await s.check(trx))) return s.otherwise;
        await security.clearLoginFailures(trx, lockKey(body.username));
        const left = enrolled ? await security.recoveryCodesLeft(member.id, trx) : 0;
        await audit.record(trx, {
          actorId: member.id,
          action: 'staff.login',
          subject: member.id,
          detail: { method, ...(method === 'recovery_code' ? { recoveryCodesLeft: left } : {}) },
        });
        await session.store(trx);
        return undefined;
      });
      if (!failure)
        return {
          answer: { ...staffMe(member, enrolled), recoveryCodesLeft: enrolled ? await security.recoveryCodesLeft(member.id) : 0 },
          session,
        };
    }
    await recordFailure(reservation, member, failure);
    throw unauthorized(LOGIN_FAILED_MESSAGE);
  }

  /** Ends every session of the member, on every device, the caller's own included. */
  async function endAllSessions(me: StaffRecord): Promise<void> {
    await ctx.db.transaction(async (trx) => {
      const sessions = await security.deleteSessions(trx, me.id);
      await audit.record(trx, { actorId: me.id, action: 'staff.logout_everywhere', subject: me.id, detail: { sessions } });
    });
  }

  // TOTP enrolment: only in the session of a member who has not confirmed a code yet. ----------

  // Each write a member makes to their own sign-in secrets checks first, in its transaction,
  // that they were not removed since the guard read their record (requireNotRemoved): a
  // removal ends their sessions, and no secret, code or password may be made for them after it.

  async function startTotpSetup(me: StaffRecord): Promise<TotpSetup> {
    const secret = newTotpSecret();
    await ctx.db.transaction(async (trx) => {
      await requireNotRemoved(ctx, trx, me);
      if (!(await security.setPendingTotp(me.id, secret, trx)))
        throw conflict('totp_already_enrolled', 'two-factor sign-in is already set up for this account');
    });
    return { secret: groupedBase32(secret), uri: otpauthUri(secret, me.username) };
  }

  /**
   * Makes the pending secret the member's, with new recovery codes. Every other session of the
   * member ends: each was opened with the password alone (no second factor existed yet), and
   * would otherwise pass every guard from now on. The one in `keepSessionHash` stays.
   */
  async function confirmTotp(me: StaffRecord, keepSessionHash: string, code: string): Promise<RecoveryCodes> {
    const state = await security.totpState(me.id);
    const pending = state.pending;
    if (!pending) throw conflict('totp_not_started', 'ask for a QR code first (POST /api/staff/totp/setup)');
    const step = matchTotp(pending, code, ctx.clock.now(), state.lastStep);
    if (step === undefined)
      throw new HttpError(
        400,
        'wrong_code',
        'code does not match: check that the phone shows the right time, and type the code it shows now',
      );
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await ctx.db.transaction(async (trx) => {
      await requireNotRemoved(ctx, trx, me);
      if (!(await security.confirmTotp(trx, me.id, pending, step, ctx.clock.now(), recoveryCodes.map(recoveryCodeHash)))) {
        throw conflict('totp_changed', 'a newer QR code was made meanwhile (another tab?); scan the newest one');
      }
      const sessionsEnded = await security.deleteSessions(trx, me.id, keepSessionHash);
      await audit.record(trx, {
        actorId: me.id,
        action: 'staff.totp_enrolled',
        subject: me.id,
        detail: { recoveryCodes: RECOVERY_CODE_COUNT, sessionsEnded },
      });
    });
    return { recoveryCodes };
  }

  // Password change and KDF upgrade: the browser re-wraps the same private keys under keys
  // derived anew (from a new password, or from the same one with the current parameters). ------

  /**
   * Checks the current authKey (counted like a failed sign-in when wrong) and swaps the
   * credentials at once; a concurrent swap makes it a 409 and writes nothing.
   */
  async function swapCredentials(
    me: StaffRecord,
    body: CredentialsSwap,
    how: { failedAction: string; done: (trx: Db) => Promise<void> },
  ): Promise<StaffMe> {
    const reservation = await reserveAttempt(me.username);
    if (!(await verifyReserved(reservation, me.authHash, body.currentAuthKey))) {
      await recordFailure(reservation, me, 'password', how.failedAction);
      throw new HttpError(403, 'wrong_password', 'the current password is wrong');
    }
    // The password is proven: the attempt counted up front is undone, as a sign-in's would be.
    await security.clearLoginFailures(ctx.db, lockKey(me.username));
    const authHash = await hashAuthKey(body.authKey);
    await ctx.db.transaction(async (trx) => {
      await requireNotRemoved(ctx, trx, me);
      const replaced = await security.replaceCredentials(trx, me.id, me.authHash, {
        kdfParams: body.kdf.params,
        kdfSalt: body.kdf.salt,
        authHash,
        wrappedKeys: body.wrappedKeys,
      });
      if (!replaced) throw conflict('password_changed', 'the password or its key protection was changed meanwhile; sign in again');
      await how.done(trx);
    });
    const updated = await staff.byId(me.id);
    if (!updated) throw new Error(`staff member ${me.id} vanished while changing credentials`);
    // A KDF upgrade also runs in a session still waiting for TOTP enrolment: the page takes this
    // answer as the session's, and must still be sent to the enrolment.
    return staffMe(updated, await security.totpEnrolled(me.id));
  }

  /** A new password: every other session of the member ends (the one in `keepSessionHash` stays). */
  function changePassword(me: StaffRecord, keepSessionHash: string, body: CredentialsSwap): Promise<StaffMe> {
    requireCurrentKdf(body.kdf.params);
    return swapCredentials(me, body, {
      failedAction: 'staff.password_change_failed',
      done: async (trx) => {
        const sessionsEnded = await security.deleteSessions(trx, me.id, keepSessionHash);
        await audit.record(trx, { actorId: me.id, action: 'staff.password_changed', subject: me.id, detail: { sessionsEnded } });
      },
    });
  }

  /**
   * Re-keys a record made with older KDF parameters to the current ones, right after sign-in.
   * The password is the same, so the member's other sessions stay; only the current defaults
   * are accepted, which is what makes the record's /login/params answer that of any username.
   */
  async function upgradeKdf(me: StaffRecord, body: z.infer<typeof schemas.upgradeKdf>): Promise<StaffMe> {
    requireCurrentKdf(body.kdf.params);
    if (sameKdfParams(me.kdfParams, STAFF_KDF)) throw conflict('kdf_current', 'this account already uses the current KDF parameters');
    return swapCredentials(me, body, {
      failedAction: 'staff.kdf_upgrade_failed',
      done: async (trx) => {
        const from = me.kdfParams;
        await audit.record(trx, {
          actorId: me.id,
          action: 'staff.kdf_upgraded',
          subject: me.id,
          detail: { fromMemoryKiB: from.m, fromIterations: from.t, toMemoryKiB: STAFF_KDF.m, toIterations: STAFF_KDF.t },
        });
      },
    });
  }

  /**
   * New recovery codes for the signed-in member, who proves it again with the password and a
   * fresh TOTP code (a session alone is not enough: someone at an unlocked screen must not get
   * codes that outlive the session). Wrong ones count like failed sign-ins. The old codes stop
   * working in the same transaction.
   */
  async function regenerateRecoveryCodes(me: StaffRecord, body: z.infer<typeof schemas.regenerateRecoveryCodes>): Promise<RecoveryCodes> {
    const failedAction = 'staff.recovery_codes_failed';
    const reservation = await reserveAttempt(me.username);
    if (!(await verifyReserved(reservation, me.authHash, body.currentAuthKey))) {
      await recordFailure(reservation, me, 'password', failedAction);
      throw new HttpError(403, 'wrong_password', 'the current password is wrong');
    }
    const state = await security.totpState(me.id);
    const step = state.secret ? matchTotp(state.secret, body.totp, ctx.clock.now(), state.lastStep) : undefined;
    const wrongCode = () =>
      new HttpError(403, 'wrong_code', 'totp does not match: type the code your authenticator app shows now (each code works once)');
    if (step === undefined) {
      await recordFailure(reservation, me, 'totp', failedAction);
      throw wrongCode();
    }
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const done = await ctx.db.transaction(async (trx) => {
      await requireNotRemoved(ctx, trx, me);
      if (!(await security.acceptTotpStep(trx, me.id, step))) return false;
      await security.replaceRecoveryCodes(trx, me.id, recoveryCodes.map(recoveryCodeHash));
      await security.clearLoginFailures(trx, lockKey(me.username));
      await audit.record(trx, {
        actorId: me.id,
        action: 'staff.recovery_codes_regenerated',
        subject: me.id,
        detail: { recoveryCodes: RECOVERY_CODE_COUNT },
      });
      return true;
    });
    if (!done) {
      await recordFailure(reservation, me, 'totp_replayed', failedAction);
      throw wrongCode();
    }
    return { recoveryCodes };
  }

  return { loginParams, signIn, endAllSessions, startTotpSetup, confirmTotp, changePassword, upgradeKdf, regenerateRecoveryCodes };
}
