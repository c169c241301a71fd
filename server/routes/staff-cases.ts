/**
 * The moderators' side of cases: the inbox, one case with its thread and notes, replies,
 * internal notes, status and assignee, and re-wrap grants for newer colleagues. Every
 * envelope is checked (signature by the staff member, recipients from the keyset, thread
 * position) before it is stored.
 */
import { Router, type Request } from 'express';
import { envelopeHash, fromBase64url, keyId, verifyEnvelope, verifyGrant, type Envelope, type KeyGrant } from '../../protocol';
import { schemas, type CaseList, type PendingGrants, type StaffCaseDetail } from '../../protocol/api';
import type { AppContext } from '../app';
import { INBOX_PAGE_SIZE } from '../db/case-repo';
import { nodeBackend } from '../crypto/node-backend';
import { badRequest, conflict, notFound } from '../http/errors';
import { parseWith } from '../http/validate';
import { item } from '../services/presenters';
import { checkContext, checkRecipients, currentKeysetFor } from '../services/envelope-rules';

export const GRANT_PAGE_SIZE = 100;

export function staffCaseRoutes(ctx: AppContext): Router {
  const router = Router();
  const { cases, envelopes, keysets, staff, audit } = ctx.repos;
  const { requireStaff } = ctx.auth.staff;
  const moderator = requireStaff('moderator');

  async function caseOr404(req: Request) {
    const { caseId } = parseWith(schemas.caseIdParam, { caseId: req.params.caseId }, 'path');
    const found = await cases.detail(caseId);
    if (!found) throw notFound('no case with this id');
    return found;
  }

  /** The staff member's own signature, and nothing else, may sign what they post. */
  function checkSignedByMe(req: Request, env: Envelope): void {
    if (env.signer !== req.staff!.signPk) throw badRequest('untrusted_signer', 'envelope.signer must be your own signing key');
    verifyEnvelope(env, [fromBase64url(req.staff!.signPk)], nodeBackend);
  }

  async function activeModerator(staffId: string) {
    const target = await staff.byId(staffId);
    if (!target || target.status !== 'active' || !target.roles.includes('moderator')) throw badRequest('not_a_moderator', 'staffId does not name an active moderator');
    return target;
  }

  router.get('/staff/cases', moderator, async (req, res) => {
    const query = parseWith(schemas.caseListQuery, req.query, 'query');
    const assignee = query.assignee === 'me' ? req.staff!.id : query.assignee;
    const { cases: list, total } = await cases.listForStaff({ ...query, assignee });
    const body: CaseList = { cases: list, page: query.page, pageSize: INBOX_PAGE_SIZE, total };
    res.json(body);
  });

  router.get('/staff/cases/:caseId', moderator, async (req, res) => {
    const found = await caseOr404(req);
    const { thread, notes } = await envelopes.ofCase(found.caseId, { notes: true });
    const grants = await envelopes.grantsFor([...thread, ...notes].map((r) => r.id), keyId(fromBase64url(req.staff!.boxPk)));
    const { survivorId: _survivorId, survivorSeenSeq: _seen, ...summary } = found;
    const body: StaffCaseDetail = { ...summary, thread: thread.map((r) => item(r, grants.get(r.id))), notes: notes.map((r) => item(r, grants.get(r.id))) };
    res.json(body);
  });

  router.post('/staff/cases/:caseId/messages', moderator, async (req, res) => {
    const found = await caseOr404(req);
    const { envelope: env, keysetVersion } = parseWith(schemas.postStaffEnvelope, req.body);
    checkContext(env, { kind: 'message', caseId: found.caseId, threaded: true });
    checkSignedByMe(req, env);
    checkRecipients(env, await currentKeysetFor(keysets, keysetVersion), found.survivorBoxPk, { survivor: 'required' });
    const head = await envelopes.head(found.caseId);
    if (!head || env.prev !== head.hash) throw conflict('thread_moved', 'a new message arrived in this case; reload it and write again');
    const day = ctx.clock.today();
    const id = await ctx.db.transaction(async (trx) => {
      const inserted = await envelopes.insert(trx, { envelope: env, seq: head.seq + 1, hash: envelopeHash(env, nodeBackend), fromStaff: true, day });
      await cases.update(trx, found.caseId, { awaitingStaff: false, status: found.status === 'closed' ? undefined : 'waiting_for_survivor', day });
      await audit.record(trx, { actorId: req.staff!.id, action: 'case.replied', subject: found.caseId });
      return inserted;
    });
    res.status(201).json({ id, seq: head.seq + 1, day });
  });

  router.post('/staff/cases/:caseId/notes', moderator, async (req, res) => {
    const found = await caseOr404(req);
    const { envelope: env, keysetVersion } = parseWith(schemas.postStaffEnvelope, req.body);
    checkContext(env, { kind: 'note', caseId: found.caseId, threaded: false });
    checkSignedByMe(req, env);
    checkRecipients(env, await currentKeysetFor(keysets, keysetVersion), found.survivorBoxPk, { survivor: 'forbidden' });
    const day = ctx.clock.today();
    const id = await ctx.db.transaction(async (trx) => {
      const inserted = await envelopes.insert(trx, { envelope: env, seq: null, hash: envelopeHash(env, nodeBackend), fromStaff: true, day });
      await audit.record(trx, { actorId: req.staff!.id, action: 'case.note_added', subject: found.caseId });
      return inserted;
    });
    res.status(201).json({ id, day });
  });

  router.post('/staff/cases/:caseId/status', moderator, async (req, res) => {
    const found = await caseOr404(req);
    const { status } = parseWith(schemas.setStatus, req.body);
    await ctx.db.transaction(async (trx) => {
      await cases.update(trx, found.caseId, { status, day: ctx.clock.today() });
      await audit.record(trx, { actorId: req.staff!.id, action: 'case.status_changed', subject: found.caseId, detail: { from: found.status, to: status } });
    });
    res.json({ status });
  });

  router.post('/staff/cases/:caseId/assignee', moderator, async (req, res) => {
    const found = await caseOr404(req);
    const { staffId } = parseWith(schemas.setAssignee, req.body);
    if (staffId !== null) await activeModerator(staffId);
    await ctx.db.transaction(async (trx) => {
      await cases.update(trx, found.caseId, { assigneeId: staffId, day: ctx.clock.today() });
      await audit.record(trx, { actorId: req.staff!.id, action: 'case.assigned', subject: found.caseId, detail: { to: staffId } });
    });
    res.json({ staffId });
  });

  /**
   * Who a grant may go to: an active moderator (every envelope), or an active advocate (only
   * what advocates may read: testimonies whose survivor opened them to advocates, and drafts).
   */
  async function grantTarget(staffId: string) {
    const target = await staff.byId(staffId);
    const reads = target?.status === 'active' ? (target.roles.includes('moderator') ? 'all' : target.roles.includes('advocate') ? 'advocate' : undefined) : undefined;
    if (!target || !reads) throw badRequest('not_a_reader', 'staffId does not name an active moderator or advocate');
    return { target, scope: reads as 'all' | 'advocate' };
  }

  /** Envelopes a newer colleague cannot open yet, with the grants that let me open them. */
  router.get('/staff/grants/pending', moderator, async (req, res) => {
    const { staffId, after } = parseWith(schemas.pendingGrantsQuery, req.query, 'query');
    const { target, scope } = await grantTarget(staffId);
    const { total, items } = await envelopes.unreadableBy(fromBase64url(target.boxPk), after, GRANT_PAGE_SIZE, scope);
    const mine = await envelopes.grantsFor(items.map((r) => r.id), keyId(fromBase64url(req.staff!.boxPk)));
    const body: PendingGrants = { total, items: items.map((r) => ({ id: r.id, caseId: r.caseId, envelope: r.envelope, grants: mine.get(r.id) ?? [] })) };
    res.json(body);
  });

  router.post('/staff/grants', moderator, async (req, res) => {
    const { staffId, grants } = parseWith(schemas.postGrants, req.body);
    const { target, scope } = await grantTarget(staffId);
    if (target.id === req.staff!.id) throw badRequest('invalid_request', 'staffId must name another member');
    const targetKid = keyId(fromBase64url(target.boxPk));
    const rows: { envelopeId: number; grant: KeyGrant }[] = [];
    for (const [i, { envelopeId, grant }] of grants.entries()) {
      const row = await envelopes.byId(envelopeId);
      if (!row) throw badRequest('invalid_request', `grants[${i}].envelopeId names no envelope`);
      if (scope === 'advocate' && !(await envelopes.advocatesMayRead(row))) throw badRequest('forbidden_recipient', `grants[${i}]: advocates may not read this envelope`);
      if (grant.kid !== targetKid) throw badRequest('invalid_request', `grants[${i}].grant.kid is not the key of staffId`);
      if (grant.granter !== req.staff!.signPk) throw badRequest('untrusted_signer', `grants[${i}].grant.granter must be your own signing key`);
      verifyGrant(grant as KeyGrant, row.envelope, [fromBase64url(req.staff!.signPk)], nodeBackend);
      rows.push({ envelopeId, grant: grant as KeyGrant });
    }
    await ctx.db.transaction(async (trx) => {
      for (const r of rows) await envelopes.insertGrant(trx, r.envelopeId, r.grant);
      await audit.record(trx, { actorId: req.staff!.id, action: 'case.keys_granted', subject: target.id, detail: { envelopes: rows.length } });
    });
    res.status(201).json({ granted: rows.length });
  });

  return router;
}
