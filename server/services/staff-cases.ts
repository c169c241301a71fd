/**
 * The moderators' side of cases: the inbox, one case with its thread and notes, replies,
 * internal notes, status and assignee, and re-wrap grants for newer colleagues. Every
 * envelope is checked (signature by the staff member, recipients from the keyset, thread
 * position) before it is stored.
 */
import { z } from 'zod';
import {
  fromBase64url,
  keyId,
  MAX_GRANT_BATCH,
  ProtocolError,
  verifyEnvelope,
  verifyGrant,
  verifyGrantBatch,
  type BatchKeyGrant,
  type Envelope,
  type EnvelopeKind,
  type KeyGrant,
  type VerifiedEnvelope,
} from '../../protocol';
import {
  Day,
  Id,
  schemas,
  type CaseList,
  type CaseStatus,
  type PendingGrants,
  type StaffCaseDetail,
  type UnreadCount,
} from '../../protocol/api';
import type { AppContext } from '../app';
import { INBOX_PAGE_SIZE, type CaseRepo, type InboxPosition } from '../db/case-repo';
import type { EnvelopeSummary } from '../db/envelope-repo';
import type { Db } from '../db/database';
import { UNREAD_COUNT_LIMIT } from '../db/case-read-repo';
import type { StaffRecord } from '../db/staff-repo';
import { nodeBackend } from '../crypto/node-backend';
import { badRequest, conflict, forbidden, notFound } from '../http/errors';
import { checkContext, checkRecipients, currentKeysetFor, requireKeysetStill } from './envelope-rules';
import { item } from './presenters';
import { requireNotRemoved } from './staff-accounts';

/** Envelopes per page of GET /api/staff/grants/pending: small items (no ciphertext), one batch each (issue 17). */
export const GRANT_PAGE_SIZE = MAX_GRANT_BATCH;

/** A case as the staff services act on it (with its survivor's keys). */
export type StaffCase = NonNullable<Awaited<ReturnType<CaseRepo['detail']>>>;

type StaffEnvelopePost = z.infer<typeof schemas.postStaffEnvelope>;
type StaffReplyPost = z.infer<typeof schemas.postStaffReply>;

/**
 * The case, or 404. Routes that take a body call it before parsing the body, so an unknown
 * case is a 404 whatever the body says.
 */
export async function openCase(ctx: AppContext, caseId: string): Promise<StaffCase> {
  const found = await ctx.repos.cases.detail(caseId);
  if (!found) throw notFound('no case with this id');
  return found;
}

/** The staff member's own signature, and nothing else, may sign what they post. */
function checkSignedByMe(me: StaffRecord, env: Envelope): VerifiedEnvelope {
  if (env.signer !== me.signPk) throw badRequest('untrusted_signer', 'envelope.signer must be your own signing key');
  return verifyEnvelope(env, [fromBase64url(me.signPk)], nodeBackend);
}

async function activeModerator(ctx: AppContext, staffId: string): Promise<StaffRecord> {
  const target = await ctx.repos.staff.byId(staffId);
  if (!target || target.status !== 'active' || !target.roles.includes('moderator'))
    throw badRequest('not_a_moderator', 'staffId does not name an active moderator');
  return target;
}

type InboxQuery = z.infer<typeof schemas.caseListQuery>;

/** What a cursor holds besides its position: the order and filters it continues. */
const inboxListing = (q: InboxQuery) => [q.sort, q.status ?? '', q.assignee ?? '', q.from ?? '', q.to ?? ''].join('|');

const CursorSchema = z.strictObject({ l: z.string().max(200), d: Day, i: Id });

/**
 * The inbox cursor: opaque to clients (base64url of JSON), it names the last case of a page
 * and the order and filters that page was listed by, so it cannot silently continue another
 * listing. Forging one reveals nothing: it only says where a moderator's own listing starts.
 */
export function inboxCursor(query: InboxQuery, after: InboxPosition): string {
  return Buffer.from(JSON.stringify({ l: inboxListing(query), d: after.day, i: after.id })).toString('base64url');
}

function readInboxCursor(query: InboxQuery): InboxPosition | undefined {
  if (query.cursor === undefined) return undefined;
  const bad = () =>
    badRequest('bad_cursor', 'cursor is not a nextCursor this server gave: send it back unchanged, or leave it out for the first page');
  if (!/^[A-Za-z0-9_-]+$/.test(query.cursor)) throw bad();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const parsed = CursorSchema.safeParse(decoded);
  if (!parsed.success) throw bad();
  if (parsed.data.l !== inboxListing(query))
    throw badRequest(
      'bad_cursor',
      'cursor continues another listing: send the same status, assignee, from, to and sort as for the page it came from, or leave cursor out to start again',
    );
  return { day: parsed.data.d, id: parsed.data.i };
}

