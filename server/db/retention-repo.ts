/**
 * Retention (issue 15): the periods the admin sets, and the cases and survivor accounts whose
 * period is over. A closed case is kept for `closedCaseDays` from the later of its closing day
 * and its survivor's last visit; a survivor account with no case for `idleAccountDays` from
 * its last visit (its creation counts as one). Only UTC days are compared.
 */
import { RETENTION_BOUNDS, type RetentionPeriods } from '../../protocol/api';
import type { Db } from './database';

const KEYS = { closedCaseDays: 'retention.closed_case_days', idleAccountDays: 'retention.idle_account_days' } as const;

export const RETENTION_DEFAULTS: RetentionPeriods = { closedCaseDays: 180, idleAccountDays: 90 };

export function retentionRepo(db: Db) {
  return {
    /** The periods in force: the admin's, else the defaults (a stored value out of bounds counts as unset). Pass the transaction when inside one. */
    async periods(q: Db = db): Promise<RetentionPeriods> {
      const rows: { key: string; value: string }[] = await q('settings').whereIn('key', Object.values(KEYS)).select('key', 'value');
      const stored = new Map(rows.map((r) => [r.key, Number(r.value)]));
      const pick = (field: keyof RetentionPeriods): number => {
        const v = stored.get(KEYS[field]);
        const { min, max } = RETENTION_BOUNDS[field];
        return v !== undefined && Number.isInteger(v) && v >= min && v <= max ? v : RETENTION_DEFAULTS[field];
      };
      return { closedCaseDays: pick('closedCaseDays'), idleAccountDays: pick('idleAccountDays') };
    },
    async setPeriods(trx: Db, value: RetentionPeriods): Promise<void> {
      for (const [field, key] of Object.entries(KEYS) as [keyof RetentionPeriods, string][]) {
        await trx('settings')
          .insert({ key, value: String(value[field]) })
          .onConflict('key')
          .merge();
      }
    },
    /**
     * Deletes the closed cases whose closing day and survivor's last visit are both before
     * `cutoffDay`: their envelopes, wrapped keys, grants, drafts, consents, statistics,
     * attachments and records go with them (ON DELETE CASCADE). A published story keeps its
     * words: its link to the case and draft is set to null (migrations/004_publishing.ts).
     * One statement that checks as it deletes, so a case reopened or a survivor who signed in
     * since the sweep began is not erased on the strength of an earlier read (PostgreSQL).
     */
    async eraseExpiredClosedCases(trx: Db, cutoffDay: string): Promise<number> {
      return Number(
        await trx('cases')
          .where('status', 'closed')
          .where('closed_day', '<', cutoffDay)
          .whereIn('survivor_id', trx('survivors').where('last_visit_day', '<', cutoffDay).select('id'))
          .delete(),
      );
    },
    /** Deletes survivor accounts with no case whose last visit is before `cutoffDay` (their unsent uploads go with them). */
    async eraseIdleAccounts(trx: Db, cutoffDay: string): Promise<number> {
      return Number(
        await trx('survivors')
          .where('last_visit_day', '<', cutoffDay)
          .whereNotExists((q) => {
            q.select(trx.raw('1')).from('cases').whereRaw('cases.survivor_id = survivors.id');
          })
          .delete(),
      );
    },
    /** The survivor's last visit (UTC day), for the days shown beside their cases. */
    async lastVisitDay(survivorId: string): Promise<string | undefined> {
      const row: { last_visit_day: string | null } | undefined = await db('survivors').where({ id: survivorId }).first('last_visit_day');
      return row?.last_visit_day ?? undefined;
    },
    /** Each of the survivor's closed cases and its closing day. */
    async closedDays(survivorId: string): Promise<Map<string, string>> {
      const rows: { id: string; closed_day: string | null }[] = await db('cases')
        .where({ survivor_id: survivorId, status: 'closed' })
        .select('id', 'closed_day');
      return new Map(rows.filter((r) => r.closed_day).map((r) => [r.id, r.closed_day as string]));
    },
  };
}
export type RetentionRepo = ReturnType<typeof retentionRepo>;
