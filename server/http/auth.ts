/**
 * Who is asking. Staff: a random session token in an HttpOnly, SameSite=Strict cookie, its
 * hash in the database, with idle and absolute timeouts (the admin's settings, else the
 * configuration's); a session that has ended stays ended (sessionEnded). Survivors: a bearer
 * token the page keeps in memory (never a cookie).
 *
 * Two-factor gate: a staff member who has not yet confirmed a TOTP code (right after the
 * password step of setup or of an invite, or at a later sign-in if they stopped there) has a
 * session in which every staff route answers 403 `totp_enrolment_required`, except the few
 * that finish the enrolment (requireStaffEnrolling) or work in any state (requireAnyStaff).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { utcDay, type StaffRole } from '../../protocol';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { SettingsRepo } from '../db/settings-repo';
import type { StaffSecurityRepo } from '../db/staff-security-repo';
import type { StaffRecord, StaffRepo, StaffSession } from '../db/staff-repo';
import { forbidden, HttpError, unauthorized } from './errors';
import { hashToken, randomToken, readSurvivorToken } from './tokens';

export const STAFF_COOKIE = 'awaaz_staff';

/**
 * The staff cookie's name. A secure cookie (PUBLIC_URL in https, unless COOKIE_SECURE says
 * otherwise) gets the `__Host-` prefix: a browser then keeps it only if it is Secure, has
 * Path=/ and no Domain, so a sibling subdomain cannot plant one with its own session (login
 * CSRF). Over plain http (an onion service, a local test) the prefix cannot be used.
 */
export function staffCookieName(config: Pick<Config, 'cookieSecure'>): string {
  return config.cookieSecure ? `__Host-${STAFF_COOKIE}` : STAFF_COOKIE;
}

declare module 'express-serve-static-core' {
  interface Request {
    staff?: StaffRecord;
    staffSessionHash?: string;
    /** whether the signed-in staff member has confirmed TOTP */
    staffTotpEnrolled?: boolean;
    survivorId?: string;
  }
}

/** What staff authentication needs: createApp builds it once and puts it in the context (ctx.auth.staff). */
export interface StaffAuthDeps {
  staff: StaffRepo;
  security: StaffSecurityRepo;
  settings: SettingsRepo;
  config: Config;
  /** the clock for sessions, TOTP and lockouts (tests move it forward) */
  clock: Clock;
}

export const totpEnrolmentRequired = () =>
  new HttpError(
    403,
    'totp_enrolment_required',
    'set up two-factor sign-in first: scan the QR code with an authenticator app and confirm a code',
  );

/** Every value the Cookie header gives this name, in order. */
export function readCookies(req: Request, name: string): string[] {
  const header = req.headers.cookie;
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) values.push(v.join('='));
  }
  return values;
}

export const conflictingSessionCookies = () =>
  unauthorized('this request carries conflicting session cookies (the same name twice); sign in again');

/**
 * The staff session token of the request, if any. Two cookies of the staff name (one planted
 * for a parent domain next to the real one, say) authenticate with neither: refused.
 */
export function staffSessionToken(req: Request, name: string): string | undefined {
  const values = readCookies(req, name);
  if (values.length > 1) throw conflictingSessionCookies();
  return values[0];
}

type TotpStage = 'enrolled' | 'enrolling' | 'any';

interface SessionTimeoutsMs {
  idleMs: number;
  absoluteMs: number;
}

/** The last moment a session is live under these timeouts: the idle one from its last use, capped by the absolute one. */
export function sessionEnd(session: Pick<StaffSession, 'createdAt' | 'lastSeenAt'>, { idleMs, absoluteMs }: SessionTimeoutsMs): number {
  return Math.min(session.lastSeenAt + idleMs, session.createdAt + absoluteMs);
}

/**
 * Whether the session has ended at `at`: past the end fixed at its last use (so raising the
 * timeouts later does not bring it back) or past the timeouts in force now (so lowering them
 * ends it at once). The sweeper erases ended rows (StaffRepo.deleteEndedSessions, the same rule).
 */
export function sessionEnded(session: StaffSession, at: number, now: SessionTimeoutsMs): boolean {
  return at > Math.min(session.liveUntil, sessionEnd(session, now));
}

export type StaffAuth = ReturnType<typeof createStaffAuth>;

/** A staff session not stored yet (StaffAuth.prepareSession). */
export interface PreparedSession {
  store(trx?: Db): Promise<void>;
  send(res: Response): Promise<void>;
}