export async function inbox(ctx: AppContext, me: StaffRecord, query: InboxQuery): Promise<CaseList> {
  const after = readInboxCursor(query);
  const assignee = query.assignee === 'me' ? me.id : query.assignee;
  const { status, from, to, sort } = query;
  const found = await ctx.repos.cases.listForStaff({ status, assignee, from, to, sort, after });
  const unread = await ctx.repos.caseReads.unreadAmong(
    me.id,
    found.cases.map((c) => c.caseId),
  );
  return {
    cases: found.cases.map((c) => ({ ...c, unread: unread.has(c.caseId) })),
    pageSize: INBOX_PAGE_SIZE,
    total: found.total,
    totalCapped: found.totalCapped,
    nextCursor: found.next ? inboxCursor(query, found.next) : null,
  };
}

/** The case with its thread and notes, each with the grants that let this member open it. */
export async function caseForStaff(ctx: AppContext, me: StaffRecord, caseId: string): Promise<StaffCaseDetail> {
  const { envelopes } = ctx.repos;
  const found = await openCase(ctx, caseId);
  const { thread, notes } = await envelopes.ofCase(found.caseId, { notes: true });
  const grants = await envelopes.grantsFor(
    [...thread, ...notes].map((r) => r.id),
    keyId(fromBase64url(me.boxPk)),
  );
  const { survivorId: _survivorId, survivorSeenSeq: _seen, ...summary } = found;
  return { ...summary, thread: thread.map((r) => item(r, grants.get(r.id))), notes: notes.map((r) => item(r, grants.get(r.id))) };
}

/**
 * A message to the survivor, at the head of the thread. The case takes the status the
 * moderator sent with it, or keeps its own: a reply never picks one on their behalf.
 */
export async function reply(
  ctx: AppContext,
  me: StaffRecord,
  found: StaffCase,
  { envelope: env, keysetVersion, status }: StaffReplyPost,
): Promise<{ id: number; seq: number; day: string }> {
  const { cases, envelopes, keysets, audit } = ctx.repos;
  checkContext(env, { kind: 'message', caseId: found.caseId, threaded: true });
  const verified = checkSignedByMe(me, env);
  checkRecipients(env, await currentKeysetFor(keysets, keysetVersion), found.survivorBoxPk, { survivor: 'required' });
  const head = await envelopes.head(found.caseId);
  if (!head || env.prev !== head.hash) throw conflict('thread_moved', 'a new message arrived in this case; reload it and write again');
  const day = ctx.clock.today();
  const id = await ctx.db.transaction(async (trx) => {
    await requireKeysetStill(keysets, trx, keysetVersion);
    const inserted = await envelopes.insert(trx, { envelope: env, verified, seq: head.seq + 1, fromStaff: true, day });
    // After the envelope, as a survivor's message locks them: the thread position, then the case.
    const change = status === undefined ? undefined : { from: await statusBeforeChange(cases, trx, found), to: status };
    await cases.update(trx, found.caseId, { awaitingStaff: false, status, day });
    await audit.record(trx, { actorId: me.id, action: 'case.replied', subject: found.caseId });
    if (change && change.to !== change.from)
      await audit.record(trx, { actorId: me.id, action: 'case.status_changed', subject: found.caseId, detail: change });
    return inserted;
  });
  return { id, seq: head.seq + 1, day };
}

/** Marks the case read up to seq for this moderator (opening it does), so it leaves their unread count. */
export async function markRead(ctx: AppContext, me: StaffRecord, found: StaffCase, seq: number): Promise<{ seq: number }> {
  const head = await ctx.repos.envelopes.head(found.caseId);
  if (!head || seq > head.seq) throw badRequest('invalid_request', 'seq is beyond the last message of this case');
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    await ctx.repos.caseReads.markRead(trx, me.id, found.caseId, seq);
  });
  return { seq };
}

