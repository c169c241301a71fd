/**
 * Evidence files (protocol/attachment.ts). The survivor's browser seals a file into 64 KiB
 * records and uploads them one by one: it creates an upload, PUTs record `received` until all
 * are stored (after a dropped connection it asks where the upload stands and goes on from
 * there), closes it, and names it in the testimony or message that carries its key
 * (attachmentsToLink and linkAttachments, called from routes/survivor.ts). Only then may
 * moderators fetch it. The server never sees a key, a file name or a type.
 *
 * Record bodies are raw bytes (application/octet-stream), the one exception to "JSON only"
 * (server/app.ts), read with a limit of one record so nothing larger is ever buffered.
 */
import express, { Router, type Request, type Response } from 'express';
import { randomId, RECORD_BYTES, RECORD_OVERHEAD, recordCiphertextLength, utcDay } from '../../protocol';
import { schemas, type AttachmentUpload, type StaffAttachment } from '../../protocol/api';
import type { AppContext } from '../app';
import type { AttachmentRow } from '../db/attachment-repo';
import { bearerSurvivorId, readCookie, STAFF_COOKIE } from '../http/auth';
import { badRequest, conflict, HttpError, notFound, unauthorized } from '../http/errors';
import { parseWith } from '../http/validate';
import { inMb, tooLarge } from '../services/attachments';

/** how many uploads one survivor may hold that no message carries yet */
export const MAX_PENDING_UPLOADS = 50;
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
 * general, per-address one (server/http/rate-limit.ts).
 */
export function isCredentialedRecordRequest(serverSecret: string, req: Request, now: number): boolean {
  const route = recordRoute(req);
  if (!route) return false;
  return route.side === 'survivor' ? bearerSurvivorId(serverSecret, req, now) !== undefined : readCookie(req, STAFF_COOKIE) !== undefined;
}

/** Limits are whole MB in the configuration: say them that way. */
function uploadView(a: AttachmentRow): AttachmentUpload {
  return { id: a.id, size: a.size, records: a.records, received: a.received, closed: a.closed };
}

function checkIndexInFile(a: AttachmentRow, index: number): void {
  if (index >= a.records) throw badRequest('bad_index', `index: this file has ${a.records} record(s), numbered from 0 to ${a.records - 1}`);
}

/** Throws the reason record `index` cannot be stored now, if there is one. */
function refuseUnlessNext(a: AttachmentRow, index: number): void {
  if (a.closed) throw conflict('closed', 'this upload is closed and takes no more records');
  checkIndexInFile(a, index);
  if (index < a.received) throw conflict('duplicate_record', `record ${index} is already stored; the next record is ${a.received}`);
  if (index > a.received) throw conflict('out_of_order', `records are stored in order: the next record is ${a.received}, not ${index}`);
}

const rawRecord = express.raw({ type: 'application/octet-stream', limit: MAX_RECORD_BODY, inflate: false });

/** Reads a record body, refusing (413) as soon as it grows past one record. */
function readRecordBody(req: Request, res: Response): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    rawRecord(req, res, (err?: unknown) => {
      const type = (err as { type?: string } | undefined)?.type;
      if (type === 'entity.too.large') return reject(new HttpError(413, 'body_too_large', `a record is at most ${MAX_RECORD_BODY} bytes (${RECORD_BYTES} of the file and ${RECORD_OVERHEAD} of tag)`));
      if (type === 'encoding.unsupported') return reject(new HttpError(415, 'unsupported_encoding', 'send the record as it is, without Content-Encoding'));
      if (err) return reject(err);
      resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    });
  });
}

function sendRecord(res: Response, data: Buffer): void {
  res.type('application/octet-stream').send(data);
}