export function createStaffAuth({ staff, security, settings, config, clock }: StaffAuthDeps) {
  // No Domain: the cookie is the host's alone (and `__Host-` requires it).
  const cookieOptions = { httpOnly: true, sameSite: 'strict' as const, secure: config.cookieSecure, path: '/' };
  const cookieName = staffCookieName(config);

  /**
   * A new session of this member, made ready outside any transaction (it reads the timeouts):
   * `store` writes its row in the caller's transaction (or alone), then `send` gives the
   * browser its cookie. A sign-in stores it where it checks the password hash again, so that
   * a password change or a removal that ends the member's sessions cannot miss it.
   */
  async function prepareSession(staffId: string): Promise<PreparedSession> {
    const token = randomToken();
    const at = clock.now();
    const timeouts = await settings.sessionTimeouts();
    return {
      store: (trx) => staff.createSession(hashToken(token), staffId, at, sessionEnd({ createdAt: at, lastSeenAt: at }, timeouts), trx),
      send: async (res) => {
        await security.markSeen(staffId, utcDay(new Date(at)));
        // A session cookie (no Max-Age): closing the browser drops it, as it drops the keys a reload
        // keeps in sessionStorage; the server still ends the session at the admin's timeouts.
        res.cookie(cookieName, token, cookieOptions);
      },
    };
  }

  async function startSession(res: Response, staffId: string): Promise<void> {
    const session = await prepareSession(staffId);
    await session.store();
    await session.send(res);
  }

  function clearSessionCookie(res: Response): void {
    res.clearCookie(cookieName, cookieOptions);
  }

  async function endSession(req: Request, res: Response): Promise<void> {
    // With conflicting cookies neither session is ended (the request authenticates with neither): the cookie is cleared.
    const tokens = readCookies(req, cookieName);
    if (tokens.length === 1) await staff.deleteSession(hashToken(tokens[0]));
    clearSessionCookie(res);
  }

  function guard(roles: StaffRole[], stage: TotpStage): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      try {
        let token: string | undefined;
        try {
          token = staffSessionToken(req, cookieName);
        } catch (e) {
          clearSessionCookie(res);
          throw e;
        }
        if (!token) throw unauthorized('staff login required');
        const hash = hashToken(token);
        const session = await staff.findSession(hash);
        const at = clock.now();
        const timeouts = await settings.sessionTimeouts();
        if (!session || sessionEnded(session, at, timeouts)) {
          if (session) await staff.deleteSession(hash);
          throw unauthorized('your session has ended; log in again');
        }
        const member = await staff.byId(session.staffId);
        if (!member || member.status === 'removed') throw unauthorized('this account no longer exists');
        const enrolled = await security.totpEnrolled(member.id);
        if (stage === 'enrolled' && !enrolled) throw totpEnrolmentRequired();
        if (stage === 'enrolling' && enrolled)
          throw new HttpError(409, 'totp_already_enrolled', 'two-factor sign-in is already set up for this account');
        if (roles.length) {
          if (member.status !== 'active') throw forbidden('your account is waiting for the admin to add you to the keyset');
          if (!roles.some((r) => member.roles.includes(r))) throw forbidden(`this needs the role ${roles.join(' or ')}`);
        }
        // Extend the idle timeout only once the request has succeeded: a rejected request
        // writes nothing (DESIGN.md "Bad input"), not even the session's last-seen time.
        res.once('finish', () => {
          if (res.statusCode < 400) {
            staff.touchSession(hash, at, sessionEnd({ createdAt: session.createdAt, lastSeenAt: at }, timeouts)).catch(() => undefined);
            security.markSeen(member.id, utcDay(new Date(at))).catch(() => undefined);
          }
        });
        req.staff = member;
        req.staffSessionHash = hash;
        req.staffTotpEnrolled = enrolled;
        next();
      } catch (e) {
        next(e);
      }
    };
  }

  /**
   * Requires a live staff session of a member who has set up two-factor sign-in; with roles,
   * also an active member holding one of them.
   */
  function requireStaff(...roles: StaffRole[]): RequestHandler {
    return guard(roles, 'enrolled');
  }
  /** Only for a member who has not confirmed TOTP yet: the enrolment routes. */
  function requireStaffEnrolling(): RequestHandler {
    return guard([], 'enrolling');
  }
  /** Any live session, enrolled or not: who am I, log out everywhere. */
  function requireAnyStaff(): RequestHandler {
    return guard([], 'any');
  }

  return { prepareSession, startSession, endSession, clearSessionCookie, requireStaff, requireStaffEnrolling, requireAnyStaff };
}

/** The survivor id of a valid, unexpired bearer token in the request; undefined otherwise. */
export function bearerSurvivorId(serverSecret: string, req: Request, now: number): string | undefined {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer ([A-Za-z0-9_.-]{1,512})$/.exec(header);
  return match ? readSurvivorToken(serverSecret, match[1], now) : undefined;
}

export function requireSurvivor(serverSecret: string, clock: Clock): RequestHandler {
  return (req, _res, next) => {
    const survivorId = bearerSurvivorId(serverSecret, req, clock.now());
    if (!survivorId) return next(unauthorized('survivor session missing or expired; enter your codename again'));
    req.survivorId = survivorId;
    next();
  };
}

/**
 * Typed access to what authentication put on the request. Routes call these instead of
 * `req.staff!`: behind requireStaff / requireSurvivor they always answer; a route mounted
 * without its guard fails loudly (500) instead of acting for nobody.
 */
export function staffOf(req: Request): StaffRecord {
  if (!req.staff) throw new Error('staffOf: this route is not behind a staff guard');
  return req.staff;
}
export function staffSessionOf(req: Request): { staff: StaffRecord; sessionHash: string; totpEnrolled: boolean } {
  if (!req.staff || req.staffSessionHash === undefined || req.staffTotpEnrolled === undefined)
    throw new Error('staffSessionOf: this route is not behind a staff guard');
  return { staff: req.staff, sessionHash: req.staffSessionHash, totpEnrolled: req.staffTotpEnrolled };
}
export function survivorIdOf(req: Request): string {
  if (!req.survivorId) throw new Error('survivorIdOf: this route is not behind requireSurvivor');
  return req.survivorId;
}
