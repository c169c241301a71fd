/**
 * Evidence files (protocol/attachment.ts): the survivor's uploads of sealed 64 KiB records,
 * closing them, the checks that attach them to a testimony or a message (attachmentsToLink and
 * linkAttachments, called from services/survivors.ts), and what moderators may download. The
 * server never sees a key, a file name or a type. Reading the raw record bodies is HTTP and
 * stays in routes/attachments.ts.
 */
import { fromBase64url, keyId, randomId, recordCiphertextLength, utcDay } from '../../protocol';
import type { AttachmentUpload, StaffAttachment } from '../../protocol/api';
import type { AppContext } from '../app';
import type { AttachmentRow } from '../db/attachment-repo';
import type { Db } from '../db/database';
import type { StaffRecord } from '../db/staff-repo';
import { badRequest, conflict, forbidden, HttpError, notFound, unauthorized } from '../http/errors';

/** how many uploads one survivor may hold that no message carries yet */
export const MAX_PENDING_UPLOADS = 50;

/** Limits are whole MB in the configuration: say them that way. */
export const inMb = (bytes: number) => `${Math.floor(bytes / (1024 * 1024))} MB`;

export const tooLarge = (message: string) => new HttpError(413, 'too_large', message);

/**
 * Checks the uploads a survivor's testimony or message names: each must be theirs, closed and
 * not yet attached, and the case's files together must stay within the testimony limit
 * (caseId null: a new testimony's case, which holds none yet).
 * Returns the ids to link, in the same transaction as the envelope, with linkAttachments
 * (which holds the limit again there: this check, outside the transaction, only answers early
 * and precisely). Ids are named by position (attachments[i]), never echoed.
 */
export async function attachmentsToLink(
  ctx: AppContext,
  survivorId: string,
  caseId: string | null,
  ids: string[] | undefined,
): Promise<string[]> {
  if (!ids?.length) return [];
  const mine = new Map((await ctx.repos.attachments.ofSurvivorMany(ids, survivorId)).map((a) => [a.id, a]));
  // A new case (null) holds no files yet; its id is checked to be new when it is inserted.
  let total = caseId === null ? 0 : await ctx.repos.attachments.caseBytes(caseId);
  ids.forEach((id, i) => {
    const a = mine.get(id);
    if (!a) throw badRequest('unknown_attachment', `attachments[${i}] is not an upload of yours (or it was deleted after two days unsent)`);
    if (!a.closed)
      throw conflict('attachment_not_closed', `attachments[${i}] is not closed yet: upload all its records and close it first`);
    if (a.caseId !== null) throw conflict('attachment_linked', `attachments[${i}] is already attached to a message`);
    total += a.size;
  });
  if (total > ctx.config.attachmentMaxTestimonyBytes) throw testimonyTooLarge(ctx);
  return ids;
}

const testimonyTooLarge = (ctx: AppContext) =>
  tooLarge(`the files of one testimony, its messages included, may total at most ${inMb(ctx.config.attachmentMaxTestimonyBytes)}`);

/**
 * Links checked uploads to the envelope just inserted; a change meanwhile rolls the transaction
 * back. The case's row is locked and its files' total counted again after linking, in this
 * transaction: messages sent to one case at the same moment (from two instances, on
 * PostgreSQL's several connections) each passed attachmentsToLink before either linked, and
 * only this count sees them both.
 */
export async function linkAttachments(
  ctx: AppContext,
  trx: Db,
  ids: string[],
  to: { survivorId: string; caseId: string; envelopeId: number },
): Promise<void> {
  if (ids.length === 0) return;
  const { linked, caseBytes } = await ctx.repos.attachments.link(trx, ids, to);
  if (linked !== ids.length) throw conflict('conflict', 'an attachment changed meanwhile; check your uploads and send again');
  if (caseBytes > ctx.config.attachmentMaxTestimonyBytes) throw testimonyTooLarge(ctx);
}

/** Where an upload stands, as its survivor sees it. */
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

