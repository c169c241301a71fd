/**
 * Survivor accounts, testimonies and the survivor's side of their threads. A survivor is known
 * only by public keys and a random handle; their browser proves possession of the
 * codename-derived sign key and never sends a secret.
 */
import type { z } from 'zod';
import { checkPow, fromBase64url, randomId, verifyEnvelope, verifyLogin, type Envelope, type VerifiedEnvelope } from '../../protocol';
import type { schemas, SurvivorCase, SurvivorSession } from '../../protocol/api';
import type { AppContext } from '../app';
import { nodeBackend } from '../crypto/node-backend';
import { accepted, refused, type Outcome } from '../db/batcher';
import type { StoredChallenge } from '../db/challenge-repo';
import type { SurvivorRecord } from '../db/survivor-repo';
import { badRequest, conflict, HttpError, notFound, unauthorized } from '../http/errors';
import { issueSurvivorToken } from '../http/tokens';
import { queueAlert } from './alerts';
import { attachmentsToLink, linkAttachments } from './attachments';
import { issueChallenge, spendPow } from './challenges';
import { checkContext, checkRecipients, currentKeysetFor, keysetChanged, namedKeyset, requireKeysetStill } from './envelope-rules';
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

/** A testimony that passed every check that needs no write, waiting for its transaction. */
export interface NewTestimony {
  survivor: SurvivorRecord;
  envelope: Envelope;
  verified: VerifiedEnvelope;
  keysetVersion: number;
  pow: { challenge: string; nonce: number };
  sharing: CaseSharing;
  attachments: string[];
  day: string;
}

type CaseSharing = NonNullable<z.infer<typeof schemas.submitCase>['sharing']>;

/**
 * Opens a case with the survivor's testimony. What needs no write is checked here (the
 * signature, the recipients against the keyset the envelope names, the attachments); the case
 * is then written by `openCases`, together with the other testimonies that arrived meanwhile.
 */
export async function submitTestimony(
  ctx: AppContext,
  survivorId: string,
  body: z.infer<typeof schemas.submitCase>,
): Promise<{ caseId: string; status: 'new'; createdDay: string }> {
  // Her keys, from memory after her first request: openCases checks that she still exists.
  const survivor = await ctx.repos.survivors.keysOf(survivorId);
  if (!survivor) throw unauthorized('this survivor account no longer exists');
  const env = body.envelope;
  checkContext(env, { kind: 'testimony', caseId: env.caseId, threaded: false });
  const verified = verifyEnvelope(env, [fromBase64url(survivor.signPk)], nodeBackend);
  const sharing = body.sharing ?? { advocatesMayRead: false, statistics: null };
  checkRecipients(env, await namedKeyset(ctx.repos.keysets, body.keysetVersion), survivor.boxPk, {
    survivor: 'required',
    advocates: sharing.advocatesMayRead ? 'all' : 'forbidden',
  });
  const attachments = await attachmentsToLink(ctx, survivor.id, null, body.attachments);
  const day = ctx.clock.today();
  await ctx.testimonies.run({
    survivor,
    envelope: env,
    verified,
    keysetVersion: body.keysetVersion,
    pow: body.pow,
    sharing,
    attachments,
    day,
  });
  await queueAlert(ctx, 'new_case');
  return { caseId: env.caseId, status: 'new', createdDay: day };
}

/**
 * Writes testimonies in one transaction (the batch of server/db/batcher.ts): the keyset each
 * was sealed for is checked to be still the current one (and each survivor to still exist), each case id to be new, each
 * proof-of-work challenge is spent, and the cases, envelopes, key rows, attachments and
 * statistics are written. Each testimony's refusal is its own: what was written for a refused
 * one is taken back inside the transaction (its case row deleted, its challenge put back), so a
 * refused request writes nothing and the others go on. Refusals come in the order a lone
 * request meets them: survivor, keyset, case id, then proof of work.
 */
