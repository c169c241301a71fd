/**
 * Staff sign-in and account security over HTTP: KDF parameters, login with a second factor,
 * logout and "log out everywhere", TOTP enrolment, password change and KDF upgrade, session
 * settings, who is active, and the audit log. The rules live in services/staff-sign-in.ts and
 * services/staff-accounts.ts; here the session cookie is started and ended.
 */
import { Router } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffOf, staffSessionOf } from '../http/auth';
import { EmptyBody, noQuery, parseWith } from '../http/validate';
import { auditPage, changeSessionSettings, sessionSettings, staffActivity } from '../services/staff-accounts';
import { sessionReloadKey } from '../services/staff-session';
import { staffMe } from '../services/presenters';
import { createStaffSignIn } from '../services/staff-sign-in';

export function staffAuthRoutes(ctx: AppContext): Router {
  const router = Router();
  const { endSession, clearSessionCookie, requireStaff, requireStaffEnrolling, requireAnyStaff } = ctx.auth.staff;
  const signIn = createStaffSignIn(ctx);

  router.post('/staff/login/params', ctx.limits.sensitive, async (req, res) => {
    const { username } = parseWith(schemas.loginParams, req.body);
    res.json(await signIn.loginParams(username));
  });

  router.post('/staff/login', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.staffLogin, req.body);
    const { answer, session } = await signIn.signIn(body);
    await session.send(res);
    res.json(answer);
  });

  router.post('/staff/logout', async (req, res) => {
    parseWith(EmptyBody, req.body);
    await endSession(req, res);
    res.status(204).end();
  });

  /** Ends every session of the member, on every device, this one included. */
  router.post('/staff/logout/everywhere', requireAnyStaff(), async (req, res) => {
    parseWith(EmptyBody, req.body);
    await signIn.endAllSessions(staffOf(req));
    clearSessionCookie(res);
    res.status(204).end();
  });

  router.get('/staff/me', requireAnyStaff(), noQuery, (req, res) => {
    const { staff, totpEnrolled } = staffSessionOf(req);
    res.json(staffMe(staff, totpEnrolled));
  });

  /**
   * The key that seals this session's unlocked private keys in the browser's sessionStorage, so
   * a reload keeps the member signed in (SECURITY.md "Staff sessions and reloads"). Made at the
   * first ask, the same for the rest of the session, gone with the session row.
   */
  router.post('/staff/session/key', requireStaff(), async (req, res) => {
    parseWith(EmptyBody, req.body);
    res.json(await sessionReloadKey(ctx, staffSessionOf(req).sessionHash));
  });

  // TOTP enrolment: only in the session of a member who has not confirmed a code yet. ----------

  router.post('/staff/totp/setup', requireStaffEnrolling(), async (req, res) => {
    parseWith(EmptyBody, req.body);
    res.json(await signIn.startTotpSetup(staffOf(req)));
  });

  // Not under the sensitive limit: it needs a session, costs no argon2, and guessing the code of
  // a secret one was just given gains nothing.
  router.post('/staff/totp/confirm', requireStaffEnrolling(), async (req, res) => {
    const { code } = parseWith(schemas.confirmTotp, req.body);
    const { staff, sessionHash } = staffSessionOf(req);
    res.status(201).json(await signIn.confirmTotp(staff, sessionHash, code));
  });

  /** New recovery codes, the old ones void: the password and a fresh TOTP code again. */
  router.post('/staff/recovery-codes', ctx.limits.sensitive, requireStaff(), async (req, res) => {
    const body = parseWith(schemas.regenerateRecoveryCodes, req.body);
    res.status(201).json(await signIn.regenerateRecoveryCodes(staffOf(req), body));
  });

  // Password change and KDF upgrade: the browser re-wraps the same private keys under keys
  // derived anew (from a new password, or from the same one with the current parameters). ------

  router.post('/staff/password', ctx.limits.sensitive, requireStaff(), async (req, res) => {
    const body = parseWith(schemas.changePassword, req.body);
    const { staff, sessionHash } = staffSessionOf(req);
    res.json(await signIn.changePassword(staff, sessionHash, body));
  });

  // Open to a session still waiting for TOTP enrolment too: the password was just proven.
  router.post('/staff/kdf', ctx.limits.sensitive, requireAnyStaff(), async (req, res) => {
    const body = parseWith(schemas.upgradeKdf, req.body);
    res.json(await signIn.upgradeKdf(staffOf(req), body));
  });

  // Admin: session settings, who is active, the audit log. ----------------------------------

  router.get('/staff/settings', requireStaff('admin'), noQuery, async (_req, res) => {
    res.json(await sessionSettings(ctx));
  });

  router.post('/staff/settings', requireStaff('admin'), async (req, res) => {
    const body = parseWith(schemas.sessionSettings, req.body);
    res.json(await changeSessionSettings(ctx, staffOf(req), body));
  });

  router.get('/staff/activity', requireStaff('admin'), noQuery, async (_req, res) => {
    res.json(await staffActivity(ctx));
  });

  router.get('/staff/audit', requireStaff('admin'), async (req, res) => {
    const query = parseWith(schemas.auditQuery, req.query, 'query');
    res.json(await auditPage(ctx, query));
  });

  return router;
}
