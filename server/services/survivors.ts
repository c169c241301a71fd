/**
 * Survivor accounts, testimonies and the survivor's side of their threads. A survivor is known
 * only by public keys and a random handle; their browser proves possession of the
 * codename-derived sign key and never sends a secret.
 */
import type { z } from 'zod';
import { fromBase64url, randomId, verifyEnvelope, verifyLogin } from '../../protocol';
import type { schemas, SurvivorCase, SurvivorSession } from '../../protocol/api';
import type { AppContext } from '../app';
import { nodeBackend } from '../crypto/node-backend';
import type { SurvivorRecord } from '../db/survivor-repo';
import { badRequest, conflict, notFound, unauthorized } from '../http/errors';
import { issueSurvivorToken } from '../http/tokens';
import { queueAlert } from './alerts';
import { attachmentsToLink, linkAttachments } from './attachments';
import { issueChallenge, spendPow } from './challenges';
import { checkContext, checkRecipients, currentKeysetFor } from './envelope-rules';
import { draftItems, item } from './presenters';
import { newHandle } from './pseudonyms';
import { keptUntilDays } from './retention';

function session(ctx: AppContext, survivorId: string, handle: string): SurvivorSession {
  return {
    token: issueSurvivorToken(ctx.serverSecret, survivorId, ctx.config.survivorSessionMs, ctx.clock.now()),
    handle,
    expiresInSeconds: Math.floor(ctx.config.survivorSessionMs / 1000),
  };
}

/** A new survivor account for these keys; the proof-of-work challenge is spent in the same transaction. */
export async function register(ctx: AppContext, body: z.infer<typeof schemas.register>): Promise<SurvivorSession> {
  const { survivors } = ctx.repos;
  if (!verifyLogin(ctx.instanceId, body.pow.challenge, fromBase64url(body.sig), fromBase64url(body.signPk), nodeBackend)) {
    throw badRequest('bad_signature', 'sig is not a signature of the challenge by signPk');
  }
  if (await survivors.existsWithKeys(body.signPk, body.boxPk))
    throw conflict('already_registered', 'this codename is already registered; log in instead');
  const survivor = { id: randomId(), handle: newHandle(), signPk: body.signPk, boxPk: body.boxPk };
  await ctx.db.transaction(async (trx) => {
    await spendPow(ctx, trx, body.pow);
    await survivors.insert(trx, survivor, ctx.clock.today());
  });
  return session(ctx, survivor.id, survivor.handle);
}

export async function newLoginChallenge(ctx: AppContext): Promise<{ challenge: string }> {
  return { challenge: await issueChallenge(ctx, 'login', 0) };
}

/** A session for the survivor whose sign key signed the login challenge. */
export async function logIn(ctx: AppContext, body: z.infer<typeof schemas.survivorSession>): Promise<SurvivorSession> {
  const { survivors, challenges } = ctx.repos;
  const survivor = await survivors.bySignPk(body.signPk);
  if (!(await challenges.peek(body.challenge, 'login', ctx.clock.now())))
    throw unauthorized('the login challenge is unknown, expired or already used');
  if (!verifyLogin(ctx.instanceId, body.challenge, fromBase64url(body.sig), fromBase64url(body.signPk), nodeBackend))
    throw unauthorized('the signature does not match');
  if (!survivor) throw unauthorized('no testimony was ever sent with this codename; check the words');
  // Spend the challenge only once everything else holds, so a rejected attempt writes nothing.
  const spent = await ctx.db.transaction((trx) => challenges.consume(trx, body.challenge, 'login', ctx.clock.now()));
  if (!spent) throw unauthorized('the login challenge is unknown, expired or already used');
  await survivors.recordVisit(survivor.id, ctx.clock.today()); // coming back keeps closed cases (retention)
  return session(ctx, survivor.id, survivor.handle);
}

/** The survivor's cases, each with its sharing choices, drafts and thread. */
export async function casesOf(ctx: AppContext, survivorId: string): Promise<{ cases: SurvivorCase[] }> {
  const { cases, envelopes, publishing } = ctx.repos;
  const list = await cases.listForSurvivor(survivorId);
  const caseIds = list.map((c) => c.caseId);
  const rows = await envelopes.threadsOfCases(caseIds);
  const sharing = await publishing.sharingOf(caseIds);
  const drafts = await draftItems(ctx, caseIds);
  const keptUntil = await keptUntilDays(ctx, survivorId);
  const body: SurvivorCase[] = list.map((c) => {
    const thread = rows.filter((r) => r.caseId === c.caseId);
    return {
      caseId: c.caseId,
      status: c.status,
      createdDay: c.createdDay,
      sharing: sharing.get(c.caseId) ?? { advocatesMayRead: false, statistics: null },
      drafts: drafts.filter((d) => d.caseId === c.caseId).map(({ caseId: _caseId, author: _author, ...d }) => d),
      thread: thread.map((r) => item(r)),
      unread: thread.filter((r) => r.fromStaff && (r.seq ?? 0) > c.seenSeq).length,
      keptUntilDay: keptUntil.get(c.caseId) ?? null,
    };
  });
  return { cases: body };
}

