/**
 * Publishing with consent (issue 4), the survivor's and the staff's sides.
 *
 * The survivor decides who reads (advocates) and what is counted (statistics); moderators or
 * advocates propose a redacted draft, sealed to the survivor and the staff; the survivor's
 * browser signs a consent over the SHA-256 of the exact story; an advocate publishes it, and
 * the server refuses any story whose hash is not the one signed. A signed revocation takes it
 * down at once. "Delete everything" erases the survivor and all that hangs from them.
 *
 * Routes that act on a case or a draft find it first (ownCase, ownDraft, caseOpenToAdvocates),
 * then read the body, then call the action: a case that is not the caller's answers 404
 * whatever the body says.
 */
import type { z } from 'zod';
import {
  AUDIT_LIMITS,
  fromBase64url,
  keyId,
  readersOf,
  storyHash,
  utcDay,
  verifyEnvelope,
  verifyGrant,
  verifyStatement,
  type ConsentStatement,
  type DraftStatus,
  type RevocationStatement,
} from '../../protocol';
import type { PublishingCase, PublishingCaseSummary, schemas, Sharing } from '../../protocol/api';
import type { AppContext } from '../app';
import { nodeBackend } from '../crypto/node-backend';
import type { CaseRepo } from '../db/case-repo';
import type { Db } from '../db/database';
import type { DraftRecord } from '../db/publishing-repo';
import type { StaffRecord } from '../db/staff-repo';
import type { SurvivorRecord } from '../db/survivor-repo';
import { badRequest, conflict, notFound, unauthorized } from '../http/errors';
import { checkContext, checkRecipients, currentKeysetFor, requireKeysetStill } from './envelope-rules';
import { draftItems, item } from './presenters';
import { newAlias } from './pseudonyms';
import { requireNotRemoved } from './staff-accounts';

type CaseDetail = NonNullable<Awaited<ReturnType<CaseRepo['detail']>>>;

/** A survivor's case, found for them. */
export interface OwnCase {
  survivor: SurvivorRecord;
  found: CaseDetail;
}

/** A draft of a survivor's case, found for them. */
export interface OwnDraft extends OwnCase {
  draft: DraftRecord;
}

/**
 * A survivor's statement must be about this case and draft. A consent must be of about today
 * (UTC, a day either side). A revocation may carry any day: it is final and a replay of it
 * changes nothing, while a phone whose clock is days off (common after a cheap phone's battery
 * runs out) must still be able to withdraw a story.
 */
function checkStatementContext(statement: ConsentStatement | RevocationStatement, caseId: string, draftId: string, now: number): void {
  if (statement.caseId !== caseId) throw badRequest('wrong_case', 'statement.caseId does not name this case');
  if (statement.draftId !== draftId) throw badRequest('wrong_draft', 'statement.draftId does not name this draft');
  if (statement.type === 'revoke') return;
  const day = (offset: number) => utcDay(new Date(now + offset * 86_400_000));
  if (![day(-1), day(0), day(1)].includes(statement.issuedDay))
    throw badRequest('stale_statement', 'statement.issuedDay must be today (UTC); sign it again');
}

// ---- The survivor's side ----

export async function ownCase(ctx: AppContext, survivorId: string, caseId: string): Promise<OwnCase> {
  const survivor = await ctx.repos.survivors.byId(survivorId);
  if (!survivor) throw unauthorized('this survivor account no longer exists');
  const found = await ctx.repos.cases.detail(caseId);
  if (!found || found.survivorId !== survivor.id) throw notFound('no case with this id');
  return { survivor, found };
}

export async function ownDraft(ctx: AppContext, survivorId: string, caseId: string, draftId: string): Promise<OwnDraft> {
  const own = await ownCase(ctx, survivorId, caseId);
  const draft = await ctx.repos.publishing.draft(draftId);
  if (!draft || draft.caseId !== caseId) throw notFound('no draft with this id in this case');
  return { ...own, draft };
}

