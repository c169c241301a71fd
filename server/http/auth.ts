/**
 * Who is asking. Staff: a random session token in an HttpOnly, SameSite=Strict cookie, its
 * hash in the database, with idle and absolute timeouts. Survivors: a bearer token the page
 * keeps in memory (never a cookie).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { StaffRole } from '../../protocol';
import type { Config } from '../config';
import type { StaffRecord, StaffRepo } from '../db/staff-repo';
import { forbidden, unauthorized } from './errors';
import { hashToken, randomToken, readSurvivorToken } from './tokens';

export const STAFF_COOKIE = 'awaaz_staff';

declare module 'express-serve-static-core' {
  interface Request {
    staff?: StaffRecord;
    staffSessionHash?: string;
    survivorId?: string;
  }
}

function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export function staffAuth(staff: StaffRepo, config: Config) {
  const cookieOptions = { httpOnly: true, sameSite: 'strict' as const, secure: config.cookieSecure, path: '/' };

  async function startSession(res: Response, staffId: string): Promise<void> {
    const token = randomToken();
    await staff.createSession(hashToken(token), staffId, Date.now());
    res.cookie(STAFF_COOKIE, token, { ...cookieOptions, maxAge: config.staffSessionAbsoluteMs });
  }

  async function endSession(req: Request, res: Response): Promise<void> {
    const token = readCookie(req, STAFF_COOKIE);
    if (token) await staff.deleteSession(hashToken(token));
    res.clearCookie(STAFF_COOKIE, cookieOptions);
  }

  /** Requires a live staff session; with roles, also an active member holding one of them. */
  function requireStaff(...roles: StaffRole[]): RequestHandler {
    return async (req: Request, _res: Response, next: NextFunction) => {
      try {
        const token = readCookie(req, STAFF_COOKIE);
        if (!token) throw unauthorized('staff login required');
        const hash = hashToken(token);
        const session = await staff.findSession(hash);
        const now = Date.now();
        if (!session || now - session.lastSeenAt > config.staffSessionIdleMs || now - session.createdAt > config.staffSessionAbsoluteMs) {
          if (session) await staff.deleteSession(hash);
          throw unauthorized('your session has ended; log in again');
        }
        const member = await staff.byId(session.staffId);
        if (!member || member.status === 'removed') throw unauthorized('this account no longer exists');
        if (roles.length) {
          if (member.status !== 'active') throw forbidden('your account is waiting for the admin to add you to the keyset');
          if (!roles.some((r) => member.roles.includes(r))) throw forbidden(`this needs the role ${roles.join(' or ')}`);
        }
        await staff.touchSession(hash, now);
        req.staff = member;
        req.staffSessionHash = hash;
        next();
      } catch (e) {
        next(e);
      }
    };
  }

  return { startSession, endSession, requireStaff };
}

export function requireSurvivor(serverSecret: string): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9_.-]{1,512})$/.exec(header);
    const survivorId = match ? readSurvivorToken(serverSecret, match[1]) : undefined;
    if (!survivorId) return next(unauthorized('survivor session missing or expired; enter your codename again'));
    req.survivorId = survivorId;
    next();
  };
}
