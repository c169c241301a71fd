/**
 * Staff sign-in and account security: KDF parameters, login with a second factor (TOTP or a
 * recovery code), per-account lockout, logout and "log out everywhere", TOTP enrolment,
 * password change, session settings, who is active, and the audit log.
 *
 * The browser derives authKey and wrapKey from the password; only authKey is sent, and the
 * server checks it against argon2id(authKey). Every failed sign-in answers the same 401
 * ("wrong username, password or code") whether the username exists, the password is wrong
 * or the code is wrong; unknown usernames still cost one argon2 verification and are counted
 * and locked exactly like real ones (the counter is keyed by an HMAC of the username).
 */
import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import { sameKdfParams, STAFF_KDF, toBase64url } from '../../protocol';
import { schemas, SESSION_SETTING_BOUNDS, type AuditPage, type RecoveryCodes, type SessionSettings, type StaffActivity, type StaffLoginParams, type StaffLoginResult, type TotpSetup } from '../../protocol/api';
import type { AppContext } from '../app';
import type { Db } from '../db/database';
import type { StaffRecord } from '../db/staff-repo';
import { conflict, HttpError, unauthorized } from '../http/errors';
import {
  hashAuthKey,
  lockDelayMs,
  LOGIN_LOCK,
  newRecoveryCode,
  RECOVERY_CODE_COUNT,
  recoveryCodeHash,
  staffMe,
  verifyAuthKey,
} from '../http/staff-credentials';
import { hmac, issueSignInTicket, readSignInTicket } from '../http/tokens';
import { groupedBase32, matchTotp, newTotpSecret, otpauthUri } from '../http/totp';
import { EmptyBody, parseWith } from '../http/validate';

export const LOGIN_FAILED_MESSAGE = 'wrong username, password or code';

type LoginFailure = 'password' | 'account_removed' | 'code_missing' | 'totp' | 'totp_replayed' | 'recovery_code';