/** Who may read and what is counted; turning advocates on carries the testimony key re-wrapped to each of them. */
export async function updateSharing(
  ctx: AppContext,
  { survivor, found }: OwnCase,
  body: z.infer<typeof schemas.updateSharing>,
): Promise<{ sharing: Sharing }> {
  const { envelopes, keysets, publishing } = ctx.repos;
  const { sharing, keysetVersion, grants } = body;
  const keyset = await currentKeysetFor(keysets, keysetVersion);
  // Every case has its sharing choices from the day it was opened; the default is only for the type.
  const before = (await publishing.sharingOf([found.caseId])).get(found.caseId) ?? { advocatesMayRead: false, statistics: null };
  const { thread } = await envelopes.ofCase(found.caseId, { notes: false });
  const testimony = thread[0];
  const moderatorKids = new Set(readersOf(keyset.keyset).map(keyId));
  const advocateOnly = readersOf(keyset.keyset, 'advocate')
    .map(keyId)
    .filter((k) => !moderatorKids.has(k));

  const opening = sharing.advocatesMayRead && !before.advocatesMayRead;
  if (!opening && grants.length > 0)
    throw badRequest('invalid_request', 'grants are only sent when advocates may read the testimony from now on');
  if (opening) {
    const readable = new Set(testimony.envelope.keys.filter((k) => k.wrapped !== undefined).map((k) => k.kid));
    for (const grant of grants) {
      if (!advocateOnly.includes(grant.kid))
        throw badRequest('unknown_recipient', 'grants[].kid must name an advocate of the current keyset');
      verifyGrant(grant, testimony.envelope, [fromBase64url(survivor.signPk)], nodeBackend);
      readable.add(grant.kid);
    }
    const missing = advocateOnly.filter((k) => !readable.has(k));
    if (missing.length > 0)
      throw badRequest('missing_recipient', `grants must re-wrap the testimony key to every advocate (${missing.length} missing)`);
    if (new Set(grants.map((g) => g.kid)).size !== grants.length) throw badRequest('invalid_request', 'grants lists an advocate twice');
  }
  const closing = !sharing.advocatesMayRead && before.advocatesMayRead;
  const update = async (trx: Db) => {
    // The grants go to, and a withdrawal erases the keys of, the advocates of the keyset checked
    // above: it must still be the current one (a removal or an added advocate waits for this).
    await requireKeysetStill(keysets, trx, keysetVersion);
    // Opening or closing was decided from the sharing read before this transaction: the case's
    // row is locked and read again, so that another request that changed it meanwhile (her other
    // tab) is not undone, nor a withdrawal left with advocates' keys standing.
    const openNow = (await ctx.repos.cases.lockOpenToAdvocates(trx, [found.caseId])).has(found.caseId);
    if (openNow !== before.advocatesMayRead)
      throw conflict('sharing_changed', 'who may read this case changed meanwhile; nothing was changed, reload and choose again');
    await publishing.setSharing(trx, found.caseId, sharing, found.createdDay.slice(0, 7));
    if (opening) for (const grant of grants) await envelopes.insertGrant(trx, testimony.id, grant);
    // Advocates may no longer read: erase their keys to the testimony (drafts stay theirs).
    if (closing) await envelopes.eraseReadersOf(trx, testimony.id, advocateOnly);
  };
  await (closing ? ctx.erase(update) : ctx.db.transaction(update));
  return { sharing };
}

/**
 * The survivor sends a proposed draft back for changes, with their request sealed (kind
 * 'changes') to themselves, the moderators and the draft's author, who may be an advocate
 * (advocates never read the conversation). The draft then waits on that change.
 */
