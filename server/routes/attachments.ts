/**
 * Evidence files (protocol/attachment.ts). The survivor's browser seals a file into 64 KiB
 * records and uploads them one by one: it creates an upload, PUTs record `received` until all
 * are stored (after a dropped connection it asks where the upload stands and goes on from
 * there), closes it, and names it in the testimony or message that carries its key
 * (attachmentsToLink and linkAttachments in server/services/attachments.ts, which also holds
 * these routes' rules). Only then may moderators fetch it. The server never sees a key, a file
 * name or a type.
 *
 * Record bodies are raw bytes (application/octet-stream), the one exception to "JSON only"
 * (server/app.ts), read with a limit of one record so nothing larger is ever buffered.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { RECORD_BYTES, RECORD_OVERHEAD } from '../../protocol';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { bearerSurvivorId, readCookies, staffOf, survivorIdOf } from '../http/auth';
import { HttpError } from '../http/errors';
import { noQuery, parseWith } from '../http/validate';
import {
  closeUpload,
  createUpload,
  openForStaff,
  ownUpload,
  staffRecord,
  storeRecord,
  survivorRecord,
  uploadAwaiting,
  uploadStatus,
} from '../services/attachments';

export { MAX_PENDING_UPLOADS } from '../services/attachments';

/** the largest record body: a full record and its authentication tag */
export const MAX_RECORD_BODY = RECORD_BYTES + RECORD_OVERHEAD;

/** the record routes, by full path (GET for both sides, PUT for the survivor's upload) */
const RECORD_PATH = /^\/api\/(survivor|staff)\/attachments\/[^/]+\/records\/[^/]+\/?$/i;

/** Which record route a request is for, if any (mounting-independent: it reads the full path). */
export function recordRoute(req: Request): { side: 'survivor' | 'staff'; upload: boolean } | undefined {
  const match = RECORD_PATH.exec(req.baseUrl + req.path);
  if (!match) return undefined;
  const side = match[1].toLowerCase() as 'survivor' | 'staff';
  if (req.method === 'GET' || req.method === 'HEAD') return { side, upload: false };
  // Only survivors upload: any other method here is an unknown route, under the usual rules.
  if (req.method === 'PUT' && side === 'survivor') return { side, upload: true };
  return undefined;
}

/**
 * A record request that shows a credential (a valid survivor token, or a staff session cookie,
 * which the route then checks) counts against its sender's records budget instead of the
 * general, per-address one (server/http/rate-limit.ts). The cookie is only looked at here, to
 * spare every request a database read: a staff record request whose session the route then
 * refuses counts against its address after all (`ctx.limits.refusedRecords`).
 */
export function isCredentialedRecordRequest(serverSecret: string, staffCookie: string, req: Request, now: number): boolean {
  const route = recordRoute(req);
  if (!route) return false;
  return route.side === 'survivor' ? bearerSurvivorId(serverSecret, req, now) !== undefined : readCookies(req, staffCookie).length > 0;
}

const rawRecord = express.raw({ type: 'application/octet-stream', limit: MAX_RECORD_BODY, inflate: false });

/** Reads a record body, refusing (413) as soon as it grows past one record. */
function readRecordBody(req: Request, res: Response): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    rawRecord(req, res, (err?: unknown) => {
      const type = (err as { type?: string } | undefined)?.type;
      if (type === 'entity.too.large')
        return reject(
          new HttpError(
            413,
            'body_too_large',
            `a record is at most ${MAX_RECORD_BODY} bytes (${RECORD_BYTES} of the file and ${RECORD_OVERHEAD} of tag)`,
          ),
        );
      if (type === 'encoding.unsupported')
        return reject(new HttpError(415, 'unsupported_encoding', 'send the record as it is, without Content-Encoding'));
      if (err) return reject(err instanceof Error ? err : new Error('the record body could not be read'));
      resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    });
  });
}

function sendRecord(res: Response, data: Buffer): void {
  res.type('application/octet-stream').send(data);
}

export function attachmentRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = ctx.auth.survivor;
  const moderator = ctx.auth.staff.requireStaff('moderator');
  const perSender = ctx.limits.records;
  // A made-up staff cookie got this request past the general limit: refused, it counts by address.
  const moderatorOrCountAddress: RequestHandler = (req, res, next) =>
    moderator(req, res, (refusal?: unknown) =>
      refusal === undefined ? next() : ctx.limits.refusedRecords(req, res, (limitError?: unknown) => next(limitError ?? refusal)),
    );

  router.post('/survivor/attachments', auth, async (req, res) => {
    const body = parseWith(schemas.createAttachment, req.body);
    res.status(201).json(await createUpload(ctx, survivorIdOf(req), body));
  });

  router.get('/survivor/attachments/:id', auth, noQuery, async (req, res) => {
    const { id } = parseWith(schemas.attachmentIdParam, { id: req.params.id }, 'path');
    res.json(await uploadStatus(ctx, survivorIdOf(req), id));
  });

  router.put('/survivor/attachments/:id/records/:index', auth, perSender, async (req, res) => {
    const { id, index } = parseWith(schemas.recordParams, { id: req.params.id, index: req.params.index }, 'path');
    if (!req.is('application/octet-stream'))
      throw new HttpError(415, 'unsupported_media_type', 'send a record as raw bytes with Content-Type: application/octet-stream');
    // The body is read only once the upload is known to take this record next.
    const upload = await uploadAwaiting(ctx, survivorIdOf(req), id, index);
    const body = await readRecordBody(req, res);
    res.json(await storeRecord(ctx, survivorIdOf(req), upload, index, body));
  });

  router.post('/survivor/attachments/:id/close', auth, async (req, res) => {
    const { id } = parseWith(schemas.attachmentIdParam, { id: req.params.id }, 'path');
    const upload = await ownUpload(ctx, survivorIdOf(req), id);
    parseWith(schemas.closeAttachment, req.body);
    res.json(await closeUpload(ctx, survivorIdOf(req), upload));
  });

  router.get('/survivor/attachments/:id/records/:index', auth, perSender, noQuery, async (req, res) => {
    const { id, index } = parseWith(schemas.recordParams, { id: req.params.id, index: req.params.index }, 'path');
    sendRecord(res, await survivorRecord(ctx, survivorIdOf(req), id, index));
  });

  router.get('/staff/attachments/:id', moderator, noQuery, async (req, res) => {
    const { id } = parseWith(schemas.attachmentIdParam, { id: req.params.id }, 'path');
    res.json(await openForStaff(ctx, staffOf(req), id));
  });

  router.get('/staff/attachments/:id/records/:index', moderatorOrCountAddress, perSender, noQuery, async (req, res) => {
    const { id, index } = parseWith(schemas.recordParams, { id: req.params.id, index: req.params.index }, 'path');
    sendRecord(res, await staffRecord(ctx, staffOf(req), id, index));
  });

  return router;
}