/** How many cases wait unread for this moderator (the navigation's count), capped. */
export async function unreadCount(ctx: AppContext, me: StaffRecord): Promise<UnreadCount> {
  const n = await ctx.repos.caseReads.countUnread(me.id);
  return { unread: Math.min(n, UNREAD_COUNT_LIMIT), limit: UNREAD_COUNT_LIMIT, capped: n > UNREAD_COUNT_LIMIT };
}

/** An internal note: staff only, never readable by the survivor. */
export async function addNote(
  ctx: AppContext,
  me: StaffRecord,
  found: StaffCase,
  { envelope: env, keysetVersion }: StaffEnvelopePost,
): Promise<{ id: number; day: string }> {
  const { envelopes, keysets, audit } = ctx.repos;
  checkContext(env, { kind: 'note', caseId: found.caseId, threaded: false });
  const verified = checkSignedByMe(me, env);
  checkRecipients(env, await currentKeysetFor(keysets, keysetVersion), found.survivorBoxPk, { survivor: 'forbidden' });
  const day = ctx.clock.today();
  const id = await ctx.db.transaction(async (trx) => {
    await requireKeysetStill(keysets, trx, keysetVersion);
    const inserted = await envelopes.insert(trx, { envelope: env, verified, seq: null, fromStaff: true, day });
    await audit.record(trx, { actorId: me.id, action: 'case.note_added', subject: found.caseId });
    return inserted;
  });
  return { id, day };
}

/**
 * The status a change inside `trx` changes from: read there, with the case's row locked, not
 * the one the route read before, so that concurrent changes audit an unbroken chain of from
 * and to. 404 if the case was erased meanwhile.
 */
async function statusBeforeChange(cases: CaseRepo, trx: Db, found: StaffCase): Promise<CaseStatus> {
  const from = await cases.lockStatus(trx, found.caseId);
  if (from === undefined) throw notFound('no case with this id');
  return from;
}

export async function setStatus(ctx: AppContext, me: StaffRecord, found: StaffCase, status: CaseStatus): Promise<{ status: CaseStatus }> {
  const { cases, audit } = ctx.repos;
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    const from = await statusBeforeChange(cases, trx, found);
    await cases.update(trx, found.caseId, { status, day: ctx.clock.today() });
    await audit.record(trx, {
      actorId: me.id,
      action: 'case.status_changed',
      subject: found.caseId,
      detail: { from, to: status },
    });
  });
  return { status };
}

/** Assigns the case to an active moderator, or to nobody (null). */
export async function setAssignee(
  ctx: AppContext,
  me: StaffRecord,
  found: StaffCase,
  staffId: string | null,
): Promise<{ staffId: string | null }> {
  const { cases, audit } = ctx.repos;
  const target = staffId === null ? null : await activeModerator(ctx, staffId);
  await ctx.db.transaction(async (trx) => {
    // A removal unassigns the member's cases: one committed since the check above must not be undone.
    if (target) await requireStillActive(ctx, trx, target, 'nothing was assigned');
    await cases.update(trx, found.caseId, { assigneeId: staffId, day: ctx.clock.today() });
    await audit.record(trx, { actorId: me.id, action: 'case.assigned', subject: found.caseId, detail: { to: staffId } });
  });
  return { staffId };
}

/**
 * Who a grant may go to: an active moderator (every envelope), or an active advocate (only
 * what advocates may read: testimonies whose survivor opened them to advocates, and drafts).
 */
async function grantTarget(ctx: AppContext, staffId: string): Promise<{ target: StaffRecord; scope: 'all' | 'advocate' }> {
  const target = await ctx.repos.staff.byId(staffId);
  const scope =
    target?.status === 'active'
      ? target.roles.includes('moderator')
        ? 'all'
        : target.roles.includes('advocate')
          ? 'advocate'
          : undefined
      : undefined;
  if (!target || !scope) throw badRequest('not_a_reader', 'staffId does not name an active moderator or advocate');
  return { target, scope };
}

/**
 * First thing inside the grants' transaction: the colleague is still an active member. A
 * removal that committed since grantTarget has already erased their keys and grants, and
 * these would outlive it; on PostgreSQL a removal in flight is waited for, and the next one
 * waits for these grants, so that its erasure sees them (keyset-repo.ts `holdOffPublications`).
 */
async function requireStillActive(ctx: AppContext, trx: Db, target: StaffRecord, nothingDone = 'nothing was granted'): Promise<void> {
  await ctx.repos.keysets.holdOffPublications(trx);
  if ((await ctx.repos.staff.statusIn(trx, target.id)) !== 'active')
    throw conflict('reader_removed', `${target.username} was removed from the team meanwhile; ${nothingDone}`);
}

