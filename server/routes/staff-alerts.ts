/**
 * A staff member's own alerts over HTTP: the email address and which alerts to receive. The
 * rules live in services/alerts.ts; the sending in server/mailer.ts.
 */
import { Router } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffOf } from '../http/auth';
import { parseWith } from '../http/validate';
import { alertSettings, changeAlerts } from '../services/alerts';

export function staffAlertRoutes(ctx: AppContext): Router {
  const router = Router();
  const { requireStaff } = ctx.auth.staff;

  router.get('/staff/me/alerts', requireStaff(), async (req, res) => {
    res.json(await alertSettings(ctx, staffOf(req)));
  });

  router.post('/staff/me/alerts', requireStaff(), async (req, res) => {
    const body = parseWith(schemas.staffAlerts, req.body);
    res.json(await changeAlerts(ctx, staffOf(req), body));
  });

  return router;
}
