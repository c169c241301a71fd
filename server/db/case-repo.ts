/** Cases: workflow status, assignee, unread markers and UTC days. Their envelopes live in envelope-repo. */
import type { CaseStatus, CaseSummary } from '../../protocol/api';
import type { Knex } from 'knex';
import { lockRows, type Db } from './database';

export const INBOX_PAGE_SIZE = 50;
/**
 * The inbox counts matching cases up to this many and then says "more": a full count grows
 * with the table (at a million cases it alone would exceed the page budget), a capped one
 * costs the same at any size. Counting 10,000 cost SQLite several milliseconds a page.
 */
export const INBOX_COUNT_LIMIT = 1_000;

/** Where a page of the inbox starts: after this case, in the page's order. */
export interface InboxPosition {
  day: string;
  id: string;
}

export interface InboxFilter {
  status?: CaseStatus;
  /** a staff id, or 'none' for unassigned cases */
  assignee?: string;
  from?: string;
  to?: string;
  sort: 'newest' | 'oldest';
  /** the last case of the previous page; none for the first page */
  after?: InboxPosition;
}

export interface InboxPage {
  cases: CaseSummary[];
  /** matching cases, counted up to INBOX_COUNT_LIMIT */
  total: number;
  /** true when more than INBOX_COUNT_LIMIT cases match (total is then INBOX_COUNT_LIMIT) */
  totalCapped: boolean;
  /** the last case of this page when another page follows, else null */
  next: InboxPosition | null;
}

interface CaseRow {
  id: string;
  handle: string;
  status: CaseStatus;
  created_day: string;
  updated_day: string;
  assignee_id: string | null;
  assignee_username: string | null;
  awaiting_staff: number | boolean;
}

function summary(r: CaseRow): CaseSummary {
  return {
    caseId: r.id,
    handle: r.handle,
    status: r.status,
    createdDay: r.created_day,
    updatedDay: r.updated_day,
    assignee: r.assignee_id ? { id: r.assignee_id, username: r.assignee_username ?? '' } : null,
    awaitingStaff: Boolean(r.awaiting_staff),
  };
}

export interface NewCase {
  id: string;
  survivorId: string;
  advocatesMayRead: boolean;
  day: string;
}

/** Inserts the cases whose id is new; answers those ids. */
async function insertCases(trx: Db, list: NewCase[]): Promise<Set<string>> {
  if (list.length === 0) return new Set();
  const inserted: { id: string }[] = await trx('cases')
    .insert(
      list.map((c) => ({
        id: c.id,
        survivor_id: c.survivorId,
        status: 'new',
        created_day: c.day,
        updated_day: c.day,
        awaiting_staff: true,
        advocates_may_read: c.advocatesMayRead,
      })),
    )
    .onConflict('id')
    .ignore()
    .returning('id');
  return new Set(inserted.map((r) => r.id));
}