/** A record the caller may read; `gone` is the 404 message if it vanished meanwhile (its file was erased). */
async function storedRecord(ctx: AppContext, id: string, index: number, gone: string): Promise<Buffer> {
  const data = await ctx.repos.attachments.record(id, index);
  if (!data) throw notFound(gone);
  return data;
}

/**
 * A new upload of `records` records, within the survivor's limits on files not yet sent. With
 * an `id` of the browser's choosing, a create sent again (its answer was lost on the way) answers
 * the upload the first one made, as it stands, instead of making a second that would count
 * against her limits for two days.
 */
export async function createUpload(
  ctx: AppContext,
  survivorId: string,
  { size, records, id }: { size: number; records: number; id?: string },
): Promise<AttachmentUpload> {
  const { attachments, survivors } = ctx.repos;
  const fileLimit = ctx.config.attachmentMaxFileBytes;
  if (size > fileLimit) throw tooLarge(`a file may be at most ${inMb(fileLimit)}`);
  if (!(await survivors.byId(survivorId))) throw unauthorized('this survivor account no longer exists');
  const madeBefore = async (): Promise<AttachmentUpload | undefined> => {
    const before = id === undefined ? undefined : await attachments.ofSurvivor(id, survivorId);
    if (before && before.size !== size) throw conflict('upload_exists', 'id: an upload of yours with this id has another size');
    return before && uploadView(before);
  };
  const again = await madeBefore();
  if (again) return again;
  const now = ctx.clock.now();
  const created: AttachmentRow = {
    id: id ?? randomId(),
    survivorId,
    caseId: null,
    envelopeId: null,
    size,
    records,
    received: 0,
    closed: false,
    createdDay: utcDay(new Date(now)),
  };
  const creating = ctx.db.transaction(async (trx) => {
    // Counted in the transaction, so that (on SQLite, where writes are serialized) parallel requests cannot all pass.
    const pending = await attachments.pendingUsage(trx, created.survivorId, now);
    if (pending.count >= MAX_PENDING_UPLOADS) {
      throw new HttpError(
        429,
        'too_many_uploads',
        `you have ${MAX_PENDING_UPLOADS} files uploaded but not sent; send them with a message, or wait: unsent files are deleted after two days`,
      );
    }
    const testimonyLimit = ctx.config.attachmentMaxTestimonyBytes;
    if (pending.bytes + size > testimonyLimit)
      throw tooLarge(`files uploaded but not sent may total at most ${inMb(testimonyLimit)}; send them with a message first`);
    await attachments.create(trx, { id: created.id, survivorId: created.survivorId, size, records, day: created.createdDay });
  });
  try {
    await creating;
  } catch (e) {
    // The same create, sent again while the first was still being written, fails on the id: answer the first.
    const first = await madeBefore();
    if (!first) throw e;
    return first;
  }
  return uploadView(created);
}

/** The survivor's own upload; 404 for anyone else's. */
export async function ownUpload(ctx: AppContext, survivorId: string, id: string): Promise<AttachmentRow> {
  const a = await ctx.repos.attachments.ofSurvivor(id, survivorId);
  if (!a) throw notFound('no upload of yours has this id');
  return a;
}

/** Where the survivor's upload stands (after a dropped connection, the page goes on from there). */
export async function uploadStatus(ctx: AppContext, survivorId: string, id: string): Promise<AttachmentUpload> {
  return uploadView(await ownUpload(ctx, survivorId, id));
}

/** The upload, if record `index` is the one it takes next; the route reads the body only then. */
export async function uploadAwaiting(ctx: AppContext, survivorId: string, id: string, index: number): Promise<AttachmentRow> {
  const upload = await ownUpload(ctx, survivorId, id);
  refuseUnlessNext(upload, index);
  return upload;
}