export async function requestChanges(
  ctx: AppContext,
  { survivor, found, draft }: OwnDraft,
  { envelope: env, keysetVersion }: z.infer<typeof schemas.requestChanges>,
): Promise<{ status: DraftStatus }> {
  const { envelopes, keysets, publishing } = ctx.repos;
  if (draft.status !== 'proposed')
    throw conflict('draft_not_open', `this draft is ${draft.status.replace('_', ' ')}; only a proposed draft can be sent back`);
  checkContext(env, { kind: 'changes', caseId: found.caseId, threaded: false });
  if (env.signer !== survivor.signPk) throw badRequest('untrusted_signer', 'envelope.signer must be your own signing key');
  const verified = verifyEnvelope(env, [fromBase64url(survivor.signPk)], nodeBackend);
  const keyset = await currentKeysetFor(keysets, keysetVersion);
  checkRecipients(env, keyset, found.survivorBoxPk, { survivor: 'required', advocates: 'allowed' });
  // The author must be able to read it, while they are still a member.
  const author = keyset.keyset.members.find((m) => m.staffId === draft.authorId);
  if (author && !env.keys.some((k) => k.kid === keyId(fromBase64url(author.boxPk))))
    throw badRequest(
      'missing_recipient',
      "envelope.keys must include the draft's author, who may be an advocate and does not read the conversation",
    );
  const day = ctx.clock.today();
  await ctx.db.transaction(async (trx) => {
    await requireKeysetStill(keysets, trx, keysetVersion);
    const envelopeId = await envelopes.insert(trx, { envelope: env, verified, seq: null, fromStaff: false, day });
    // A newer draft proposed meanwhile superseded this one: it must not come back to be approved.
    if (!(await publishing.requestChanges(trx, draft.id, envelopeId, day)))
      throw conflict('draft_not_open', 'this draft changed meanwhile and cannot be sent back; reload it');
  });
  return { status: 'changes_requested' };
}

/** The survivor's signed consent to publish the exact words of a draft. */
export async function consent(
  ctx: AppContext,
  { survivor, found, draft }: OwnDraft,
  { statement, sig }: z.infer<typeof schemas.consent>,
): Promise<{ status: DraftStatus }> {
  const { publishing } = ctx.repos;
  checkStatementContext(statement, found.caseId, draft.id, ctx.clock.now());
  verifyStatement(statement, sig, survivor.signPk, nodeBackend);
  const existing = await publishing.consent(draft.id);
  if (existing?.revokedDay)
    throw conflict('consent_revoked', 'consent to this draft was revoked; a revoked draft cannot be approved again, ask for a new draft');
  if (existing) throw conflict('already_approved', 'this draft is already approved');
  if (draft.status !== 'proposed' && draft.status !== 'changes_requested')
    throw conflict('draft_not_open', `this draft is ${draft.status.replace('_', ' ')} and cannot be approved`);
  await ctx.db.transaction(async (trx) => {
    // A newer draft proposed meanwhile supersedes this one: it must not come back as approved.
    if (!(await publishing.moveDraftStatus(trx, draft.id, ['proposed', 'changes_requested'], 'approved', ctx.clock.today())))
      throw conflict('draft_not_open', 'this draft changed meanwhile and cannot be approved; reload it');
    await publishing.insertConsent(trx, { statement, sig });
  });
  return { status: 'approved' };
}

/** The survivor's signed revocation: the story comes down at once. */
export async function revoke(
  ctx: AppContext,
  { survivor, found, draft }: OwnDraft,
  { statement, sig }: z.infer<typeof schemas.revoke>,
): Promise<{ status: DraftStatus }> {
  const { publishing } = ctx.repos;
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
  return { status: 'revoked' };
}

/** Erases the survivor and everything that hangs from them; published stories become 410 tombstones. */
export async function deleteEverything(ctx: AppContext, survivorId: string): Promise<void> {
  const { survivors, cases, publishing } = ctx.repos;
  const survivor = await survivors.byId(survivorId);
  if (!survivor) throw unauthorized('this survivor account no longer exists');
  const caseIds = (await cases.listForSurvivor(survivor.id)).map((c) => c.caseId);
  await ctx.erase(async (trx) => {
    // First wait for any publication in flight, so that its story is taken down here too
    // rather than left live with nothing left to withdraw it.
    await publishing.lockDraftsOfCases(trx, caseIds);
    await publishing.tombstoneCases(trx, caseIds, ctx.clock.today());
    await survivors.erase(trx, survivor.id);
  });
}