/**
 * Envelopes a newer colleague cannot open yet, with what lets me open each: my own key entry,
 * or grants to me, and the hash stored at submission; no ciphertext (issue 17: a granter
 * re-wraps keys and need not download what it does not read).
 */
export async function pendingGrants(
  ctx: AppContext,
  me: StaffRecord,
  { staffId, after }: z.infer<typeof schemas.pendingGrantsQuery>,
): Promise<PendingGrants> {
  const { envelopes } = ctx.repos;
  const { target, scope } = await grantTarget(ctx, staffId);
  // The total on the first page only: the client keeps it while it pages on.
  const { total, items } = await envelopes.unreadableHashes(fromBase64url(target.boxPk), after, GRANT_PAGE_SIZE, scope, after === 0);
  const ids = items.map((r) => r.id);
  const myKid = keyId(fromBase64url(me.boxPk));
  const [keys, mine] = await Promise.all([envelopes.keysFor(ids, myKid), envelopes.grantsFor(ids, myKid)]);
  return {
    total,
    items: items.map((r) => ({
      id: r.id,
      caseId: r.caseId,
      kind: r.kind as EnvelopeKind,
      hash: r.hash,
      key: keys.get(r.id),
      grants: mine.get(r.id) ?? [],
    })),
  };
}

/**
 * The granter holds a key to each envelope (a key entry or a grant of their own). The server
 * cannot tell whether a wrapped key is genuine, and the first grant stored for a colleague is
 * the one they get: a grant that does not open would block every genuine one after it. So
 * only a member who can open an envelope may grant it. Checked after the signature, so a
 * request signed by someone else is refused as that first.
 */
async function requireGranterHolds(ctx: AppContext, me: StaffRecord, envelopeIds: number[]): Promise<void> {
  const { envelopes } = ctx.repos;
  const myKid = keyId(fromBase64url(me.boxPk));
  const myKeys = await envelopes.keysFor(envelopeIds, myKid);
  const myGrants = await envelopes.grantsFor(envelopeIds, myKid);
  for (const [i, id] of envelopeIds.entries())
    if (!myKeys.has(id) && !myGrants.has(id)) throw forbidden(`grants[${i}]: you hold no key to this envelope, so you cannot grant it`);
}

/**
 * Inside the grants' transaction, for an advocate: each testimony's survivor still lets
 * advocates read it. The scope was checked before (grantableEnvelopes), but a survivor who
 * withdrew between that check and the insert would otherwise leave the advocate a key, and a
 * grant her page could never replace when she opens the case again.
 */
async function requireStillOpenToAdvocates(ctx: AppContext, trx: Db, envelopes: { kind: string; caseId: string }[]): Promise<void> {
  const caseIds = [...new Set(envelopes.filter((e) => e.kind === 'testimony').map((e) => e.caseId))];
  const open = await ctx.repos.cases.lockOpenToAdvocates(trx, caseIds);
  if (caseIds.some((id) => !open.has(id)))
    throw conflict(
      'sharing_withdrawn',
      'a survivor no longer lets advocates read one of these testimonies, or erased it; reload the list and share again',
    );
}

/**
 * The envelopes a batch names, checked for this colleague: each exists, may be read in the
 * colleague's scope, appears once, and has no grant to the colleague yet.
 */
async function grantableEnvelopes(
  ctx: AppContext,
  envelopeIds: number[],
  targetKid: string,
  scope: 'all' | 'advocate',
): Promise<Map<number, EnvelopeSummary>> {
  const { envelopes } = ctx.repos;
  const found = await envelopes.summaries(envelopeIds);
  const granted = await envelopes.grantsFor(envelopeIds, targetKid);
  const seen = new Set<number>();
  const advocatesMay = new Map<string, boolean>();
  for (const [i, id] of envelopeIds.entries()) {
    const row = found.get(id);
    if (!row) throw badRequest('invalid_request', `grants[${i}].envelopeId names no envelope`);
    if (seen.has(id)) throw badRequest('invalid_request', `grants[${i}].envelopeId is named twice in the batch`);
    seen.add(id);
    if (granted.has(id)) throw conflict('already_granted', `grants[${i}]: the colleague can already open this envelope through a grant`);
    if (scope === 'advocate') {
      const key = `${row.kind}/${row.caseId}`;
      if (!advocatesMay.has(key)) advocatesMay.set(key, await envelopes.advocatesMayRead(row));
      if (!advocatesMay.get(key)) throw badRequest('forbidden_recipient', `grants[${i}]: advocates may not read this envelope`);
    }
  }
  return found;
}