export function attachmentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { attachments, survivors, audit } = ctx.repos;
  const auth = ctx.auth.survivor;
  const moderator = ctx.auth.staff.requireStaff('moderator');
  const perSender = ctx.limits.records;

  async function ownUpload(req: Request): Promise<AttachmentRow> {
    const { id } = parseWith(schemas.attachmentIdParam, { id: req.params.id }, 'path');
    const a = await attachments.ofSurvivor(id, req.survivorId!);
    if (!a) throw notFound('no upload of yours has this id');
    return a;
  }

  /** A closed upload linked to a message: what staff may see. */
  async function linkedUpload(id: string): Promise<AttachmentRow & { caseId: string }> {
    const a = await attachments.forStaff(id);
    if (!a || a.caseId === null) throw notFound('no attached file has this id');
    return a as AttachmentRow & { caseId: string };
  }

  router.post('/survivor/attachments', auth, async (req, res) => {
    const { size, records } = parseWith(schemas.createAttachment, req.body);
    const fileLimit = ctx.config.attachmentMaxFileBytes;
    if (size > fileLimit) throw tooLarge(`a file may be at most ${inMb(fileLimit)}`);
    if (!(await survivors.byId(req.survivorId!))) throw unauthorized('this survivor account no longer exists');
    const now = ctx.clock.now();
    const created: AttachmentRow = { id: randomId(), survivorId: req.survivorId!, caseId: null, envelopeId: null, size, records, received: 0, closed: false, createdDay: utcDay(new Date(now)) };
    await ctx.db.transaction(async (trx) => {
      // Counted in the transaction, so that (on SQLite, where writes are serialized) parallel requests cannot all pass.
      const pending = await attachments.pendingUsage(trx, created.survivorId, now);
      if (pending.count >= MAX_PENDING_UPLOADS) {
        throw new HttpError(429, 'too_many_uploads', `you have ${MAX_PENDING_UPLOADS} files uploaded but not sent; send them with a message, or wait: unsent files are deleted after two days`);
      }
      const testimonyLimit = ctx.config.attachmentMaxTestimonyBytes;
      if (pending.bytes + size > testimonyLimit) throw tooLarge(`files uploaded but not sent may total at most ${inMb(testimonyLimit)}; send them with a message first`);
      await attachments.create(trx, { id: created.id, survivorId: created.survivorId, size, records, day: created.createdDay });
    });
    res.status(201).json(uploadView(created));
  });

  router.get('/survivor/attachments/:id', auth, async (req, res) => {
    res.json(uploadView(await ownUpload(req)));
  });

  router.put('/survivor/attachments/:id/records/:index', auth, perSender, async (req, res) => {
    const { id, index } = parseWith(schemas.recordParams, { id: req.params.id, index: req.params.index }, 'path');
    if (!req.is('application/octet-stream')) throw new HttpError(415, 'unsupported_media_type', 'send a record as raw bytes with Content-Type: application/octet-stream');
    const upload = await attachments.ofSurvivor(id, req.survivorId!);
    if (!upload) throw notFound('no upload of yours has this id');
    refuseUnlessNext(upload, index);
    const body = await readRecordBody(req, res);
    const expected = recordCiphertextLength(upload.size, index);
    if (body.length !== expected) throw badRequest('bad_length', `record ${index} of this file must be exactly ${expected} bytes, not ${body.length}`);
    if (!(await attachments.appendRecord(id, index, body))) {
      // Another request changed the upload since it was read: say what it is now.
      const now = await attachments.ofSurvivor(id, req.survivorId!);
      if (!now) throw notFound('no upload of yours has this id');
      refuseUnlessNext(now, index);
      throw conflict('conflict', 'the upload changed meanwhile; ask where it stands and go on from there');
    }
    res.json({ received: index + 1 });
  });

  router.post('/survivor/attachments/:id/close', auth, async (req, res) => {
    const upload = await ownUpload(req);
    parseWith(schemas.closeAttachment, req.body);
    if (!upload.closed) {
      if (upload.received < upload.records) throw conflict('incomplete', `the upload holds ${upload.received} of ${upload.records} records; send record ${upload.received} next`);
      // Closing twice answers the same (a retry after a lost answer), so only a real change is refused.
      if (!(await attachments.close(upload.id, req.survivorId!)) && !(await attachments.ofSurvivor(upload.id, req.survivorId!))?.closed) {
        throw conflict('conflict', 'the upload changed meanwhile; ask where it stands');
      }
    }
    res.json({ id: upload.id, closed: true });
  });

  router.get('/survivor/attachments/:id/records/:index', auth, perSender, async (req, res) => {
    const { id, index } = parseWith(schemas.recordParams, { id: req.params.id, index: req.params.index }, 'path');
    const upload = await attachments.ofSurvivor(id, req.survivorId!);
    if (!upload) throw notFound('no upload of yours has this id');
    if (!upload.closed) throw conflict('not_closed', 'this upload is not closed yet; its records can be read once it is');
    checkIndexInFile(upload, index);
    sendRecord(res, (await attachments.record(id, index))!);
  });

  router.get('/staff/attachments/:id', moderator, async (req, res) => {
    const { id } = parseWith(schemas.attachmentIdParam, { id: req.params.id }, 'path');
    const a = await linkedUpload(id);
    // Logged when a moderator opens a file (its records follow without a further entry each).
    await audit.record(ctx.db, { actorId: req.staff!.id, action: 'case.attachment_opened', subject: a.caseId, detail: { attachmentId: a.id } });
    const body: StaffAttachment = { id: a.id, caseId: a.caseId, size: a.size, records: a.records };
    res.json(body);
  });

  router.get('/staff/attachments/:id/records/:index', moderator, perSender, async (req, res) => {
    const { id, index } = parseWith(schemas.recordParams, { id: req.params.id, index: req.params.index }, 'path');
    const a = await linkedUpload(id);
    checkIndexInFile(a, index);
    sendRecord(res, (await attachments.record(id, index))!);
  });

  return router;
}