export async function openCases(ctx: AppContext, batch: NewTestimony[]): Promise<Outcome<void>[]> {
  const { cases, challenges, envelopes, keysets, publishing, survivors } = ctx.repos;
  const outcomes: (Outcome<void> | undefined)[] = batch.map(() => undefined);
  const pending = () => batch.map((t, i) => ({ t, i })).filter(({ i }) => outcomes[i] === undefined);
  const now = ctx.clock.now();
  await ctx.db.transaction(async (trx) => {
    const present = await survivors.existing(
      trx,
      batch.map((t) => t.survivor.id),
    );
    for (const { t, i } of pending())
      if (!present.has(t.survivor.id)) outcomes[i] = refused(unauthorized('this survivor account no longer exists'));

    // Once per batch: a removal in flight commits first (then this sees its version), or
    // waits for this batch, so its erasure sees these key rows (keyset-repo.ts).
    await keysets.holdOffPublications(trx);
    const current = await keysets.currentVersion(trx);
    for (const { t, i } of pending()) {
      if (current === undefined) outcomes[i] = refused(new HttpError(503, 'not_set_up', 'this instance has no staff keys yet'));
      else if (t.keysetVersion !== current) outcomes[i] = refused(keysetChanged(current));
    }

    const caseExists = () => refused<void>(conflict('case_exists', 'envelope.caseId is already used'));
    const firstOfId = new Map<string, number>();
    for (const { t, i } of pending()) {
      if (firstOfId.has(t.envelope.caseId)) outcomes[i] = caseExists();
      else firstOfId.set(t.envelope.caseId, i);
    }
    const toOpen = pending();
    const opened = await cases.insertMany(
      trx,
      toOpen.map(({ t }) => ({
        id: t.envelope.caseId,
        survivorId: t.survivor.id,
        advocatesMayRead: t.sharing.advocatesMayRead,
        day: t.day,
      })),
    );
    for (const { t, i } of toOpen) if (!opened.has(t.envelope.caseId)) outcomes[i] = caseExists();

    const toSpend = pending();
    const spent = await challenges.consumeMany(
      trx,
      toSpend.map(({ t }) => t.pow.challenge),
      'pow',
    );
    const putBack: StoredChallenge[] = [];
    const withdrawn: string[] = [];
    for (const { t, i } of toSpend) {
      const challenge = spent.get(t.pow.challenge);
      spent.delete(t.pow.challenge); // a second request with the same challenge finds it used
      let refusal: HttpError | undefined;
      if (!challenge || challenge.expiresAt <= now)
        refusal = badRequest('bad_pow', 'pow.challenge is unknown, expired or already used; ask for a new one');
      else if (!checkPow(t.pow.challenge, t.pow.nonce, challenge.bits))
        refusal = badRequest('bad_pow', 'pow.nonce does not solve the challenge');
      if (refusal) {
        outcomes[i] = refused(refusal);
        if (challenge) putBack.push(challenge);
        withdrawn.push(t.envelope.caseId);
      }
    }
    await challenges.restore(trx, putBack);
    await cases.withdrawNew(trx, withdrawn);

    const toWrite = pending();
    const envelopeIds = await envelopes.insertMany(
      trx,
      toWrite.map(({ t }) => ({ envelope: t.envelope, verified: t.verified, seq: 0, fromStaff: false, day: t.day })),
    );
    for (const [n, { t }] of toWrite.entries()) {
      // A throw here (a file's total over the limit) fails the batch; each is then tried alone.
      await linkAttachments(ctx, trx, t.attachments, { survivorId: t.survivor.id, caseId: t.envelope.caseId, envelopeId: envelopeIds[n] });
      if (t.sharing.statistics) await publishing.addStatistics(trx, t.envelope.caseId, t.sharing.statistics, t.day.slice(0, 7));
    }
  });
  return outcomes.map((o) => o ?? accepted(undefined));
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
    await requireKeysetStill(keysets, trx, keysetVersion);
    const envelopeId = await envelopes.insert(trx, { envelope: env, verified, seq: head.seq + 1, fromStaff: false, day });
    await linkAttachments(ctx, trx, attached, { survivorId: survivor.id, caseId, envelopeId });
    await cases.update(trx, caseId, { awaitingStaff: true, reopen: true, day });
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