/**
 * Opens a case with the survivor's testimony. The proof-of-work challenge is spent in the same
 * transaction as the case, its envelope, its attachments and its sharing choices.
 */
export async function submitTestimony(
  ctx: AppContext,
  survivorId: string,
  body: z.infer<typeof schemas.submitCase>,
): Promise<{ caseId: string; status: 'new'; createdDay: string }> {
  const { survivors, cases, envelopes, keysets, publishing } = ctx.repos;
  const survivor = await survivors.byId(survivorId);
  if (!survivor) throw unauthorized('this survivor account no longer exists');
  const env = body.envelope;
  checkContext(env, { kind: 'testimony', caseId: env.caseId, threaded: false });
  const verified = verifyEnvelope(env, [fromBase64url(survivor.signPk)], nodeBackend);
  const sharing = body.sharing ?? { advocatesMayRead: false, statistics: null };
  checkRecipients(env, await currentKeysetFor(keysets, body.keysetVersion), survivor.boxPk, {
    survivor: 'required',
    advocates: sharing.advocatesMayRead ? 'all' : 'forbidden',
  });
  const attached = await attachmentsToLink(ctx, survivor.id, null, body.attachments);

  const day = ctx.clock.today();
  // Any throw rolls the whole transaction back: a rejected submission writes nothing.
  await ctx.db.transaction(async (trx) => {
    // First, so that a taken id answers case_exists whatever else is wrong, as a read before it did.
    if (!(await cases.insert(trx, { id: env.caseId, survivorId: survivor.id, advocatesMayRead: sharing.advocatesMayRead, day }))) {
      throw conflict('case_exists', 'envelope.caseId is already used');
    }
    await spendPow(ctx, trx, body.pow);
    const envelopeId = await envelopes.insert(trx, { envelope: env, verified, seq: 0, fromStaff: false, day });
    await linkAttachments(ctx, trx, attached, { survivorId: survivor.id, caseId: env.caseId, envelopeId });
    if (sharing.statistics) await publishing.addStatistics(trx, env.caseId, sharing.statistics, day.slice(0, 7));
  });
  await queueAlert(ctx, 'new_case');
  return { caseId: env.caseId, status: 'new', createdDay: day };
}

/**
 * The survivor who may write in this case's thread; 404 unless the case is theirs. Routes call
 * it before they read the body, so a case that is not theirs answers 404 whatever the body says.
 */
export async function threadWriter(ctx: AppContext, survivorId: string, caseId: string): Promise<SurvivorRecord> {
  const survivor = await ctx.repos.survivors.byId(survivorId);
  if (!survivor || !(await ctx.repos.cases.ownedBy(caseId, survivor.id))) throw notFound('no case with this id');
  return survivor;
}

/** The survivor answers in their case's thread (after threadWriter); an answer reopens a case that was waiting for them or closed. */
export async function postMessage(
  ctx: AppContext,
  survivor: SurvivorRecord,
  caseId: string,
  body: z.infer<typeof schemas.postEnvelope>,
): Promise<{ seq: number; day: string }> {
  const { cases, envelopes, keysets } = ctx.repos;
  const { envelope: env, keysetVersion, attachments } = body;
  checkContext(env, { kind: 'message', caseId, threaded: true });
  const verified = verifyEnvelope(env, [fromBase64url(survivor.signPk)], nodeBackend);
  checkRecipients(env, await currentKeysetFor(keysets, keysetVersion), survivor.boxPk, { survivor: 'required' });
  const head = await envelopes.head(caseId);
  if (!head || env.prev !== head.hash) throw conflict('thread_moved', 'a new message arrived in this case; reload it and write again');
  const attached = await attachmentsToLink(ctx, survivor.id, caseId, attachments);
  const found = await cases.detail(caseId);
  // Only if the case was erased since threadWriter saw it.
  if (!found) throw notFound('no case with this id');
  const day = ctx.clock.today();
  await ctx.db.transaction(async (trx) => {
    const envelopeId = await envelopes.insert(trx, { envelope: env, verified, seq: head.seq + 1, fromStaff: false, day });
    await linkAttachments(ctx, trx, attached, { survivorId: survivor.id, caseId, envelopeId });
    const reopen = found.status === 'waiting_for_survivor' || found.status === 'closed';
    await cases.update(trx, caseId, { awaitingStaff: true, status: reopen ? 'in_review' : undefined, day });
  });
  await queueAlert(ctx, 'answer', found.assignee?.id);
  return { seq: head.seq + 1, day };
}

/** 404 unless the case is this survivor's (called before the body is read, like threadWriter). */
export async function checkOwnCase(ctx: AppContext, survivorId: string, caseId: string): Promise<void> {
  if (!(await ctx.repos.cases.ownedBy(caseId, survivorId))) throw notFound('no case with this id');
}

/** Marks the thread as read up to seq, so replies show as unread only once. */
export async function markSeen(ctx: AppContext, caseId: string, seq: number): Promise<void> {
  const head = await ctx.repos.envelopes.head(caseId);
  if (!head || seq > head.seq) throw badRequest('invalid_request', 'seq is beyond the last message of this case');
  await ctx.repos.cases.markSeenBySurvivor(caseId, seq);
}
