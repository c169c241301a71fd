/**
 * The audit log of staff actions: append-only and hash-chained (protocol/audit.ts). The app
 * only ever inserts; nothing updates or deletes a row.
 *
 * How to record an action (from a route, inside the transaction that makes the change, so the
 * entry and the change are written together or not at all):
 *
 *   await ctx.db.transaction(async (trx) => {
 *     await cases.setStatus(trx, caseId, status);
 *     await ctx.repos.audit.record(trx, { actorId: req.staff!.id, action: 'case.status_changed', subject: caseId, detail: { status } });
 *   });
 *
 * - `actorId`: the staff member who acted (req.staff!.id), or null for the system.
 * - `action`: "area.verb" in lower case, e.g. "case.status_changed", "case.granted".
 * - `subject`: a staff id or a case id (22-character ids), or omitted.
 * - `detail`: a flat object of short strings (<= 200 chars), safe integers, booleans, null, or
 *   short lists of those (<= 16 keys, <= 64 items). NEVER anything that identifies a survivor
 *   (no handle, key, codename, text or day of theirs): a case id is the most an entry names.
 * The time is set here (exact milliseconds: allowed for staff actions). A malformed entry
 * throws (a programming error, answered 500) and so rolls the caller's transaction back.
 * Passing `ctx.db` instead of a transaction appends in a transaction of its own.
 */
import type { Clock } from '../clock';
import type { Knex } from 'knex';
import { chainAuditEntry, type AuditDetail, type AuditRecord } from '../../protocol';
import type { Db } from './database';

export interface AuditInput {
  actorId: string | null;
  action: string;
  subject?: string | null;
  detail?: AuditDetail | null;
}

interface AuditRow {
  seq: number | string;
  at: number | string;
  actor_id: string | null;
  action: string;
  subject: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/** pg_advisory_xact_lock key that serializes appends across app instances on PostgreSQL */
const PG_APPEND_LOCK = 0x61756469; // "audi"

export const AUDIT_PAGE_MAX = 500;

function fromRow(r: AuditRow): AuditRecord {
  return {
    v: 1,
    seq: Number(r.seq),
    at: Number(r.at),
    actorId: r.actor_id,
    action: r.action,
    subject: r.subject,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as AuditDetail),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function isTransaction(db: Db): db is Knex.Transaction {
  return (db as Knex.Transaction).isTransaction === true;
}

export function auditRepo(db: Db, opts: { instanceId: string; clock: Clock }) {
  const now = () => opts.clock.now();

  async function append(trx: Knex.Transaction, input: AuditInput): Promise<AuditRecord> {
    if (trx.client.config.client === 'pg') await trx.raw('SELECT pg_advisory_xact_lock(?)', [PG_APPEND_LOCK]);
    const last = await trx<AuditRow>('audit_log').orderBy('seq', 'desc').first('seq', 'hash');
    const record = chainAuditEntry(opts.instanceId, last ? { seq: Number(last.seq), hash: last.hash } : null, {
      at: now(),
      actorId: input.actorId,
      action: input.action,
      subject: input.subject ?? null,
      detail: input.detail ?? null,
    });
    await trx('audit_log').insert({
      seq: record.seq,
      at: record.at,
      actor_id: record.actorId,
      action: record.action,
      subject: record.subject,
      detail: record.detail === null ? null : JSON.stringify(record.detail),
      prev_hash: record.prevHash,
      hash: record.hash,
    });
    return record;
  }

  return {
    /** Appends one entry, chained to the newest; see the header of this file. */
    async record(dbOrTrx: Db, input: AuditInput): Promise<AuditRecord> {
      if (isTransaction(dbOrTrx)) return append(dbOrTrx, input);
      return dbOrTrx.transaction((trx) => append(trx, input));
    },
    /** Entries after position `after`, oldest first. */
    async list(after: number, limit: number): Promise<AuditRecord[]> {
      const rows = await db<AuditRow>('audit_log').where('seq', '>', after).orderBy('seq', 'asc').limit(Math.min(limit, AUDIT_PAGE_MAX));
      return rows.map(fromRow);
    },
    async head(): Promise<{ seq: number; hash: string } | null> {
      const last = await db<AuditRow>('audit_log').orderBy('seq', 'desc').first('seq', 'hash');
      return last ? { seq: Number(last.seq), hash: last.hash } : null;
    },
  };
}
export type AuditRepo = ReturnType<typeof auditRepo>;
