/**
 * Retention (issue 15): the periods the admin sets, and the cases and survivor accounts whose
 * period is over. A closed case is kept for `closedCaseDays` from the later of its closing day
 * and its survivor's last visit; a survivor account with no case for `idleAccountDays` from
 * its last visit (its creation counts as one). Only UTC days are compared.
 */
import { RETENTION_BOUNDS, type RetentionPeriods } from '../../protocol/api';
import type { Knex } from 'knex';
import { batchWithin, type Erased } from './batch';
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
     * Deletes closed cases whose closing day and survivor's last visit are both before
     * `cutoffDay`, a batch at a time: at most `batch.cases`, and beyond the first, no more
     * than `batch.bytes` of attachments in all (a case is erased whole, however large). Their
     * envelopes, wrapped keys, grants, drafts, consents, statistics, attachments and records
     * go with them (ON DELETE CASCADE). A published story keeps its words: its link to the
     * case and draft is set to null (migrations/004_publishing.ts). The delete checks again as
     * it deletes, in one statement, so a case reopened or a survivor who signed in since the
     * batch was chosen is not erased on the strength of an earlier read (PostgreSQL).
     * `more`: expired cases were left for the next batch.
     */
    async eraseExpiredClosedCases(trx: Db, cutoffDay: string, batch: { cases: number; bytes: number }): Promise<Erased> {
      const expired = (q: Knex.QueryBuilder) =>
        q
          .where('cases.status', 'closed')
          .where('cases.closed_day', '<', cutoffDay)
          .whereIn('cases.survivor_id', trx('survivors').where('last_visit_day', '<', cutoffDay).select('id'));
      const found: { id: string; bytes: number | string }[] = await expired(trx('cases'))
        .leftJoin('attachments', 'attachments.case_id', 'cases.id')
        .groupBy('cases.id')
        .orderBy('cases.id')
        .limit(batch.cases + 1)
        .select('cases.id', trx.raw('COALESCE(SUM(attachments.size), 0) AS bytes'));
      const { ids, more } = batchWithin(found, batch.cases, batch.bytes);
      const erased = ids.length > 0 ? Number(await expired(trx('cases')).whereIn('cases.id', ids).delete()) : 0;
      return { erased, more };
    },
    /**
     * Deletes survivor accounts with no case whose last visit is before `cutoffDay`, at most
     * `limit` of them (their unsent uploads go with them); checked again as it deletes.
     */
    async eraseIdleAccounts(trx: Db, cutoffDay: string, limit: number): Promise<Erased> {
      const idle = (q: Knex.QueryBuilder) =>
        q.where('survivors.last_visit_day', '<', cutoffDay).whereNotExists((sub) => {
          sub.select(trx.raw('1')).from('cases').whereRaw('cases.survivor_id = survivors.id');
        });
      const found: string[] = (
        await idle(trx('survivors'))
          .orderBy('survivors.id')
          .limit(limit + 1)
          .select('survivors.id')
      ).map((r: { id: string }) => r.id);
      const ids = found.slice(0, limit);
      const erased = ids.length > 0 ? Number(await idle(trx('survivors')).whereIn('survivors.id', ids).delete()) : 0;
      return { erased, more: found.length > limit };
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