export function staffAuthRoutes(ctx: AppContext): Router {
  const router = Router();
  const { staff, security, settings, audit } = ctx.repos;
  const { startSession, endSession, clearSessionCookie, requireStaff, requireStaffEnrolling, requireAnyStaff } = ctx.auth.staff;
  // A hash to verify against when the username is unknown, so both paths cost the same.
  const dummyHash = hashAuthKey(toBase64url(new Uint8Array(32)));
  dummyHash.catch(() => undefined);

  /** The throttling key of a username: the table of counters does not list who has an account. */
  const lockKey = (username: string) => toBase64url(hmac(ctx.serverSecret, 'login-failures', username));

  function refuseWhileLocked(res: Response, lockedUntil: number, at: number): void {
    if (lockedUntil <= at) return;
    const seconds = Math.ceil((lockedUntil - at) / 1000);
    res.setHeader('Retry-After', String(seconds));
    const wait = seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
    throw new HttpError(429, 'account_locked', `too many failed sign-ins for this account; try again in ${wait}`);
  }

  /** Counts a failure for the username and, for an existing account, audits it. */
  async function recordFailure(username: string, member: StaffRecord | undefined, reason: LoginFailure, action = 'staff.login_failed'): Promise<void> {
    const at = ctx.clock.now();
    await ctx.db.transaction(async (trx) => {
      const lock = await security.recordLoginFailure(trx, lockKey(username), at, at - LOGIN_LOCK.forgetAfterMs, lockDelayMs);
      if (member) {
        await audit.record(trx, {
          actorId: member.id,
          action,
          subject: member.id,
          detail: { reason, failures: lock.failures, lockedForSeconds: lock.lockedUntil ? Math.ceil((lock.lockedUntil - at) / 1000) : 0 },
        });
      }
    });
    await security.purgeLoginFailures(at - LOGIN_LOCK.forgetAfterMs, at);
  }

  router.post('/staff/login/params', ctx.limits.sensitive, async (req, res) => {
    const { username } = parseWith(schemas.loginParams, req.body);
    const member = await staff.byUsername(username);
    // Unknown usernames get a stable fake salt, so the answer does not tell who has an account.
    const kdf = member ? { params: member.kdfParams, salt: member.kdfSalt } : { params: STAFF_KDF, salt: toBase64url(hmac(ctx.serverSecret, 'fake-salt', username).slice(0, 16)) };
    // Every username gets a ticket, so the ticket says nothing about who has an account either.
    const body: StaffLoginParams = { kdf, ticket: issueSignInTicket(ctx.serverSecret, username, ctx.clock.now()) };
    res.json(body);
  });

  router.post('/staff/login', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.staffLogin, req.body);
    refuseWhileLocked(res, (await security.loginLock(lockKey(body.username))).lockedUntil, ctx.clock.now());

    const found = await staff.byUsername(body.username);
    const member = found && found.status !== 'removed' ? found : undefined;
    const passwordOk = member ? await verifyAuthKey(member.authHash, body.authKey) : (await verifyAuthKey(await dummyHash, body.authKey), false);
    if (!member || !passwordOk) {
      await recordFailure(body.username, found, found && !member ? 'account_removed' : 'password');
      throw unauthorized(LOGIN_FAILED_MESSAGE);
    }

    // The second factor, checked only after the password (so it says nothing to a guesser).
    const at = ctx.clock.now();
    const totp = await security.totpState(member.id);
    const enrolled = totp.secret !== null;
    let failure: LoginFailure | undefined;
    let method: 'totp' | 'recovery_code' | 'password_before_totp_setup';
    const spend: ((trx: typeof ctx.db) => Promise<boolean>)[] = [];
    if (!enrolled) {
      method = 'password_before_totp_setup'; // a session that can only finish the TOTP setup
    } else if (body.totp !== undefined) {
      method = 'totp';
      // A code read when sign-in began may be minutes old by now (slow key derivation): with a
      // valid ticket it is also judged by the start time. Any other ticket counts as none.
      const startedAt = body.ticket === undefined ? undefined : readSignInTicket(ctx.serverSecret, body.ticket, body.username, at);
      const step = matchTotp(totp.secret!, body.totp, at, totp.lastStep, startedAt);
      if (step === undefined) failure = matchTotp(totp.secret!, body.totp, at, null, startedAt) === undefined ? 'totp' : 'totp_replayed';
      else spend.push((trx) => security.acceptTotpStep(trx, member.id, step));
    } else if (body.recoveryCode !== undefined) {
      method = 'recovery_code';
      const hash = recoveryCodeHash(body.recoveryCode);
      spend.push((trx) => security.useRecoveryCode(trx, member.id, hash));
    } else {
      method = 'totp';
      failure = 'code_missing';
    }

    if (!failure) {
      const done = await ctx.db.transaction(async (trx) => {
        // A code used by a concurrent sign-in (or a recovery code already spent) fails here.
        for (const s of spend) if (!(await s(trx))) return false;
        await security.clearLoginFailures(trx, lockKey(body.username));
        const left = enrolled ? await security.recoveryCodesLeft(member.id, trx) : 0;
        await audit.record(trx, { actorId: member.id, action: 'staff.login', subject: member.id, detail: { method, ...(method === 'recovery_code' ? { recoveryCodesLeft: left } : {}) } });
        return true;
      });
      if (!done) failure = method === 'recovery_code' ? 'recovery_code' : 'totp_replayed';
    }
    if (failure) {
      await recordFailure(body.username, member, failure);
      throw unauthorized(LOGIN_FAILED_MESSAGE);
    }

    await startSession(res, member.id);
    const result: StaffLoginResult = { ...staffMe(member, enrolled), recoveryCodesLeft: enrolled ? await security.recoveryCodesLeft(member.id) : 0 };
    res.json(result);
  });

  router.post('/staff/logout', async (req, res) => {
    parseWith(EmptyBody, req.body);
    await endSession(req, res);
    res.status(204).end();
  });

  /** Ends every session of the member, on every device, this one included. */
  router.post('/staff/logout/everywhere', requireAnyStaff(), async (req, res) => {
    parseWith(EmptyBody, req.body);
    const me = req.staff!;
    await ctx.db.transaction(async (trx) => {
      const sessions = await security.deleteSessions(trx, me.id);
      await audit.record(trx, { actorId: me.id, action: 'staff.logout_everywhere', subject: me.id, detail: { sessions } });
    });
    clearSessionCookie(res);
    res.status(204).end();
  });

  router.get('/staff/me', requireAnyStaff(), (req, res) => {
    res.json(staffMe(req.staff!, req.staffTotpEnrolled));
  });

  // TOTP enrolment: only in the session of a member who has not confirmed a code yet. ----------

  router.post('/staff/totp/setup', requireStaffEnrolling(), async (req, res) => {
    parseWith(EmptyBody, req.body);
    const me = req.staff!;
    const secret = newTotpSecret();
    if (!(await security.setPendingTotp(me.id, secret))) throw conflict('totp_already_enrolled', 'two-factor sign-in is already set up for this account');
    const body: TotpSetup = { secret: groupedBase32(secret), uri: otpauthUri(secret, me.username) };
    res.json(body);
  });

  // Not under the sensitive limit: it needs a session, costs no argon2, and guessing the code of
  // a secret one was just given gains nothing.
  router.post('/staff/totp/confirm', requireStaffEnrolling(), async (req, res) => {
    const { code } = parseWith(schemas.confirmTotp, req.body);
    const me = req.staff!;
    const state = await security.totpState(me.id);
    if (!state.pending) throw conflict('totp_not_started', 'ask for a QR code first (POST /api/staff/totp/setup)');
    const step = matchTotp(state.pending, code, ctx.clock.now(), state.lastStep);
    if (step === undefined) throw new HttpError(400, 'wrong_code', 'code does not match: check that the phone shows the right time, and type the code it shows now');
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await ctx.db.transaction(async (trx) => {
      if (!(await security.confirmTotp(trx, me.id, state.pending!, step, ctx.clock.now(), recoveryCodes.map(recoveryCodeHash)))) {
        throw conflict('totp_changed', 'a newer QR code was made meanwhile (another tab?); scan the newest one');
      }
      await audit.record(trx, { actorId: me.id, action: 'staff.totp_enrolled', subject: me.id, detail: { recoveryCodes: RECOVERY_CODE_COUNT } });
    });
    const body: RecoveryCodes = { recoveryCodes };
    res.status(201).json(body);
  });

  // Password change and KDF upgrade: the browser re-wraps the same private keys under keys
  // derived anew (from a new password, or from the same one with the current parameters). ------

  /**
   * Checks the current authKey (counted like a failed sign-in when wrong) and swaps the
   * credentials at once; a concurrent swap makes it a 409 and writes nothing.
   */
  async function swapCredentials(
    req: Request,
    res: Response,
    body: z.infer<typeof schemas.changePassword>,
    how: { failedAction: string; done: (trx: Db, me: StaffRecord) => Promise<void> },
  ): Promise<void> {
    const me = req.staff!;
    refuseWhileLocked(res, (await security.loginLock(lockKey(me.username))).lockedUntil, ctx.clock.now());
    if (!(await verifyAuthKey(me.authHash, body.currentAuthKey))) {
      await recordFailure(me.username, me, 'password', how.failedAction);
      throw new HttpError(403, 'wrong_password', 'the current password is wrong');
    }
    const authHash = await hashAuthKey(body.authKey);
    await ctx.db.transaction(async (trx) => {
      const replaced = await security.replaceCredentials(trx, me.id, me.authHash, { kdfParams: body.kdf.params, kdfSalt: body.kdf.salt, authHash, wrappedKeys: body.wrappedKeys });
      if (!replaced) throw conflict('password_changed', 'the password or its key protection was changed meanwhile; sign in again');
      await how.done(trx, me);
    });
    res.json(staffMe((await staff.byId(me.id))!, true));
  }

  router.post('/staff/password', ctx.limits.sensitive, requireStaff(), async (req, res) => {
    const body = parseWith(schemas.changePassword, req.body);
    await swapCredentials(req, res, body, {
      failedAction: 'staff.password_change_failed',
      done: async (trx, me) => {
        const sessionsEnded = await security.deleteSessions(trx, me.id, req.staffSessionHash);
        await security.clearLoginFailures(trx, lockKey(me.username));
        await audit.record(trx, { actorId: me.id, action: 'staff.password_changed', subject: me.id, detail: { sessionsEnded } });
      },
    });
  });

  /**
   * Re-keys a record made with older KDF parameters to the current ones, right after sign-in.
   * The password is the same, so the member's other sessions stay; only the current defaults
   * are accepted, which is what makes the record's /login/params answer that of any username.
   * Open to a session still waiting for TOTP enrolment too: the password was just proven.
   */
  router.post('/staff/kdf', ctx.limits.sensitive, requireAnyStaff(), async (req, res) => {
    const body = parseWith(schemas.upgradeKdf, req.body);
    const me = req.staff!;
    if (!sameKdfParams(body.kdf.params, STAFF_KDF)) {
      throw new HttpError(400, 'not_current_kdf', `kdf.params must be the current staff parameters (argon2id, m = ${STAFF_KDF.m} KiB, t = ${STAFF_KDF.t}, p = ${STAFF_KDF.p})`);
    }
    if (sameKdfParams(me.kdfParams, STAFF_KDF)) throw conflict('kdf_current', 'this account already uses the current KDF parameters');
    await swapCredentials(req, res, body, {
      failedAction: 'staff.kdf_upgrade_failed',
      done: async (trx) => {
        const from = me.kdfParams;
        await audit.record(trx, { actorId: me.id, action: 'staff.kdf_upgraded', subject: me.id, detail: { fromMemoryKiB: from.m, fromIterations: from.t, toMemoryKiB: STAFF_KDF.m, toIterations: STAFF_KDF.t } });
      },
    });
  });

  // Admin: session settings, who is active, the audit log. ----------------------------------

  async function currentSettings(): Promise<SessionSettings> {
    const s = await settings.sessionTimeouts();
    return { sessionIdleMinutes: s.sessionIdleMinutes, sessionAbsoluteHours: s.sessionAbsoluteHours, defaults: settings.defaults, bounds: SESSION_SETTING_BOUNDS };
  }

  router.get('/staff/settings', requireStaff('admin'), async (_req, res) => {
    res.json(await currentSettings());
  });

  router.post('/staff/settings', requireStaff('admin'), async (req, res) => {
    const body = parseWith(schemas.sessionSettings, req.body);
    const before = await settings.sessionTimeouts();
    await ctx.db.transaction(async (trx) => {
      await settings.setSessionTimeouts(trx, body);
      await audit.record(trx, {
        actorId: req.staff!.id,
        action: 'settings.changed',
        detail: {
          sessionIdleMinutes: body.sessionIdleMinutes,
          sessionAbsoluteHours: body.sessionAbsoluteHours,
          previousIdleMinutes: before.sessionIdleMinutes,
          previousAbsoluteHours: before.sessionAbsoluteHours,
        },
      });
    });
    res.json(await currentSettings());
  });

  router.get('/staff/activity', requireStaff('admin'), async (_req, res) => {
    const { idleMs, absoluteMs } = await settings.sessionTimeouts();
    const [members, seen, live] = await Promise.all([staff.list(), security.lastSeenDays(), security.liveSessionCounts(ctx.clock.now(), idleMs, absoluteMs)]);
    const body: StaffActivity = { members: members.map((m) => ({ id: m.id, lastSeenDay: seen.get(m.id) ?? null, activeSessions: live.get(m.id) ?? 0 })) };
    res.json(body);
  });

  router.get('/staff/audit', requireStaff('admin'), async (req, res) => {
    const query = parseWith(schemas.auditQuery, req.query, 'query');
    const body: AuditPage = { entries: await audit.list(query.after, query.limit), latest: await audit.head() };
    res.json(body);
  });

  return router;
}