// ---- The staff's side ----

/** A case staff may work on for publishing: one whose survivor lets advocates read it. */
export async function caseOpenToAdvocates(ctx: AppContext, caseId: string): Promise<CaseDetail> {
  const found = await ctx.repos.cases.detail(caseId);
  if (!found) throw notFound('no case with this id');
  if (!(await ctx.repos.publishing.advocatesMayRead(caseId))) throw notFound('no case with this id is open to advocates');
  return found;
}

export async function publishingCases(ctx: AppContext): Promise<{ cases: PublishingCaseSummary[] }> {
  const { publishing } = ctx.repos;
  const list = await publishing.casesOpenToAdvocates();
  const drafts = await publishing.draftsOf(list.map((c) => c.caseId));
  const body: PublishingCaseSummary[] = list.map((c) => ({
    ...c,
    drafts: drafts
      .filter((d) => d.caseId === c.caseId)
      .map((d) => ({ draftId: d.id, version: d.version, status: d.status, day: d.updatedDay })),
  }));
  return { cases: body };
}

/** The testimony and drafts of a case open to advocates, with the grants addressed to this reader. */
export async function publishingCase(ctx: AppContext, reader: StaffRecord, caseId: string): Promise<PublishingCase> {
  const { envelopes } = ctx.repos;
  const found = await caseOpenToAdvocates(ctx, caseId);
  const kid = keyId(fromBase64url(reader.boxPk));
  const { thread } = await envelopes.ofCase(found.caseId, { notes: false });
  const grants = await envelopes.grantsFor([thread[0].id], kid);
  const drafts = await draftItems(ctx, [found.caseId], kid);
  return {
    caseId: found.caseId,
    handle: found.handle,
    createdDay: found.createdDay,
    survivorSignPk: found.survivorSignPk,
    survivorBoxPk: found.survivorBoxPk,
    testimony: item(thread[0], grants.get(thread[0].id)),
    drafts: drafts.map(({ caseId: _caseId, ...d }) => d),
  };
}

/** A moderator or advocate proposes a redacted draft (after caseOpenToAdvocates). */
export async function proposeDraft(
  ctx: AppContext,
  author: StaffRecord,
  found: CaseDetail,
  { draftId, envelope: env, keysetVersion }: z.infer<typeof schemas.postDraft>,
): Promise<{ draftId: string; version: number; status: DraftStatus }> {
  const { envelopes, keysets, audit, publishing } = ctx.repos;
  checkContext(env, { kind: 'draft', caseId: found.caseId, threaded: false });
  if (env.signer !== author.signPk) throw badRequest('untrusted_signer', 'envelope.signer must be your own signing key');
  const verified = verifyEnvelope(env, [fromBase64url(author.signPk)], nodeBackend);
  checkRecipients(env, await currentKeysetFor(keysets, keysetVersion), found.survivorBoxPk, { survivor: 'required', advocates: 'allowed' });
  if (await publishing.draftExists(draftId)) throw conflict('draft_exists', 'draftId is already used');
  const day = ctx.clock.today();
  const version = await ctx.db.transaction(async (trx) => {
    await requireKeysetStill(keysets, trx, keysetVersion);
    const envelopeId = await envelopes.insert(trx, { envelope: env, verified, seq: null, fromStaff: true, day });
    const v = await publishing.insertDraft(trx, { id: draftId, caseId: found.caseId, envelopeId, authorId: author.id, day });
    await audit.record(trx, { actorId: author.id, action: 'case.draft_proposed', subject: found.caseId, detail: { version: v } });
    return v;
  });
  return { draftId, version, status: 'proposed' };
}

/**
 * An admin or advocate takes a published story down (legal advice): in one erasure its words
 * leave the database, its address answers 410 with the reason, and the draft is marked taken
 * down, so the survivor sees it and why. The survivor's consent stays as it was: this is the
 * organisation's decision, not theirs.
 */