/** Stores record `index` of an upload (after uploadAwaiting), if it has exactly the length that record must have. */
export async function storeRecord(
  ctx: AppContext,
  survivorId: string,
  upload: AttachmentRow,
  index: number,
  body: Buffer,
): Promise<{ received: number }> {
  const expected = recordCiphertextLength(upload.size, index);
  if (body.length !== expected)
    throw badRequest('bad_length', `record ${index} of this file must be exactly ${expected} bytes, not ${body.length}`);
  if (!(await ctx.repos.attachments.appendRecord(upload.id, index, body))) {
    // Another request changed the upload since it was read: say what it is now.
    refuseUnlessNext(await ownUpload(ctx, survivorId, upload.id), index);
    throw conflict('conflict', 'the upload changed meanwhile; ask where it stands and go on from there');
  }
  return { received: index + 1 };
}

/** Closes an upload that holds all its records (after ownUpload). */
export async function closeUpload(ctx: AppContext, survivorId: string, upload: AttachmentRow): Promise<{ id: string; closed: true }> {
  const { attachments } = ctx.repos;
  if (!upload.closed) {
    if (upload.received < upload.records)
      throw conflict('incomplete', `the upload holds ${upload.received} of ${upload.records} records; send record ${upload.received} next`);
    // Closing twice answers the same (a retry after a lost answer), so only a real change is refused;
    // an upload erased meanwhile (two days unsent, or with her account) is not found, as it would be now.
    if (!(await attachments.close(upload.id, survivorId))) {
      const now = await attachments.ofSurvivor(upload.id, survivorId);
      if (!now) throw notFound('no upload of yours has this id');
      if (!now.closed) throw conflict('conflict', 'the upload changed meanwhile; ask where it stands');
    }
  }
  return { id: upload.id, closed: true };
}

/** A record of the survivor's own closed upload. */
export async function survivorRecord(ctx: AppContext, survivorId: string, id: string, index: number): Promise<Buffer> {
  const upload = await ownUpload(ctx, survivorId, id);
  if (!upload.closed) throw conflict('not_closed', 'this upload is not closed yet; its records can be read once it is');
  checkIndexInFile(upload, index);
  return storedRecord(ctx, id, index, 'no upload of yours has this id');
}

/**
 * A closed upload linked to a message, for a moderator who holds a key to that message (a key
 * entry or a grant of their own): only they can read its manifest, so only they may fetch the
 * file, and only their opening is logged. A moderator not yet granted the case (new staff
 * before a colleague shares older cases) is refused, not handed ciphertext and logged as
 * having opened it.
 */
async function linkedUpload(ctx: AppContext, me: StaffRecord, id: string): Promise<AttachmentRow & { caseId: string }> {
  const a = await ctx.repos.attachments.forStaff(id);
  if (!a || a.caseId === null || a.envelopeId === null) throw notFound('no attached file has this id');
  const { envelopes } = ctx.repos;
  const myKid = keyId(fromBase64url(me.boxPk));
  const [keys, grants] = await Promise.all([envelopes.keysFor([a.envelopeId], myKid), envelopes.grantsFor([a.envelopeId], myKid)]);
  if (!keys.has(a.envelopeId) && !grants.has(a.envelopeId))
    throw forbidden('the message that carries this file has not been shared with you yet: a moderator who reads this case can share it');
  return { ...a, caseId: a.caseId };
}

/** A moderator opens an attached file: logged once (its records follow without a further entry each). */
export async function openForStaff(ctx: AppContext, me: StaffRecord, id: string): Promise<StaffAttachment> {
  const a = await linkedUpload(ctx, me, id);
  await ctx.repos.audit.record(ctx.db, {
    actorId: me.id,
    action: 'case.attachment_opened',
    subject: a.caseId,
    detail: { attachmentId: a.id },
  });
  return { id: a.id, caseId: a.caseId, size: a.size, records: a.records };
}

/** A record of an attached file, for a moderator. */
export async function staffRecord(ctx: AppContext, me: StaffRecord, id: string, index: number): Promise<Buffer> {
  const a = await linkedUpload(ctx, me, id);
  checkIndexInFile(a, index);
  return storedRecord(ctx, id, index, 'no attached file has this id');
}
