/**
 * The moderators' side of cases over HTTP: the inbox, one case with its thread and notes,
 * replies, internal notes, status and assignee, and re-wrap grants for newer colleagues. The
 * rules (every envelope checked before it is stored) live in services/staff-cases.ts.
 */
import { Router, type Request } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffOf } from '../http/auth';
import { noQuery, parseWith } from '../http/validate';
import {
  addNote,
  caseForStaff,
  grantKeyBatch,
  grantKeys,
  inbox,
  markRead,
  openCase,
  pendingGrants,
  reply,
  setAssignee,
  setStatus,
  unreadCount,
} from '../services/staff-cases';

const caseIdOf = (req: Request) => parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path').caseId;

export function staffCaseRoutes(ctx: AppContext): Router {
  const router = Router();
  const moderator = ctx.auth.staff.requireStaff('moderator');

  router.get('/staff/cases', moderator, async (req, res) => {
    const query = parseWith(schemas.caseListQuery, req.query, 'query');
    res.json(await inbox(ctx, staffOf(req), query));
  });

  /** The navigation's count of cases waiting unread for this moderator (polled while the page is visible). */
  router.get('/staff/inbox/unread', moderator, noQuery, async (req, res) => {
    res.json(await unreadCount(ctx, staffOf(req)));
  });

  router.get('/staff/cases/:caseId', moderator, noQuery, async (req, res) => {
    res.json(await caseForStaff(ctx, staffOf(req), caseIdOf(req)));
  });

  // The case is looked up before the body is read: an unknown case is a 404 whatever the body.

  router.post('/staff/cases/:caseId/messages', moderator, async (req, res) => {
    const found = await openCase(ctx, caseIdOf(req));
    const body = parseWith(schemas.postStaffReply, req.body);
    res.status(201).json(await reply(ctx, staffOf(req), found, body));
  });

  router.post('/staff/cases/:caseId/notes', moderator, async (req, res) => {
    const found = await openCase(ctx, caseIdOf(req));
    const body = parseWith(schemas.postStaffEnvelope, req.body);
    res.status(201).json(await addNote(ctx, staffOf(req), found, body));
  });

  router.post('/staff/cases/:caseId/read', moderator, async (req, res) => {
    const found = await openCase(ctx, caseIdOf(req));
    const { seq } = parseWith(schemas.caseRead, req.body);
    res.json(await markRead(ctx, staffOf(req), found, seq));
  });

  router.post('/staff/cases/:caseId/status', moderator, async (req, res) => {
    const found = await openCase(ctx, caseIdOf(req));
    const { status } = parseWith(schemas.setStatus, req.body);
    res.json(await setStatus(ctx, staffOf(req), found, status));
  });

  router.post('/staff/cases/:caseId/assignee', moderator, async (req, res) => {
    const found = await openCase(ctx, caseIdOf(req));
    const { staffId } = parseWith(schemas.setAssignee, req.body);
    res.json(await setAssignee(ctx, staffOf(req), found, staffId));
  });

  /** Envelopes a newer colleague cannot open yet: their stored hashes, and my key entry or grants for each. */
  router.get('/staff/grants/pending', moderator, async (req, res) => {
    const query = parseWith(schemas.pendingGrantsQuery, req.query, 'query');
    res.json(await pendingGrants(ctx, staffOf(req), query));
  });

  /** v1 grants, each signed alone (kept for pages loaded before v2). */
  router.post('/staff/grants', moderator, async (req, res) => {
    const body = parseWith(schemas.postGrants, req.body);
    res.status(201).json(await grantKeys(ctx, staffOf(req), body));
  });

  /** A batch of v2 grants signed once (issue 17). */
  router.post('/staff/grants/batch', moderator, async (req, res) => {
    const body = parseWith(schemas.postGrantBatch, req.body);
    res.status(201).json(await grantKeyBatch(ctx, staffOf(req), body));
  });

  return router;
}
