/**
 * Publishing with consent (issue 4), the survivor's and the staff's sides.
 *
 * The survivor decides who reads (advocates) and what is counted (statistics); moderators or
 * advocates propose a redacted draft, sealed to the survivor and the staff; the survivor's
 * browser signs a consent over the SHA-256 of the exact story; an advocate publishes it, and
 * the server refuses any story whose hash is not the one signed. A signed revocation takes it
 * down at once. "Delete everything" erases the survivor and all that hangs from them.
 */
import { Router, type Request } from 'express';
import { envelopeHash, fromBase64url, keyId, readersOf, storyHash, utcDay, verifyEnvelope, verifyGrant, verifyStatement, type ConsentStatement, type RevocationStatement } from '../../protocol';
import { schemas, type PublishingCase, type PublishingCaseSummary } from '../../protocol/api';
import type { AppContext } from '../app';
import { nodeBackend } from '../crypto/node-backend';
import { badRequest, conflict, notFound, unauthorized } from '../http/errors';
import { parseWith } from '../http/validate';
import { newAlias } from '../services/pseudonyms';
import { checkContext, checkRecipients, currentKeysetFor } from '../services/envelope-rules';
import { draftItems, item } from '../services/presenters';

/** A survivor's statement must be about this case and draft, and of about today (UTC, a day either side). */
function checkStatementContext(statement: ConsentStatement | RevocationStatement, caseId: string, draftId: string, now: number): void {
  if (statement.caseId !== caseId) throw badRequest('wrong_case', 'statement.caseId does not name this case');
  if (statement.draftId !== draftId) throw badRequest('wrong_draft', 'statement.draftId does not name this draft');
  const day = (offset: number) => utcDay(new Date(now + offset * 86_400_000));
  if (![day(-1), day(0), day(1)].includes(statement.issuedDay)) throw badRequest('stale_statement', 'statement.issuedDay must be today (UTC); sign it again');
}