export async function takeDown(
  ctx: AppContext,
  member: StaffRecord,
  alias: string,
  { reason }: z.infer<typeof schemas.takedown>,
): Promise<{ alias: string; status: DraftStatus }> {
  const { publishing, audit } = ctx.repos;
  const found = await publishing.publication(alias);
  if (!found) throw notFound('no published story at this address');
  if (found.revokedDay) throw conflict('story_gone', 'this story is no longer published (withdrawn or taken down already)');
  const text = reason.trim();
  const day = ctx.clock.today();
  await ctx.erase(async (trx) => {
    // A member removed since the guard read their record takes nothing down (a takedown is final).
    await requireNotRemoved(ctx, trx, member);
    if ((await publishing.takeDown(trx, alias, text, day)) !== 1)
      throw conflict('story_gone', 'this story is no longer published (withdrawn or taken down already)');
    if (found.draftId) await publishing.setDraftStatus(trx, found.draftId, 'taken_down', day);
    // The audit log keeps strings to AUDIT_LIMITS.stringLength; the full reason is on the tombstone.
    const shown = text.length <= AUDIT_LIMITS.stringLength ? text : `${text.slice(0, AUDIT_LIMITS.stringLength - 1)}…`;
    await audit.record(trx, { actorId: member.id, action: 'story.taken_down', subject: found.caseId, detail: { alias, reason: shown } });
  });
  return { alias, status: 'taken_down' };
}

/** Publishes the story an advocate decrypted, only if its hash is the one the survivor signed. */
export async function publish(
  ctx: AppContext,
  advocate: StaffRecord,
  draftId: string,
  story: z.infer<typeof schemas.publish>['story'],
): Promise<{ alias: string; url: string }> {
  const { cases, audit, publishing } = ctx.repos;
  const draft = await publishing.draft(draftId);
  if (!draft) throw notFound('no draft with this id');
  const consent = await publishing.consent(draftId);
  if (!consent) throw conflict('not_approved', 'the survivor has not approved this draft');
  // A stored revocation counts even if its day was cleared: a database write cannot undo it.
  if (consent.revoked) throw conflict('consent_revoked', 'the survivor revoked consent to this draft');
  if (draft.status === 'published') throw conflict('already_published', 'this draft is already published');
  if (draft.status !== 'approved') throw conflict('not_approved', `this draft is ${draft.status.replace('_', ' ')}, not approved`);
  // Check the stored consent again, as if it had just arrived: a row written to the database
  // by anyone but the survivor's browser must not publish anything.
  const found = await cases.detail(draft.caseId);
  if (!found) throw notFound('no draft with this id');
  if (
    consent.statement.caseId !== draft.caseId ||
    consent.statement.draftId !== draft.id ||
    consent.statement.textHash !== consent.textHash
  ) {
    throw conflict('consent_mismatch', 'the stored consent names another case or draft');
  }
  verifyStatement(consent.statement, consent.sig, found.survivorSignPk, nodeBackend);
  if ((await storyHash(story)) !== consent.textHash)
    throw badRequest('text_mismatch', 'the story differs from the exact words the survivor approved');

  let alias = newAlias();
  while (await publishing.aliasExists(alias)) alias = newAlias();
  const day = ctx.clock.today();
  await ctx.db.transaction(async (trx) => {
    // Checked again where it counts: a revocation (or an erasure) that came in since the checks
    // above moved the draft on, and wins. On PostgreSQL this update holds the draft's row, so a
    // revocation arriving now waits for this transaction and then takes the story down.
    if (!(await publishing.moveDraftStatus(trx, draftId, ['approved'], 'published', day)))
      throw conflict(
        'consent_revoked',
        'the draft is no longer approved (consent was revoked, or the case erased, meanwhile); nothing was published',
      );
    await publishing.publish(trx, { alias, draftId, caseId: draft.caseId, story, month: day.slice(0, 7), day });
    await audit.record(trx, { actorId: advocate.id, action: 'story.published', subject: draft.caseId });
  });
  return { alias, url: `${ctx.config.publicUrl}/stories/${alias}` };
}
