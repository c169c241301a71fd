/**
 * Retention settings over HTTP (admin): how long closed cases and survivor accounts with no
 * case are kept. The rules and the sweep live in services/retention.ts.
 */
import { Router } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffOf } from '../http/auth';
import { noQuery, parseWith } from '../http/validate';
import { changeRetention, retentionSettings } from '../services/retention';

export function retentionRoutes(ctx: AppContext): Router {
  const router = Router();
  const { requireStaff } = ctx.auth.staff;

  router.get('/staff/settings/retention', requireStaff('admin'), noQuery, async (_req, res) => {
    res.json(await retentionSettings(ctx));
  });

  router.post('/staff/settings/retention', requireStaff('admin'), async (req, res) => {
    const body = parseWith(schemas.retention, req.body);
    res.json(await changeRetention(ctx, staffOf(req), body));
  });

  return router;
}