export function survivorPublishingRoutes(ctx: AppContext): Router {
  const router = Router();
  const { survivors, cases, envelopes, keysets, publishing } = ctx.repos;
  const auth = ctx.auth.survivor;

  async function ownCase(req: Request) {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path');
    const survivor = await survivors.byId(req.survivorId!);
    if (!survivor) throw unauthorized('this survivor account no longer exists');
    const found = await cases.detail(caseId);
    if (!found || found.survivorId !== survivor.id) throw notFound('no case with this id');
    return { survivor, found };
  }

  async function ownDraft(req: Request) {
    const { caseId, draftId } = parseWith(schemas.draftParam, { caseId: req.params.caseId, draftId: req.params.draftId }, 'path');
    const own = await ownCase(req);
    const draft = await publishing.draft(draftId);
    if (!draft || draft.caseId !== caseId) throw notFound('no draft with this id in this case');
    return { ...own, draft };
  }

  /** Who may read and what is counted; turning advocates on carries the testimony key re-wrapped to each of them. */
  router.post('/cases/:caseId/sharing', auth, async (req, res) => {
    const { survivor, found } = await ownCase(req);
    const { sharing, keysetVersion, grants } = parseWith(schemas.updateSharing, req.body);
    const keyset = await currentKeysetFor(keysets, keysetVersion);
    const before = (await publishing.sharingOf([found.caseId])).get(found.caseId)!;
    const { thread } = await envelopes.ofCase(found.caseId, { notes: false });
    const testimony = thread[0];
    const moderatorKids = new Set(readersOf(keyset.keyset).map(keyId));
    const advocateOnly = readersOf(keyset.keyset, 'advocate').map(keyId).filter((k) => !moderatorKids.has(k));

    const opening = sharing.advocatesMayRead && !before.advocatesMayRead;
    if (!opening && grants.length > 0) throw badRequest('invalid_request', 'grants are only sent when advocates may read the testimony from now on');
    if (opening) {
      const readable = new Set(testimony.envelope.keys.filter((k) => k.wrapped !== undefined).map((k) => k.kid));
      for (const grant of grants) {
        if (!advocateOnly.includes(grant.kid)) throw badRequest('unknown_recipient', 'grants[].kid must name an advocate of the current keyset');
        verifyGrant(grant, testimony.envelope, [fromBase64url(survivor.signPk)], nodeBackend);
        readable.add(grant.kid);
      }
      const missing = advocateOnly.filter((k) => !readable.has(k));
      if (missing.length > 0) throw badRequest('missing_recipient', `grants must re-wrap the testimony key to every advocate (${missing.length} missing)`);
      if (new Set(grants.map((g) => g.kid)).size !== grants.length) throw badRequest('invalid_request', 'grants lists an advocate twice');
    }
    const closing = !sharing.advocatesMayRead && before.advocatesMayRead;
    const update = async (trx: typeof ctx.db) => {
      await publishing.setSharing(trx, found.caseId, sharing, found.createdDay.slice(0, 7));
      if (opening) for (const grant of grants) await envelopes.insertGrant(trx, testimony.id, grant);
      // Advocates may no longer read: erase their keys to the testimony (drafts stay theirs).
      if (closing) await envelopes.eraseReadersOf(trx, testimony.id, advocateOnly);
    };
    await (closing ? ctx.erase(update) : ctx.db.transaction(update));
    res.json({ sharing });
  });

  router.post('/cases/:caseId/drafts/:draftId/changes', auth, async (req, res) => {
    const { draft } = await ownDraft(req);
    parseWith(schemas.requestChanges, req.body);
    if (draft.status !== 'proposed') throw conflict('draft_not_open', `this draft is ${draft.status.replace('_', ' ')}; only a proposed draft can be sent back`);
    await ctx.db.transaction((trx) => publishing.setDraftStatus(trx, draft.id, 'changes_requested', ctx.clock.today()));
    res.json({ status: 'changes_requested' });
  });

  router.post('/cases/:caseId/drafts/:draftId/consent', auth, async (req, res) => {
    const { survivor, found, draft } = await ownDraft(req);
    const { statement, sig } = parseWith(schemas.consent, req.body);
    checkStatementContext(statement, found.caseId, draft.id, ctx.clock.now());
    verifyStatement(statement, sig, survivor.signPk, nodeBackend);
    const existing = await publishing.consent(draft.id);
    if (existing?.revokedDay) throw conflict('consent_revoked', 'consent to this draft was revoked; a revoked draft cannot be approved again, ask for a new draft');
    if (existing) throw conflict('already_approved', 'this draft is already approved');
    if (draft.status !== 'proposed' && draft.status !== 'changes_requested') throw conflict('draft_not_open', `this draft is ${draft.status.replace('_', ' ')} and cannot be approved`);
    await ctx.db.transaction(async (trx) => {
      await publishing.insertConsent(trx, { statement, sig });
      await publishing.setDraftStatus(trx, draft.id, 'approved', ctx.clock.today());
    });
    res.status(201).json({ status: 'approved' });
  });

  router.post('/cases/:caseId/drafts/:draftId/revoke', auth, async (req, res) => {
    const { survivor, found, draft } = await ownDraft(req);
    const { statement, sig } = parseWith(schemas.revoke, req.body);
    checkStatementContext(statement, found.caseId, draft.id, ctx.clock.now());
    verifyStatement(statement, sig, survivor.signPk, nodeBackend);
    const existing = await publishing.consent(draft.id);
    if (!existing) throw conflict('not_approved', 'this draft was never approved, so there is nothing to revoke');
    if (existing.revokedDay) throw conflict('already_revoked', 'consent to this draft is already revoked');
    const day = ctx.clock.today();
    // An erasure: once this answers, the story's words are in neither the main file nor the WAL.
    await ctx.erase(async (trx) => {
      await publishing.revokeConsent(trx, { statement, sig, day });
      await publishing.setDraftStatus(trx, draft.id, 'revoked', day);
      await publishing.unpublishDraft(trx, draft.id, day);
    });
    res.json({ status: 'revoked' });
  });

  /** Erases the survivor and everything that hangs from them; published stories become 410 tombstones. */
  router.post('/delete-everything', auth, async (req, res) => {
    parseWith(schemas.deleteEverything, req.body);
    const survivor = await survivors.byId(req.survivorId!);
    if (!survivor) throw unauthorized('this survivor account no longer exists');
    const caseIds = (await cases.listForSurvivor(survivor.id)).map((c) => c.caseId);
    await ctx.erase(async (trx) => {
      await publishing.tombstoneCases(trx, caseIds, ctx.clock.today());
      await survivors.erase(trx, survivor.id);
    });
    res.status(204).end();
  });

  return router;
}

