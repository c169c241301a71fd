/**
 * The checks that attach evidence files to a testimony or a message, shared by the survivor's
 * routes that send envelopes.
 */
import type { AppContext } from '../app';
import type { Db } from '../db/database';
import { badRequest, conflict, HttpError } from '../http/errors';

export const inMb = (bytes: number) => `${Math.floor(bytes / (1024 * 1024))} MB`;

export const tooLarge = (message: string) => new HttpError(413, 'too_large', message);

/**
 * Checks the uploads a survivor's testimony or message names: each must be theirs, closed and
 * not yet attached, and the case's files together must stay within the testimony limit.
 * Returns the ids to link, in the same transaction as the envelope, with linkAttachments.
 * Ids are named by position (attachments[i]), never echoed.
 */
export async function attachmentsToLink(ctx: AppContext, survivorId: string, caseId: string, ids: string[] | undefined): Promise<string[]> {
  if (!ids?.length) return [];
  const mine = new Map((await ctx.repos.attachments.ofSurvivorMany(ids, survivorId)).map((a) => [a.id, a]));
  let total = await ctx.repos.attachments.caseBytes(caseId);
  ids.forEach((id, i) => {
    const a = mine.get(id);
    if (!a) throw badRequest('unknown_attachment', `attachments[${i}] is not an upload of yours (or it was deleted after two days unsent)`);
    if (!a.closed) throw conflict('attachment_not_closed', `attachments[${i}] is not closed yet: upload all its records and close it first`);
    if (a.caseId !== null) throw conflict('attachment_linked', `attachments[${i}] is already attached to a message`);
    total += a.size;
  });
  const limit = ctx.config.attachmentMaxTestimonyBytes;
  if (total > limit) throw tooLarge(`the files of one testimony, its messages included, may total at most ${inMb(limit)}`);
  return ids;
}

/** Links checked uploads to the envelope just inserted; a change meanwhile rolls the transaction back. */
export async function linkAttachments(ctx: AppContext, trx: Db, ids: string[], to: { survivorId: string; caseId: string; envelopeId: number }): Promise<void> {
  if (ids.length === 0) return;
  const linked = await ctx.repos.attachments.link(trx, ids, to);
  if (linked !== ids.length) throw conflict('conflict', 'an attachment changed meanwhile; check your uploads and send again');
}