export function caseRepo(db: Db) {
  const withNames = () =>
    db('cases')
      .join('survivors', 'survivors.id', 'cases.survivor_id')
      .leftJoin('staff', 'staff.id', 'cases.assignee_id')
      .select(
        'cases.id',
        'survivors.handle',
        'cases.status',
        'cases.created_day',
        'cases.updated_day',
        'cases.assignee_id',
        'staff.username as assignee_username',
        'cases.awaiting_staff',
      );

  return {
    /**
     * Opens a new case; false if the id is already taken (nothing is written then). One
     * statement: the id's uniqueness is checked by the insert itself, inside the caller's
     * transaction, rather than by a read before it.
     */
    async insert(trx: Db, c: NewCase): Promise<boolean> {
      return (await insertCases(trx, [c])).has(c.id);
    },
    /** The batch form of insert: the ids that were new, and are now inserted (ids must differ). */
    insertMany: insertCases,
    /** Removes cases inserted earlier in the same transaction for requests then refused. */
    /**
     * Of these cases, those whose survivor still lets advocates read the testimony, read with
     * the cases' rows locked (PostgreSQL) inside `trx`: a survivor who withdraws meanwhile
     * either waits for `trx`, and then erases what it wrote, or is seen to have withdrawn.
     */
    async lockOpenToAdvocates(trx: Db, ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      await lockRows(trx, trx('cases').whereIn('id', ids).select('id'));
      const rows: { id: string }[] = await trx('cases').whereIn('id', ids).where('advocates_may_read', true).select('id');
      return new Set(rows.map((r) => r.id));
    },
    async withdrawNew(trx: Db, ids: string[]): Promise<void> {
      if (ids.length > 0) await trx('cases').whereIn('id', ids).delete();
    },
    /**
     * A page of the inbox by keyset: ordered by (created_day, id), both descending for
     * 'newest' and ascending for 'oldest', starting after `filter.after`. The row-value
     * comparison walks the migrations' (…, created_day, id) indexes from the cursor, so a
     * page deep in the list costs what the first does; a case that arrives or changes
     * status meanwhile moves no other case across the cursor (none skipped or repeated).
     */
    async listForStaff(filter: InboxFilter): Promise<InboxPage> {
      const matching = (q: Knex.QueryBuilder) => {
        if (filter.status) q.where('cases.status', filter.status);
        if (filter.assignee === 'none') q.whereNull('cases.assignee_id');
        else if (filter.assignee) q.where('cases.assignee_id', filter.assignee);
        if (filter.from) q.where('cases.created_day', '>=', filter.from);
        if (filter.to) q.where('cases.created_day', '<=', filter.to);
        return q;
      };
      const direction = filter.sort === 'oldest' ? 'asc' : 'desc';
      const page = matching(withNames())
        .orderBy([
          { column: 'cases.created_day', order: direction },
          { column: 'cases.id', order: direction },
        ])
        .limit(INBOX_PAGE_SIZE + 1);
      if (filter.after)
        page.whereRaw(`(cases.created_day, cases.id) ${direction === 'asc' ? '>' : '<'} (?, ?)`, [filter.after.day, filter.after.id]);
      const capped = matching(db('cases').select('cases.id')).limit(INBOX_COUNT_LIMIT + 1);
      const [rows, [{ n }]] = await Promise.all([
        page as Promise<CaseRow[]>,
        db.from(capped.as('matching')).count<{ n: number | string }[]>({ n: '*' }),
      ]);
      const more = rows.length > INBOX_PAGE_SIZE;
      const shown = rows.slice(0, INBOX_PAGE_SIZE);
      const last = shown[shown.length - 1];
      return {
        cases: shown.map(summary),
        total: Math.min(Number(n), INBOX_COUNT_LIMIT),
        totalCapped: Number(n) > INBOX_COUNT_LIMIT,
        next: more && last ? { day: last.created_day, id: last.id } : null,
      };
    },
    async detail(
      caseId: string,
    ): Promise<(CaseSummary & { survivorId: string; survivorSignPk: string; survivorBoxPk: string; survivorSeenSeq: number }) | undefined> {
      const row = await withNames()
        .where('cases.id', caseId)
        .select('survivors.id as survivor_id', 'survivors.sign_pk', 'survivors.box_pk', 'cases.survivor_seen_seq')
        .first();
      if (!row) return undefined;
      return {
        ...summary(row),
        survivorId: row.survivor_id,
        survivorSignPk: row.sign_pk,
        survivorBoxPk: row.box_pk,
        survivorSeenSeq: Number(row.survivor_seen_seq),
      };
    },
    async listForSurvivor(survivorId: string): Promise<{ caseId: string; status: CaseStatus; createdDay: string; seenSeq: number }[]> {
      const rows = await db('cases')
        .where({ survivor_id: survivorId })
        .orderBy([{ column: 'created_day', order: 'desc' }, 'id']);
      return rows.map((c: { id: string; status: CaseStatus; created_day: string; survivor_seen_seq: number }) => ({
        caseId: c.id,
        status: c.status,
        createdDay: c.created_day,
        seenSeq: Number(c.survivor_seen_seq),
      }));
    },
    async ownedBy(caseId: string, survivorId: string): Promise<boolean> {
      return Boolean(await db('cases').where({ id: caseId, survivor_id: survivorId }).first());
    },
    /**
     * The case's status read inside `trx` with its row locked (PostgreSQL): what a status
     * change is audited as changing from. A concurrent change waits for `trx`, or `trx` for it
     * and then reads its status. Undefined if the case is gone.
     */
    async lockStatus(trx: Db, caseId: string): Promise<CaseStatus | undefined> {
      const [row] = (await lockRows(trx, trx('cases').where({ id: caseId }).select('status'))) as { status: CaseStatus }[];
      return row?.status;
    },
    async update(
      trx: Db,
      caseId: string,
      change: { status?: CaseStatus; reopen?: true; assigneeId?: string | null; awaitingStaff?: boolean; day: string },
    ): Promise<void> {
      const patch: Record<string, unknown> = { updated_day: change.day };
      if (change.status !== undefined) patch.status = change.status;
      // Retention counts from the closing day (server/services/retention.ts).
      if (change.status !== undefined) patch.closed_day = change.status === 'closed' ? change.day : null;
      // A survivor's answer reopens a case waiting for her or closed, judged by the row as this
      // statement finds it: a case closed after her request read it is reopened too.
      if (change.reopen) {
        const reopens = "status IN ('waiting_for_survivor', 'closed')";
        patch.status = trx.raw(`CASE WHEN ${reopens} THEN 'in_review' ELSE status END`);
        patch.closed_day = trx.raw(`CASE WHEN ${reopens} THEN NULL ELSE closed_day END`);
      }
      if (change.assigneeId !== undefined) patch.assignee_id = change.assigneeId;
      if (change.awaitingStaff !== undefined) patch.awaiting_staff = change.awaitingStaff;
      await trx('cases').where({ id: caseId }).update(patch);
    },
    async markSeenBySurvivor(caseId: string, seq: number): Promise<void> {
      await db('cases').where({ id: caseId }).where('survivor_seen_seq', '<', seq).update({ survivor_seen_seq: seq });
    },
    async unassign(trx: Db, staffIds: string[]): Promise<void> {
      if (staffIds.length) await trx('cases').whereIn('assignee_id', staffIds).update({ assignee_id: null });
    },
  };
}
export type CaseRepo = ReturnType<typeof caseRepo>;
