/**
 * How far each moderator has read each case (table case_reads, migration 009): the highest
 * thread seq they had on screen. A case is unread for a moderator while it waits for staff
 * (the survivor wrote last) and its thread goes beyond what that moderator has read; so
 * opening a case clears it for the one who opened it, and a reply by anyone clears it for all.
 */
import type { Db } from './database';

/** The navigation counts unread cases up to this many, then says "more" (a full count grows with the table). */
export const UNREAD_COUNT_LIMIT = 99;

export function caseReadRepo(db: Db) {
  /** The newest thread seq of the case (testimony 0, then messages); the (case_id, seq) unique index answers it. */
  const headSeq = db.raw('(SELECT MAX(e.seq) FROM envelopes e WHERE e.case_id = cases.id)');

  return {
    /** Records, inside the caller's transaction, that the moderator has read the case up to seq; never lowers an earlier mark. */
    async markRead(trx: Db, staffId: string, caseId: string, seq: number): Promise<void> {
      await trx('case_reads').insert({ staff_id: staffId, case_id: caseId, seq }).onConflict(['staff_id', 'case_id']).ignore();
      await trx('case_reads').where({ staff_id: staffId, case_id: caseId }).where('seq', '<', seq).update({ seq });
    },
    /** Of these cases, the ids that are unread for the moderator. */
    async unreadAmong(staffId: string, caseIds: string[]): Promise<Set<string>> {
      if (caseIds.length === 0) return new Set();
      const rows: { id: string }[] = await db('cases')
        .leftJoin('case_reads as r', (j) => j.on('r.case_id', 'cases.id').andOn('r.staff_id', db.raw('?', [staffId])))
        .whereIn('cases.id', caseIds)
        .where('cases.awaiting_staff', true)
        .whereRaw(`COALESCE(r.seq, -1) < COALESCE(${headSeq.toQuery()}, 0)`)
        .select('cases.id');
      return new Set(rows.map((r) => r.id));
    },
    /** How many cases are unread for the moderator, counted up to UNREAD_COUNT_LIMIT + 1. */
    async countUnread(staffId: string): Promise<number> {
      const unread = db('cases')
        .leftJoin('case_reads as r', (j) => j.on('r.case_id', 'cases.id').andOn('r.staff_id', db.raw('?', [staffId])))
        .where('cases.awaiting_staff', true)
        .whereRaw(`COALESCE(r.seq, -1) < COALESCE(${headSeq.toQuery()}, 0)`)
        .select('cases.id')
        .limit(UNREAD_COUNT_LIMIT + 1);
      const [{ n }] = await db.from(unread.as('unread')).count<{ n: number | string }[]>({ n: '*' });
      return Number(n);
    },
  };
}
export type CaseReadRepo = ReturnType<typeof caseReadRepo>;
