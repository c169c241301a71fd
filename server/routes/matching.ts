/**
 * The matching escrow's routes: the survivor's side (her identifiers, OPRF evaluations, adding,
 * re-deriving after a key rotation, withdrawing) and the matching counselors' list of matches.
 * The rules are in server/services/matching.ts.
 */
import { Router } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffOf, survivorIdOf } from '../http/auth';
import { EmptyBody, noQuery, parseWith } from '../http/validate';
import { addEntry, evaluateBlinded, listMatches, ownEntry, replaceEntry, survivorMatching, withdrawEntry } from '../services/matching';

export function survivorMatchingRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = ctx.auth.survivor;

  router.get('/matching', auth, noQuery, async (req, res) => {
    res.json(await survivorMatching(ctx, survivorIdOf(req)));
  });

  router.post('/matching/evaluate', auth, async (req, res) => {
    const { blinded } = parseWith(schemas.matchEvaluate, req.body);
    res.json(await evaluateBlinded(ctx, survivorIdOf(req), blinded));
  });

  router.post('/matching/entries', auth, async (req, res) => {
    const body = parseWith(schemas.matchEntry, req.body);
    res.status(201).json(await addEntry(ctx, survivorIdOf(req), body));
  });

  /** After a key rotation, the same identifier under the new key. */
  router.post('/matching/entries/:entryId/replace', auth, async (req, res) => {
    const { entryId } = parseWith(schemas.matchEntryParam, { entryId: req.params.entryId }, 'path');
    const entry = await ownEntry(ctx, survivorIdOf(req), entryId);
    const body = parseWith(schemas.matchEntry, req.body);
    await replaceEntry(ctx, survivorIdOf(req), entry, body);
    res.status(204).end();
  });

  router.post('/matching/entries/:entryId/withdraw', auth, async (req, res) => {
    const { entryId } = parseWith(schemas.matchEntryParam, { entryId: req.params.entryId }, 'path');
    const entry = await ownEntry(ctx, survivorIdOf(req), entryId);
    parseWith(EmptyBody, req.body);
    await withdrawEntry(ctx, entry);
    res.status(204).end();
  });

  return router;
}

export function staffMatchingRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/staff/matches', ctx.auth.staff.requireStaff('matching_counselor'), noQuery, async (req, res) => {
    res.json(await listMatches(ctx, staffOf(req)));
  });
  return router;
}
