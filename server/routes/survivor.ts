/**
 * Survivor routes: registration, login, testimonies and the survivor's side of threads. The
 * rules and transactions are in server/services/survivors.ts; these parse, call it and answer.
 */
import { Router } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { survivorIdOf } from '../http/auth';
import { noQuery, parseWith } from '../http/validate';
import {
  casesOf,
  checkOwnCase,
  logIn,
  markSeen,
  newLoginChallenge,
  postMessage,
  register,
  submitTestimony,
  threadWriter,
} from '../services/survivors';

export function survivorRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = ctx.auth.survivor;

  router.post('/register', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.register, req.body);
    res.status(201).json(await register(ctx, body));
  });

  router.post('/challenge', ctx.limits.sensitive, async (req, res) => {
    parseWith(schemas.survivorChallenge, req.body);
    res.json(await newLoginChallenge(ctx));
  });

  router.post('/session', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.survivorSession, req.body);
    res.json(await logIn(ctx, body));
  });

  router.get('/cases', auth, noQuery, async (req, res) => {
    res.json(await casesOf(ctx, survivorIdOf(req)));
  });

  router.post('/cases', auth, ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.submitCase, req.body);
    res.status(201).json(await submitTestimony(ctx, survivorIdOf(req), body));
  });

  /** The survivor answers in their case's thread. */
  router.post('/cases/:caseId/messages', auth, async (req, res) => {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path');
    const survivor = await threadWriter(ctx, survivorIdOf(req), caseId);
    const body = parseWith(schemas.postEnvelope, req.body);
    res.status(201).json(await postMessage(ctx, survivor, caseId, body));
  });

  /** Marks the thread as read up to seq, so replies show as unread only once. */
  router.post('/cases/:caseId/seen', auth, async (req, res) => {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path');
    await checkOwnCase(ctx, survivorIdOf(req), caseId);
    const { seq } = parseWith(schemas.survivorSeen, req.body);
    await markSeen(ctx, caseId, seq);
    res.status(204).end();
  });

  return router;
}