export function staffPublishingRoutes(ctx: AppContext): Router {
  const router = Router();
  const { cases, envelopes, keysets, audit, publishing } = ctx.repos;
  const { requireStaff } = ctx.auth.staff;
  const reader = requireStaff('moderator', 'advocate');

  async function openCase(caseIdParam: unknown) {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: caseIdParam }, 'path');
    const found = await cases.detail(caseId);
    if (!found) throw notFound('no case with this id');
    if (!(await publishing.advocatesMayRead(caseId))) throw notFound('no case with this id is open to advocates');
    return found;
  }

  router.get('/staff/publishing', reader, async (_req, res) => {
    const list = await publishing.casesOpenToAdvocates();
    const drafts = await publishing.draftsOf(list.map((c) => c.caseId));
    const body: PublishingCaseSummary[] = list.map((c) => ({
      ...c,
      drafts: drafts.filter((d) => d.caseId === c.caseId).map((d) => ({ draftId: d.id, version: d.version, status: d.status, day: d.updatedDay })),
    }));
    res.json({ cases: body });
  });

  router.get('/staff/publishing/:caseId', reader, async (req, res) => {
    const found = await openCase(req.params.caseId);
    const kid = keyId(fromBase64url(req.staff!.boxPk));
    const { thread } = await envelopes.ofCase(found.caseId, { notes: false });
    const grants = await envelopes.grantsFor([thread[0].id], kid);
    const drafts = await draftItems(ctx, [found.caseId], kid);
    const body: PublishingCase = {
      caseId: found.caseId,
      handle: found.handle,
      createdDay: found.createdDay,
      survivorSignPk: found.survivorSignPk,
      survivorBoxPk: found.survivorBoxPk,
      testimony: item(thread[0], grants.get(thread[0].id)),
      drafts: drafts.map(({ caseId: _caseId, ...d }) => d),
    };
    res.json(body);
  });

  router.post('/staff/cases/:caseId/drafts', reader, async (req, res) => {
    const found = await openCase(req.params.caseId);
    const { draftId, envelope: env, keysetVersion } = parseWith(schemas.postDraft, req.body);
    checkContext(env, { kind: 'draft', caseId: found.caseId, threaded: false });
    if (env.signer !== req.staff!.signPk) throw badRequest('untrusted_signer', 'envelope.signer must be your own signing key');
    verifyEnvelope(env, [fromBase64url(req.staff!.signPk)], nodeBackend);
    checkRecipients(env, await currentKeysetFor(keysets, keysetVersion), found.survivorBoxPk, { survivor: 'required', advocates: 'allowed' });
    if (await publishing.draftExists(draftId)) throw conflict('draft_exists', 'draftId is already used');
    const day = ctx.clock.today();
    const version = await ctx.db.transaction(async (trx) => {
      const envelopeId = await envelopes.insert(trx, { envelope: env, seq: null, hash: envelopeHash(env, nodeBackend), fromStaff: true, day });
      const v = await publishing.insertDraft(trx, { id: draftId, caseId: found.caseId, envelopeId, authorId: req.staff!.id, day });
      await audit.record(trx, { actorId: req.staff!.id, action: 'case.draft_proposed', subject: found.caseId, detail: { version: v } });
      return v;
    });
    res.status(201).json({ draftId, version, status: 'proposed' });
  });

  /** Publishes the story an advocate decrypted, only if its hash is the one the survivor signed. */
  router.post('/staff/drafts/:draftId/publish', requireStaff('advocate'), async (req, res) => {
    const { draftId } = parseWith(schemas.staffDraftParam, { draftId: req.params.draftId }, 'path');
    const { story } = parseWith(schemas.publish, req.body);
    const draft = await publishing.draft(draftId);
    if (!draft) throw notFound('no draft with this id');
    const consent = await publishing.consent(draftId);
    if (!consent) throw conflict('not_approved', 'the survivor has not approved this draft');
    if (consent.revokedDay) throw conflict('consent_revoked', 'the survivor revoked consent to this draft');
    if (draft.status === 'published') throw conflict('already_published', 'this draft is already published');
    if (draft.status !== 'approved') throw conflict('not_approved', `this draft is ${draft.status.replace('_', ' ')}, not approved`);
    // Check the stored consent again, as if it had just arrived: a row written to the database
    // by anyone but the survivor's browser must not publish anything.
    const found = await cases.detail(draft.caseId);
    if (!found) throw notFound('no draft with this id');
    if (consent.statement.caseId !== draft.caseId || consent.statement.draftId !== draft.id || consent.statement.textHash !== consent.textHash) {
      throw conflict('consent_mismatch', 'the stored consent names another case or draft');
    }
    verifyStatement(consent.statement, consent.sig, found.survivorSignPk, nodeBackend);
    if ((await storyHash(story)) !== consent.textHash) throw badRequest('text_mismatch', 'the story differs from the exact words the survivor approved');

    let alias = newAlias();
    while (await publishing.aliasExists(alias)) alias = newAlias();
    const day = ctx.clock.today();
    await ctx.db.transaction(async (trx) => {
      await publishing.publish(trx, { alias, draftId, caseId: draft.caseId, story, month: day.slice(0, 7), day });
      await publishing.setDraftStatus(trx, draftId, 'published', day);
      await audit.record(trx, { actorId: req.staff!.id, action: 'story.published', subject: draft.caseId });
    });
    res.status(201).json({ alias, url: `${ctx.config.publicUrl}/stories/${alias}` });
  });

  return router;
}
