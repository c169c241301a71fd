/** Cases and their envelopes. Cases carry only workflow status and UTC days. */
import type { CaseStatus, CaseSummary } from '../../protocol/api';
import type { Envelope } from '../../protocol';
import type { Db } from './database';

export const INBOX_PAGE_SIZE = 50;

export function caseRepo(db: Db) {
  return {
    async exists(caseId: string): Promise<boolean> {
      return Boolean(await db('cases').where({ id: caseId }).first());
    },
    async insertWithEnvelope(trx: Db, c: { id: string; survivorId: string; day: string }, envelope: Envelope): Promise<void> {
      await trx('cases').insert({ id: c.id, survivor_id: c.survivorId, status: 'new', created_day: c.day, updated_day: c.day });
      await trx('envelopes').insert({ case_id: c.id, kind: envelope.kind, body: JSON.stringify(envelope), created_day: c.day });
    },
    async listForStaff(filter: { status?: CaseStatus; page: number }): Promise<{ cases: CaseSummary[]; total: number }> {
      const base = db('cases').join('survivors', 'survivors.id', 'cases.survivor_id');
      if (filter.status) base.where('cases.status', filter.status);
      const [{ n }] = await base.clone().count<{ n: number | string }[]>({ n: '*' });
      const rows = await base
        .clone()
        .select('cases.id', 'survivors.handle', 'cases.status', 'cases.created_day')
        .orderBy([{ column: 'cases.created_day', order: 'desc' }, { column: 'cases.id', order: 'asc' }])
        .limit(INBOX_PAGE_SIZE)
        .offset((filter.page - 1) * INBOX_PAGE_SIZE);
      return {
        total: Number(n),
        cases: rows.map((r: { id: string; handle: string; status: CaseStatus; created_day: string }) => ({ caseId: r.id, handle: r.handle, status: r.status, createdDay: r.created_day })),
      };
    },
    async detail(caseId: string): Promise<(CaseSummary & { survivorId: string; survivorSignPk: string; envelopes: Envelope[] }) | undefined> {
      const row = await db('cases')
        .join('survivors', 'survivors.id', 'cases.survivor_id')
        .where('cases.id', caseId)
        .select('cases.id', 'cases.status', 'cases.created_day', 'survivors.id as survivor_id', 'survivors.handle', 'survivors.sign_pk')
        .first();
      if (!row) return undefined;
      const envelopes = await db('envelopes').where({ case_id: caseId }).orderBy('id');
      return {
        caseId: row.id,
        handle: row.handle,
        status: row.status,
        createdDay: row.created_day,
        survivorId: row.survivor_id,
        survivorSignPk: row.sign_pk,
        envelopes: envelopes.map((e: { body: string }) => JSON.parse(e.body)),
      };
    },
    async listForSurvivor(survivorId: string): Promise<{ caseId: string; status: CaseStatus; createdDay: string; envelopes: Envelope[] }[]> {
      const cases = await db('cases').where({ survivor_id: survivorId }).orderBy([{ column: 'created_day', order: 'desc' }, 'id']);
      if (cases.length === 0) return [];
      const envelopes = await db('envelopes').whereIn('case_id', cases.map((c: { id: string }) => c.id)).orderBy('id');
      return cases.map((c: { id: string; status: CaseStatus; created_day: string }) => ({
        caseId: c.id,
        status: c.status,
        createdDay: c.created_day,
        envelopes: envelopes.filter((e: { case_id: string }) => e.case_id === c.id).map((e: { body: string }) => JSON.parse(e.body)),
      }));
    },
  };
}
export type CaseRepo = ReturnType<typeof caseRepo>;
