/**
 * Attachments: uploads of sealed 64 KiB records (migrations/005_attachments.ts). Each write
 * states the condition it relies on in its own WHERE clause (the next index, still open, not
 * yet linked) and reports how many rows it changed, so that a concurrent request cannot slip
 * between a route's check and the write, on SQLite or PostgreSQL alike.
 */
import { utcDay } from '../../protocol';
import type { Knex } from 'knex';
import { batchWithin, type Erased } from './batch';
import { lockRows, type Db } from './database';

export interface AttachmentRow {
  id: string;
  survivorId: string;
  caseId: string | null;
  envelopeId: number | null;
  size: number;
  records: number;
  received: number;
  closed: boolean;
  createdDay: string;
}

interface RawRow {
  id: string;
  survivor_id: string;
  case_id: string | null;
  envelope_id: number | null;
  size: number | string;
  records: number;
  received: number;
  closed: number | boolean;
  created_day: string;
}

/** An upload not linked to a message is deleted once it is older than this many UTC days. */
export const STALE_AFTER_DAYS = 2;

/** Unlinked uploads created before this day are stale (so each lives at least two whole days). */
export function staleCutoffDay(now: number): string {
  return utcDay(new Date(now - STALE_AFTER_DAYS * 86_400_000));
}

function fromRow(r: RawRow): AttachmentRow {
  return {
    id: r.id,
    survivorId: r.survivor_id,
    caseId: r.case_id,
    envelopeId: r.envelope_id === null ? null : Number(r.envelope_id),
    size: Number(r.size),
    records: Number(r.records),
    received: Number(r.received),
    closed: Boolean(r.closed),
    createdDay: r.created_day,
  };
}

export function attachmentRepo(db: Db) {
  const caseBytes = async (caseId: string, trx: Db): Promise<number> => {
    const [row] = await trx('attachments').where({ case_id: caseId }).select(trx.raw('coalesce(sum(size), 0) as bytes'));
    return Number(row.bytes);
  };
  return {
    async create(trx: Db, a: { id: string; survivorId: string; size: number; records: number; day: string }): Promise<void> {
      await trx('attachments').insert({
        id: a.id,
        survivor_id: a.survivorId,
        size: a.size,
        records: a.records,
        received: 0,
        closed: false,
        created_day: a.day,
      });
    },

    /**
     * The survivor's unlinked uploads that are not stale yet: how many, and their declared bytes.
     * Locks the survivor's row first, so that concurrent creations by one survivor count one
     * after another (on PostgreSQL; SQLite runs one transaction at a time anyway).
     */
    async pendingUsage(trx: Db, survivorId: string, now: number): Promise<{ count: number; bytes: number }> {
      await lockRows(trx, trx('survivors').where({ id: survivorId }).select('id'));
      const [row] = await trx('attachments')
        .where({ survivor_id: survivorId })
        .whereNull('case_id')
        .where('created_day', '>=', staleCutoffDay(now))
        .select(trx.raw('count(*) as n'), trx.raw('coalesce(sum(size), 0) as bytes'));
      return { count: Number(row.n), bytes: Number(row.bytes) };
    },

    /** One upload, only if it is this survivor's. */
    async ofSurvivor(id: string, survivorId: string): Promise<AttachmentRow | undefined> {
      const row: RawRow | undefined = await db('attachments').where({ id, survivor_id: survivorId }).first();
      return row && fromRow(row);
    },

    /**
     * Stores record `index` and counts it, in one transaction, only if it is the next one of an
     * open upload. Returns false when the upload moved meanwhile (the caller re-reads and says
     * why); a concurrent copy of the same record fails on the (attachment_id, idx) key.
     */
    async appendRecord(id: string, index: number, data: Uint8Array): Promise<boolean> {
      return db.transaction(async (trx) => {
        const bumped = await trx('attachments')
          .where({ id, received: index, closed: false })
          .where('records', '>', index)
          .increment('received', 1);
        if (Number(bumped) !== 1) return false;
        await trx('attachment_records').insert({
          attachment_id: id,
          idx: index,
          data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        });
        return true;
      });
    },

    /** Closes an upload that holds all its records. Returns false if it did not (incomplete, already closed, not theirs). */
    async close(id: string, survivorId: string): Promise<boolean> {
      const n = await db('attachments')
        .where({ id, survivor_id: survivorId, closed: false })
        .whereRaw('received = records')
        .update({ closed: true });
      return Number(n) === 1;
    },

    async record(id: string, index: number): Promise<Buffer | undefined> {
      const row: { data: Buffer } | undefined = await db('attachment_records').where({ attachment_id: id, idx: index }).first('data');
      return row?.data;
    },

    /** An upload staff may see: closed and linked to a message. */
    async forStaff(id: string): Promise<AttachmentRow | undefined> {
      const row: RawRow | undefined = await db('attachments').where({ id, closed: true }).whereNotNull('case_id').first();
      return row && fromRow(row);
    },

    /** The survivor's uploads among these ids (others' and unknown ids are simply absent). */
    async ofSurvivorMany(ids: string[], survivorId: string): Promise<AttachmentRow[]> {
      if (ids.length === 0) return [];
      const rows: RawRow[] = await db('attachments').whereIn('id', ids).where({ survivor_id: survivorId });
      return rows.map(fromRow);
    },

    /** The declared bytes of every upload linked to a case (read in `trx` when given). */
    async caseBytes(caseId: string, trx: Db = db): Promise<number> {
      return caseBytes(caseId, trx);
    },

    /**
     * Links closed, unlinked uploads of the survivor to the envelope that carries their keys.
     * Locks the case's row first, so that links to one case happen one after another (on
     * PostgreSQL; SQLite runs one transaction at a time anyway), and answers how many it
     * linked (fewer than asked means one changed meanwhile: roll back) and the bytes the case's
     * files then total, counted after the lock, for the caller to hold to the testimony limit.
     */
    async link(
      trx: Db,
      ids: string[],
      to: { survivorId: string; caseId: string; envelopeId: number },
    ): Promise<{ linked: number; caseBytes: number }> {
      await lockRows(trx, trx('cases').where({ id: to.caseId }).select('id'));
      if (ids.length === 0) return { linked: 0, caseBytes: await caseBytes(to.caseId, trx) };
      const n = await trx('attachments')
        .whereIn('id', ids)
        .where({ survivor_id: to.survivorId, closed: true })
        .whereNull('case_id')
        .update({ case_id: to.caseId, envelope_id: to.envelopeId });
      return { linked: Number(n), caseBytes: await caseBytes(to.caseId, trx) };
    },

    /**
     * Deletes unlinked uploads older than STALE_AFTER_DAYS UTC days (their records go with
     * them), a batch at a time: at most `batch.uploads`, and beyond the first, no more than
     * `batch.bytes` in all. The delete states the condition again (a link made meanwhile keeps
     * the upload). `more`: stale uploads were left for the next batch.
     */
    async deleteStale(trx: Db, now: number, batch: { uploads: number; bytes: number }): Promise<Erased> {
      const stale = (q: Knex.QueryBuilder) => q.whereNull('case_id').where('created_day', '<', staleCutoffDay(now));
      const found: { id: string; bytes: number | string }[] = await stale(trx('attachments'))
        .orderBy('id')
        .limit(batch.uploads + 1)
        .select('id', 'size as bytes');
      const { ids, more } = batchWithin(found, batch.uploads, batch.bytes);
      const erased = ids.length > 0 ? Number(await stale(trx('attachments')).whereIn('id', ids).delete()) : 0;
      return { erased, more };
    },
  };
}
export type AttachmentRepo = ReturnType<typeof attachmentRepo>;
