/**
 * A staff member's own alerts over HTTP: the email address, which alerts to receive, and the
 * OpenPGP key they are encrypted to. The rules live in services/alerts.ts and
 * services/alert-key.ts; the sending in server/mailer.ts.
 */
import { Router } from 'express';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { staffOf } from '../http/auth';
import { EmptyBody, noQuery, parseWith } from '../http/validate';
import { alertSettings, changeAlerts, removeAlertKey, setAlertKey } from '../services/alerts';

export function staffAlertRoutes(ctx: AppContext): Router {
  const router = Router();
  const { requireStaff } = ctx.auth.staff;

  router.get('/staff/me/alerts', requireStaff(), noQuery, async (req, res) => {
    res.json(await alertSettings(ctx, staffOf(req)));
  });

  router.post('/staff/me/alerts', requireStaff(), async (req, res) => {
    const body = parseWith(schemas.staffAlerts, req.body);
    res.json(await changeAlerts(ctx, staffOf(req), body));
  });

  router.post('/staff/me/alerts/key', requireStaff(), async (req, res) => {
    const body = parseWith(schemas.alertKey, req.body);
    res.json(await setAlertKey(ctx, staffOf(req), body));
  });

  router.post('/staff/me/alerts/key/remove', requireStaff(), async (req, res) => {
    parseWith(EmptyBody, req.body);
    res.json(await removeAlertKey(ctx, staffOf(req)));
  });

  return router;
}
