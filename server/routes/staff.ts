/**
 * Staff routes: first-admin setup, invites, enrolment and keyset publication (sign-in lives
 * in staff-auth.ts, cases in staff-cases.ts). The rules live in services/staff-accounts.ts;
 * here a new member's session is started.
 */
import { Router } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffOf } from '../http/auth';
import { EmptyBody, noQuery, parseWith } from '../http/validate';
import {
  checkInvite,
  createInvite,
  enrol,
  listMembers,
  listPendingInvites,
  publishKeyset,
  resetMemberTotp,
  revokeInvite,
  setUpFirstAdmin,
} from '../services/staff-accounts';

export function staffRoutes(ctx: AppContext): Router {
  const router = Router();
  const { startSession, requireStaff } = ctx.auth.staff;

  router.post('/setup', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.setup, req.body);
    const { staffId, answer } = await setUpFirstAdmin(ctx, body);
    await startSession(res, staffId);
    res.status(201).json(answer);
  });

  router.post('/staff/invites', requireStaff('admin'), async (req, res) => {
    const { roles } = parseWith(schemas.createInvite, req.body);
    res.status(201).json(await createInvite(ctx, staffOf(req), roles));
  });

  router.get('/staff/invites', requireStaff('admin'), noQuery, async (_req, res) => {
    res.json(await listPendingInvites(ctx));
  });

  /** Deletes a pending invite: its link can no longer be checked or used. */
  router.post('/staff/invites/:inviteId/revoke', requireStaff('admin'), async (req, res) => {
    const { inviteId } = parseWith(schemas.inviteIdParam, { inviteId: req.params.inviteId }, 'path');
    parseWith(EmptyBody, req.body);
    res.json(await revokeInvite(ctx, staffOf(req), inviteId));
  });

  router.post('/staff/invites/check', ctx.limits.sensitive, async (req, res) => {
    const { inviteToken } = parseWith(schemas.checkInvite, req.body);
    res.json(await checkInvite(ctx, inviteToken));
  });

  router.post('/staff/enrol', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.enrol, req.body);
    const { staffId, answer } = await enrol(ctx, body);
    await startSession(res, staffId);
    res.status(201).json(answer);
  });

  router.get('/staff/members', requireStaff('admin'), noQuery, async (_req, res) => {
    res.json(await listMembers(ctx));
  });

  /** Erases another member's TOTP secret and recovery codes and ends their sessions: they enrol again at next sign-in. */
  router.post('/staff/members/:staffId/totp-reset', requireStaff('admin'), async (req, res) => {
    const { staffId } = parseWith(schemas.staffIdParam, { staffId: req.params.staffId }, 'path');
    parseWith(EmptyBody, req.body);
    res.json(await resetMemberTotp(ctx, staffOf(req), staffId));
  });

  router.post('/staff/keysets', requireStaff('admin'), async (req, res) => {
    const { signed } = parseWith(schemas.publishKeyset, req.body);
    res.status(201).json(await publishKeyset(ctx, staffOf(req), signed));
  });

  return router;
}
