/**
 * Survivor routes. A survivor is known only by public keys and a random handle; their
 * browser proves possession of the codename-derived sign key and never sends a secret.
 */
import { Router } from 'express';
import { checkPow, envelopeHash, fromBase64url, randomId, verifyEnvelope, verifyLogin } from '../../protocol';
import { schemas, type SurvivorCase, type SurvivorSession } from '../../protocol/api';
import type { AppContext } from '../app';
import { nodeBackend } from '../crypto/node-backend';
import type { Db } from '../db/database';
import { badRequest, conflict, notFound, unauthorized } from '../http/errors';
import { issueSurvivorToken, randomToken } from '../http/tokens';
import { parseWith } from '../http/validate';
import { newHandle } from '../services/pseudonyms';
import { attachmentsToLink, linkAttachments } from '../services/attachments';
import { checkContext, checkRecipients, currentKeysetFor } from '../services/envelope-rules';
import { CHALLENGE_LIFETIME_MS } from '../services/challenges';
import { draftItems, item } from '../services/presenters';

export function survivorRoutes(ctx: AppContext): Router {
  const router = Router();
  const { survivors, challenges, cases, envelopes, keysets, publishing } = ctx.repos;
  const auth = ctx.auth.survivor;

  async function session(survivorId: string, handle: string): Promise<SurvivorSession> {
    return { token: issueSurvivorToken(ctx.serverSecret, survivorId, ctx.config.survivorSessionMs, ctx.clock.now()), handle, expiresInSeconds: Math.floor(ctx.config.survivorSessionMs / 1000) };
  }

  /** Consumes a proof-of-work challenge inside the caller's transaction. */
  async function spendPow(trx: Db, pow: { challenge: string; nonce: number }): Promise<void> {
    const found = await challenges.consume(trx, pow.challenge, 'pow', ctx.clock.now());
    if (!found) throw badRequest('bad_pow', 'pow.challenge is unknown, expired or already used; ask for a new one');
    if (!checkPow(pow.challenge, pow.nonce, found.bits)) throw badRequest('bad_pow', 'pow.nonce does not solve the challenge');
  }

  router.post('/register', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.register, req.body);
    if (!verifyLogin(ctx.instanceId, body.pow.challenge, fromBase64url(body.sig), fromBase64url(body.signPk), nodeBackend)) {
      throw badRequest('bad_signature', 'sig is not a signature of the challenge by signPk');
    }
    if (await survivors.existsWithKeys(body.signPk, body.boxPk)) throw conflict('already_registered', 'this codename is already registered; log in instead');
    const survivor = { id: randomId(), handle: newHandle(), signPk: body.signPk, boxPk: body.boxPk };
    await ctx.db.transaction(async (trx) => {
      await spendPow(trx, body.pow);
      await survivors.insert(trx, survivor, ctx.clock.today());
    });
    res.status(201).json(await session(survivor.id, survivor.handle));
  });

  router.post('/challenge', ctx.limits.sensitive, async (req, res) => {
    parseWith(schemas.survivorChallenge, req.body);
    const challenge = randomToken(32);
    await challenges.create(challenge, 'login', 0, ctx.clock.now() + CHALLENGE_LIFETIME_MS);
    res.json({ challenge });
  });

  router.post('/session', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.survivorSession, req.body);
    const survivor = await survivors.bySignPk(body.signPk);
    if (!(await challenges.peek(body.challenge, 'login', ctx.clock.now()))) throw unauthorized('the login challenge is unknown, expired or already used');
    if (!verifyLogin(ctx.instanceId, body.challenge, fromBase64url(body.sig), fromBase64url(body.signPk), nodeBackend)) throw unauthorized('the signature does not match');
    if (!survivor) throw unauthorized('no testimony was ever sent with this codename; check the words');
    // Spend the challenge only once everything else holds, so a rejected attempt writes nothing.
    const spent = await ctx.db.transaction((trx) => challenges.consume(trx, body.challenge, 'login', ctx.clock.now()));
    if (!spent) throw unauthorized('the login challenge is unknown, expired or already used');
    res.json(await session(survivor.id, survivor.handle));
  });

  router.get('/cases', auth, async (req, res) => {
    const list = await cases.listForSurvivor(req.survivorId!);
    const caseIds = list.map((c) => c.caseId);
    const rows = await envelopes.threadsOfCases(caseIds);
    const sharing = await publishing.sharingOf(caseIds);
    const drafts = await draftItems(ctx, caseIds);
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
      };
    });
    res.json({ cases: body });
  });

  router.post('/cases', auth, ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.submitCase, req.body);
    const survivor = await survivors.byId(req.survivorId!);
    if (!survivor) throw unauthorized('this survivor account no longer exists');
    const env = body.envelope;
    checkContext(env, { kind: 'testimony', caseId: env.caseId, threaded: false });
    verifyEnvelope(env, [fromBase64url(survivor.signPk)], nodeBackend);
    const sharing = body.sharing ?? { advocatesMayRead: false, statistics: null };
    checkRecipients(env, await currentKeysetFor(keysets, body.keysetVersion), survivor.boxPk, { survivor: 'required', advocates: sharing.advocatesMayRead ? 'all' : 'forbidden' });
    if (await cases.exists(env.caseId)) throw conflict('case_exists', 'envelope.caseId is already used');
    const attached = await attachmentsToLink(ctx, survivor.id, env.caseId, body.attachments);

    const day = ctx.clock.today();
    await ctx.db.transaction(async (trx) => {
      await spendPow(trx, body.pow);
      await cases.insert(trx, { id: env.caseId, survivorId: survivor.id, day });
      const envelopeId = await envelopes.insert(trx, { envelope: env, seq: 0, hash: envelopeHash(env, nodeBackend), fromStaff: false, day });
      await linkAttachments(ctx, trx, attached, { survivorId: survivor.id, caseId: env.caseId, envelopeId });
      await publishing.setSharing(trx, env.caseId, sharing, day.slice(0, 7));
    });
    res.status(201).json({ caseId: env.caseId, status: 'new', createdDay: day });
  });

  /** The survivor answers in their case's thread. */
  router.post('/cases/:caseId/messages', auth, async (req, res) => {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path');
    const survivor = await survivors.byId(req.survivorId!);
    if (!survivor || !(await cases.ownedBy(caseId, survivor.id))) throw notFound('no case with this id');
    const { envelope: env, keysetVersion, attachments } = parseWith(schemas.postEnvelope, req.body);
    checkContext(env, { kind: 'message', caseId, threaded: true });
    verifyEnvelope(env, [fromBase64url(survivor.signPk)], nodeBackend);
    checkRecipients(env, await currentKeysetFor(keysets, keysetVersion), survivor.boxPk, { survivor: 'required' });
    const head = await envelopes.head(caseId);
    if (!head || env.prev !== head.hash) throw conflict('thread_moved', 'a new message arrived in this case; reload it and write again');
    const attached = await attachmentsToLink(ctx, survivor.id, caseId, attachments);
    const found = (await cases.detail(caseId))!;
    const day = ctx.clock.today();
    await ctx.db.transaction(async (trx) => {
      const envelopeId = await envelopes.insert(trx, { envelope: env, seq: head.seq + 1, hash: envelopeHash(env, nodeBackend), fromStaff: false, day });
      await linkAttachments(ctx, trx, attached, { survivorId: survivor.id, caseId, envelopeId });
      const reopen = found.status === 'waiting_for_survivor' || found.status === 'closed';
      await cases.update(trx, caseId, { awaitingStaff: true, status: reopen ? 'in_review' : undefined, day });
    });
    res.status(201).json({ seq: head.seq + 1, day });
  });

  /** Marks the thread as read up to seq, so replies show as unread only once. */
  router.post('/cases/:caseId/seen', auth, async (req, res) => {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path');
    if (!(await cases.ownedBy(caseId, req.survivorId!))) throw notFound('no case with this id');
    const { seq } = parseWith(schemas.survivorSeen, req.body);
    const head = await envelopes.head(caseId);
    if (!head || seq > head.seq) throw badRequest('invalid_request', 'seq is beyond the last message of this case');
    await cases.markSeenBySurvivor(caseId, seq);
    res.status(204).end();
  });

  return router;
}
