/** Cases: workflow status, assignee, unread markers and UTC days. Their envelopes live in envelope-repo. */
import type { CaseStatus, CaseSummary } from '../../protocol/api';
import type { Db } from './database';

export const INBOX_PAGE_SIZE = 50;

export interface InboxFilter {
  status?: CaseStatus;
  /** a staff id, or 'none' for unassigned cases */
  assignee?: string;
  from?: string;
  to?: string;
  sort: 'newest' | 'oldest';
  page: number;
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

export function caseRepo(db: Db) {
  const withNames = () =>
    db('cases')
      .join('survivors', 'survivors.id', 'cases.survivor_id')
      .leftJoin('staff', 'staff.id', 'cases.assignee_id')
      .select('cases.id', 'survivors.handle', 'cases.status', 'cases.created_day', 'cases.updated_day', 'cases.assignee_id', 'staff.username as assignee_username', 'cases.awaiting_staff');

  return {
    /**
     * Opens a new case; false if the id is already taken (nothing is written then). One
     * statement: the id's uniqueness is checked by the insert itself, inside the caller's
     * transaction, rather than by a read before it.
     */
    async insert(trx: Db, c: { id: string; survivorId: string; advocatesMayRead: boolean; day: string }): Promise<boolean> {
      const inserted = await trx('cases')
        .insert({ id: c.id, survivor_id: c.survivorId, status: 'new', created_day: c.day, updated_day: c.day, awaiting_staff: true, advocates_may_read: c.advocatesMayRead })
        .onConflict('id')
        .ignore()
        .returning('id');
      return inserted.length === 1;
    },
    async listForStaff(filter: InboxFilter): Promise<{ cases: CaseSummary[]; total: number }> {
      const base = db('cases');
      if (filter.status) base.where('cases.status', filter.status);
      if (filter.assignee === 'none') base.whereNull('cases.assignee_id');
      else if (filter.assignee) base.where('cases.assignee_id', filter.assignee);
      if (filter.from) base.where('cases.created_day', '>=', filter.from);
      if (filter.to) base.where('cases.created_day', '<=', filter.to);
      const [{ n }] = await base.clone().count<{ n: number | string }[]>({ n: '*' });
      const ids = base
        .clone()
        .select('cases.id')
        .orderBy([{ column: 'cases.created_day', order: filter.sort === 'oldest' ? 'asc' : 'desc' }, { column: 'cases.id', order: 'asc' }])
        .limit(INBOX_PAGE_SIZE)
        .offset((filter.page - 1) * INBOX_PAGE_SIZE);
      const rows: CaseRow[] = await withNames()
        .whereIn('cases.id', ids)
        .orderBy([{ column: 'cases.created_day', order: filter.sort === 'oldest' ? 'asc' : 'desc' }, { column: 'cases.id', order: 'asc' }]);
      return { total: Number(n), cases: rows.map(summary) };
    },
    async detail(caseId: string): Promise<(CaseSummary & { survivorId: string; survivorSignPk: string; survivorBoxPk: string; survivorSeenSeq: number }) | undefined> {
      const row = await withNames().where('cases.id', caseId).select('survivors.id as survivor_id', 'survivors.sign_pk', 'survivors.box_pk', 'cases.survivor_seen_seq').first();
      if (!row) return undefined;
      return { ...summary(row), survivorId: row.survivor_id, survivorSignPk: row.sign_pk, survivorBoxPk: row.box_pk, survivorSeenSeq: Number(row.survivor_seen_seq) };
    },
    async listForSurvivor(survivorId: string): Promise<{ caseId: string; status: CaseStatus; createdDay: string; seenSeq: number }[]> {
      const rows = await db('cases').where({ survivor_id: survivorId }).orderBy([{ column: 'created_day', order: 'desc' }, 'id']);
      return rows.map((c: { id: string; status: CaseStatus; created_day: string; survivor_seen_seq: number }) => ({ caseId: c.id, status: c.status, createdDay: c.created_day, seenSeq: Number(c.survivor_seen_seq) }));
    },
    async ownedBy(caseId: string, survivorId: string): Promise<boolean> {
      return Boolean(await db('cases').where({ id: caseId, survivor_id: survivorId }).first());
    },
    async update(trx: Db, caseId: string, change: { status?: CaseStatus; assigneeId?: string | null; awaitingStaff?: boolean; day: string }): Promise<void> {
      const patch: Record<string, unknown> = { updated_day: change.day };
      if (change.status !== undefined) patch.status = change.status;
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
