/**
 * Publishing with consent (issue 4), the survivor's and the staff's sides: sharing choices,
 * drafts, signed consent and revocation, publication and "delete everything". The rules and
 * transactions are in server/services/publishing.ts; these parse, call it and answer.
 */
import { Router } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffOf, survivorIdOf } from '../http/auth';
import { noQuery, parseWith } from '../http/validate';
import {
  caseOpenToAdvocates,
  consent,
  deleteEverything,
  ownCase,
  ownDraft,
  proposeDraft,
  publish,
  publishingCase,
  publishingCases,
  requestChanges,
  revoke,
  takeDown,
  updateSharing,
} from '../services/publishing';

export function survivorPublishingRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = ctx.auth.survivor;

  // The case or draft is found before the body is read (services/publishing.ts says why).
  const caseParam = (params: { caseId?: string }) => parseWith(schemas.caseIdParam, { caseId: params.caseId }, 'path');
  const draftParam = (params: { caseId?: string; draftId?: string }) =>
    parseWith(schemas.draftParam, { caseId: params.caseId, draftId: params.draftId }, 'path');

  /** Who may read and what is counted; turning advocates on carries the testimony key re-wrapped to each of them. */
  router.post('/cases/:caseId/sharing', auth, async (req, res) => {
    const { caseId } = caseParam(req.params);
    const own = await ownCase(ctx, survivorIdOf(req), caseId);
    const body = parseWith(schemas.updateSharing, req.body);
    res.json(await updateSharing(ctx, own, body));
  });

  router.post('/cases/:caseId/drafts/:draftId/changes', auth, async (req, res) => {
    const { caseId, draftId } = draftParam(req.params);
    const own = await ownDraft(ctx, survivorIdOf(req), caseId, draftId);
    const body = parseWith(schemas.requestChanges, req.body);
    res.json(await requestChanges(ctx, own, body));
  });

  router.post('/cases/:caseId/drafts/:draftId/consent', auth, async (req, res) => {
    const { caseId, draftId } = draftParam(req.params);
    const own = await ownDraft(ctx, survivorIdOf(req), caseId, draftId);
    const body = parseWith(schemas.consent, req.body);
    res.status(201).json(await consent(ctx, own, body));
  });

  router.post('/cases/:caseId/drafts/:draftId/revoke', auth, async (req, res) => {
    const { caseId, draftId } = draftParam(req.params);
    const own = await ownDraft(ctx, survivorIdOf(req), caseId, draftId);
    const body = parseWith(schemas.revoke, req.body);
    res.json(await revoke(ctx, own, body));
  });

  /** Erases the survivor and everything that hangs from them; published stories become 410 tombstones. */
  router.post('/delete-everything', auth, async (req, res) => {
    parseWith(schemas.deleteEverything, req.body);
    await deleteEverything(ctx, survivorIdOf(req));
    res.status(204).end();
  });

  return router;
}

export function staffPublishingRoutes(ctx: AppContext): Router {
  const router = Router();
  const { requireStaff } = ctx.auth.staff;
  const reader = requireStaff('moderator', 'advocate');

  router.get('/staff/publishing', reader, noQuery, async (_req, res) => {
    res.json(await publishingCases(ctx));
  });

  router.get('/staff/publishing/:caseId', reader, noQuery, async (req, res) => {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path');
    res.json(await publishingCase(ctx, staffOf(req), caseId));
  });

  router.post('/staff/cases/:caseId/drafts', reader, async (req, res) => {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path');
    const found = await caseOpenToAdvocates(ctx, caseId);
    const body = parseWith(schemas.postDraft, req.body);
    res.status(201).json(await proposeDraft(ctx, staffOf(req), found, body));
  });

  /** Publishes the story an advocate decrypted, only if its hash is the one the survivor signed. */
  router.post('/staff/drafts/:draftId/publish', requireStaff('advocate'), async (req, res) => {
    const { draftId } = parseWith(schemas.staffDraftParam, { draftId: req.params.draftId }, 'path');
    const { story } = parseWith(schemas.publish, req.body);
    res.status(201).json(await publish(ctx, staffOf(req), draftId, story));
  });

  /** Takes a published story down with a reason, shown on its 410 page and to the survivor. */
  router.post('/staff/stories/:alias/takedown', requireStaff('admin', 'advocate'), async (req, res) => {
    const { alias } = parseWith(schemas.storyAliasParam, { alias: req.params.alias }, 'path');
    const body = parseWith(schemas.takedown, req.body);
    res.json(await takeDown(ctx, staffOf(req), alias, body));
  });

  return router;
}
