/** Public instance facts, keyset history and proof-of-work challenges (server/services/instance.ts). */
import { Router } from 'express';
import type { AppContext } from '../app';
import { EmptyBody, noQuery, parseWith } from '../http/validate';
import { instanceInfo, keysetHistory, newPowChallenge } from '../services/instance';

export function instanceRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/instance', noQuery, async (_req, res) => {
    res.json(await instanceInfo(ctx));
  });

  router.get('/keysets', noQuery, async (_req, res) => {
    res.json(await keysetHistory(ctx));
  });

  router.post('/pow', ctx.limits.sensitive, async (req, res) => {
    parseWith(EmptyBody, req.body);
    res.json(await newPowChallenge(ctx));
  });

  return router;
}
