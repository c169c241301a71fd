/**
 * Staff sign-in: KDF parameters, login, logout, who am I. The browser derives authKey and
 * wrapKey from the password; only authKey is sent, and the server checks it against
 * argon2id(authKey).
 */
import argon2 from 'argon2';
import { Router } from 'express';
import { fromBase64url, STAFF_KDF, toBase64url } from '../../protocol';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffAuth } from '../http/auth';
import { unauthorized } from '../http/errors';
import { AUTH_HASH_OPTIONS, staffMe } from '../http/staff-credentials';
import { hmac } from '../http/tokens';
import { EmptyBody, parseWith } from '../http/validate';

export function staffAuthRoutes(ctx: AppContext): Router {
  const router = Router();
  const { staff } = ctx.repos;
  const { startSession, endSession, requireStaff } = staffAuth(staff, ctx.config);
  // A hash to verify against when the username is unknown, so both paths cost the same.
  const dummyHash = argon2.hash(Buffer.alloc(32), AUTH_HASH_OPTIONS);

  router.post('/staff/login/params', ctx.limits.sensitive, async (req, res) => {
    const { username } = parseWith(schemas.loginParams, req.body);
    const member = await staff.byUsername(username);
    // Unknown usernames get a stable fake salt, so the answer does not tell who has an account.
    const kdf = member ? { params: member.kdfParams, salt: member.kdfSalt } : { params: STAFF_KDF, salt: toBase64url(hmac(ctx.serverSecret, 'fake-salt', username).slice(0, 16)) };
    res.json({ kdf });
  });

  router.post('/staff/login', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.login, req.body);
    const member = await staff.byUsername(body.username);
    const key = Buffer.from(fromBase64url(body.authKey));
    const ok = member && member.status !== 'removed' ? await argon2.verify(member.authHash, key) : (await argon2.verify(await dummyHash, key), false);
    if (!ok || !member) throw unauthorized('wrong username or password');
    await startSession(res, member.id);
    res.json(staffMe(member));
  });

  router.post('/staff/logout', async (req, res) => {
    parseWith(EmptyBody, req.body);
    await endSession(req, res);
    res.status(204).end();
  });

  router.get('/staff/me', requireStaff(), (req, res) => {
    res.json(staffMe(req.staff!));
  });

  return router;
}