/**
 * A batch of v2 grants for a colleague, signed once by me: the leaves are rebuilt with each
 * envelope's stored hash and the colleague's key id, so one signature check covers them all
 * and a grant naming another envelope fails it. All are stored, or none.
 */
export async function grantKeyBatch(
  ctx: AppContext,
  me: StaffRecord,
  { staffId, sig, grants }: z.infer<typeof schemas.postGrantBatch>,
): Promise<{ granted: number }> {
  const { envelopes, audit } = ctx.repos;
  const { target, scope } = await grantTarget(ctx, staffId);
  if (target.id === me.id) throw badRequest('invalid_request', 'staffId must name another member');
  const targetKid = keyId(fromBase64url(target.boxPk));
  const found = await grantableEnvelopes(
    ctx,
    grants.map((g) => g.envelopeId),
    targetKid,
    scope,
  );
  const leaves = grants.map((g) => ({ envelopeHash: found.get(g.envelopeId)!.hash, kid: targetKid, epk: g.epk, wrapped: g.wrapped }));
  let stored: BatchKeyGrant[];
  try {
    stored = verifyGrantBatch(leaves, me.signPk, sig, nodeBackend);
  } catch (e) {
    if (e instanceof ProtocolError)
      throw badRequest(
        e.code,
        'sig does not verify over these grants, for these envelopes and this colleague, in this order, with your signing key',
      );
    throw e;
  }
  await requireGranterHolds(
    ctx,
    me,
    grants.map((g) => g.envelopeId),
  );
  await ctx.db.transaction(async (trx) => {
    await requireStillActive(ctx, trx, target);
    if (scope === 'advocate') await requireStillOpenToAdvocates(ctx, trx, [...found.values()]);
    await envelopes.insertGrants(
      trx,
      stored.map((grant, i) => ({ envelopeId: grants[i].envelopeId, grant })),
    );
    await audit.record(trx, { actorId: me.id, action: 'case.keys_granted', subject: target.id, detail: { envelopes: stored.length } });
  });
  return { granted: stored.length };
}

/** Re-wrapped envelope keys for a colleague, each signed by me and checked before any is stored. */
export async function grantKeys(
  ctx: AppContext,
  me: StaffRecord,
  { staffId, grants }: z.infer<typeof schemas.postGrants>,
): Promise<{ granted: number }> {
  const { envelopes, audit } = ctx.repos;
  const { target, scope } = await grantTarget(ctx, staffId);
  if (target.id === me.id) throw badRequest('invalid_request', 'staffId must name another member');
  const targetKid = keyId(fromBase64url(target.boxPk));
  const rows: { envelopeId: number; grant: KeyGrant; envelope: { kind: string; caseId: string } }[] = [];
  for (const [i, { envelopeId, grant }] of grants.entries()) {
    const row = await envelopes.byId(envelopeId);
    if (!row) throw badRequest('invalid_request', `grants[${i}].envelopeId names no envelope`);
    if (scope === 'advocate' && !(await envelopes.advocatesMayRead(row)))
      throw badRequest('forbidden_recipient', `grants[${i}]: advocates may not read this envelope`);
    if (grant.kid !== targetKid) throw badRequest('invalid_request', `grants[${i}].grant.kid is not the key of staffId`);
    if (grant.granter !== me.signPk) throw badRequest('untrusted_signer', `grants[${i}].grant.granter must be your own signing key`);
    verifyGrant(grant, row.envelope, [fromBase64url(me.signPk)], nodeBackend);
    rows.push({ envelopeId, grant, envelope: row });
  }
  await requireGranterHolds(
    ctx,
    me,
    rows.map((r) => r.envelopeId),
  );
  await ctx.db.transaction(async (trx) => {
    await requireStillActive(ctx, trx, target);
    if (scope === 'advocate')
      await requireStillOpenToAdvocates(
        ctx,
        trx,
        rows.map((r) => r.envelope),
      );
    for (const r of rows) await envelopes.insertGrant(trx, r.envelopeId, r.grant);
    await audit.record(trx, { actorId: me.id, action: 'case.keys_granted', subject: target.id, detail: { envelopes: rows.length } });
  });
  return { granted: rows.length };
}
