/**
 * Staff alerts (issue 15): each member's email address and choices, and the queue the mailer
 * sends from. A queue row names a member and a kind of alert and nothing else (no case, no
 * survivor, no time of the event); its primary key (staff_id, kind) coalesces a flood of
 * events into one row. Kinds are stored as 'new_case', 'answer' and 'match' (a new match, for
 * matching counselors: it follows their choice for new cases, and shares that pause).
 */
import type { Knex } from 'knex';
import type { AlertKind, AlertMode } from '../../protocol/api';
import type { Db } from './database';

export type QueueKind = 'new_case' | 'answer' | 'match';
export const QUEUE_KIND: Record<AlertKind, QueueKind> = { newCase: 'new_case', answer: 'answer' };

export interface AlertChoices {
  email: string | null;
  newCase: AlertMode;
  answer: AlertMode;
}

/** A queued alert that is due, with what the mailer needs to send it. */
export interface DueAlert {
  staffId: string;
  kind: QueueKind;
  attempts: number;
  email: string;
  mode: AlertMode;
  /** when the last immediate alert of this kind went out, while it still holds the next one back */
  pausedSince: number | null;
  digestDay: string | null;
  /** the member's OpenPGP public key (armored): the alert goes encrypted to it, or not at all */
  pgpKey: string | null;
}

const SENT_AT: Record<QueueKind, string> = { new_case: 'new_case_sent_at', answer: 'answer_sent_at', match: 'new_case_sent_at' };
/** The member's choice a kind follows: a match alert goes as the member chose for new cases. */
const CHOICE_OF: Record<QueueKind, 'new_case' | 'answer'> = { new_case: 'new_case', answer: 'answer', match: 'new_case' };

/** Who is to be told of an alert of this kind: (staff_id, kind) rows for INSERT … SELECT. */
function recipients(db: Db, kind: QueueKind, assigneeId?: string | null): Knex.QueryBuilder {
  const who = db('staff_alerts')
    .join('staff', 'staff.id', 'staff_alerts.staff_id')
    .whereNot(`staff_alerts.${CHOICE_OF[kind]}`, 'off')
    .whereNotNull('staff_alerts.email')
    .where('staff.status', 'active')
    .select('staff_alerts.staff_id', db.raw('? as kind', [kind]));
  if (kind === 'answer') who.where('staff_alerts.staff_id', assigneeId as string);
  else who.where('staff.roles', 'like', kind === 'match' ? '%"matching_counselor"%' : '%"moderator"%');
  return who;
}

/**
 * INSERT … SELECT … ON CONFLICT, which knex's insert() does not build from a subquery. The
 * SELECT has a WHERE, so SQLite does not read ON CONFLICT as part of its join.
 */
async function insertAlerts(db: Db, who: Knex.QueryBuilder): Promise<void> {
  const { sql, bindings } = who.toSQL();
  await db.raw(`insert into alert_queue (staff_id, kind) ${sql} on conflict (staff_id, kind) do nothing`, bindings);
}

export function alertRepo(db: Db) {
  return {
    async choices(staffId: string): Promise<AlertChoices> {
      const row: { email: string | null; new_case: AlertMode; answer: AlertMode } | undefined = await db('staff_alerts')
        .where({ staff_id: staffId })
        .first('email', 'new_case', 'answer');
      return row ? { email: row.email, newCase: row.new_case, answer: row.answer } : { email: null, newCase: 'off', answer: 'off' };
    },
    /** The armored OpenPGP public key the member's alerts are encrypted to, or null. */
    async pgpKey(staffId: string): Promise<string | null> {
      const row: { pgp_key: string | null } | undefined = await db('staff_alerts').where({ staff_id: staffId }).first('pgp_key');
      return row?.pgp_key ?? null;
    },
    /** Sets (or, with null, removes) the member's key; a member with no settings yet gets a row with every kind off. */
    async setPgpKey(trx: Db, staffId: string, armored: string | null): Promise<void> {
      await trx('staff_alerts').insert({ staff_id: staffId, pgp_key: armored }).onConflict('staff_id').merge(['pgp_key']);
    },
    /** Stores the member's choices; a kind turned off drops what was queued for it. */
    async setChoices(trx: Db, staffId: string, c: AlertChoices): Promise<void> {
      await trx('staff_alerts')
        .insert({ staff_id: staffId, email: c.email, new_case: c.newCase, answer: c.answer })
        .onConflict('staff_id')
        .merge(['email', 'new_case', 'answer']);
      const off = (Object.entries(QUEUE_KIND) as [AlertKind, QueueKind][]).filter(([k]) => c[k] === 'off').map(([, q]) => q);
      if (off.includes('new_case')) off.push('match');
      if (off.length) await trx('alert_queue').where({ staff_id: staffId }).whereIn('kind', off).delete();
    },
    /**
     * Queues one alert of this kind for every active member who chose it (for 'answer', only
     * the case's assignee; for 'new_case', only moderators, who are the ones who read new
     * cases; for 'match', only matching counselors, as they chose for new cases). One
     * statement; a member who already has one queued keeps that one.
     */
    async enqueue(kind: QueueKind, assigneeId?: string | null): Promise<void> {
      if (kind === 'answer' && !assigneeId) return;
      await insertAlerts(db, recipients(db, kind, assigneeId));
    },
    /**
     * The same statement in the caller's transaction, queuing only if `condition` (a subquery)
     * finds a row: it runs whether or not it queues anything, so the request's statements do
     * not tell whether it did (a new match: server/services/matching.ts).
     */
    async enqueueIf(trx: Db, kind: Exclude<QueueKind, 'answer'>, condition: Knex.QueryBuilder): Promise<void> {
      await insertAlerts(trx, recipients(trx, kind).whereExists(condition));
    },
    /** Pauses that are over (the last immediate alert is older than `pauseMs`): how many, so the caller clears them only when there are some. */
    async pausesOver(now: number, pauseMs: number): Promise<number> {
      const [{ n }] = await db('staff_alerts')
        .where('new_case_sent_at', '<=', now - pauseMs)
        .orWhere('answer_sent_at', '<=', now - pauseMs)
        .count<{ n: number | string }[]>({ n: '*' });
      return Number(n);
    },
    /** Forgets when the last immediate alerts went out once their pause is over: that time falls close to a survivor's action. */
    async clearPausesOver(trx: Db, now: number, pauseMs: number): Promise<void> {
      for (const column of new Set(Object.values(SENT_AT)))
        await trx('staff_alerts')
          .where(column, '<=', now - pauseMs)
          .update({ [column]: null });
    },
    async due(now: number): Promise<DueAlert[]> {
      const rows: {
        staff_id: string;
        kind: QueueKind;
        attempts: number | string;
        email: string | null;
        new_case: AlertMode;
        answer: AlertMode;
        new_case_sent_at: number | string | null;
        answer_sent_at: number | string | null;
        digest_day: string | null;
        pgp_key: string | null;
        status: string;
      }[] = await db('alert_queue')
        .join('staff_alerts', 'staff_alerts.staff_id', 'alert_queue.staff_id')
        .join('staff', 'staff.id', 'alert_queue.staff_id')
        .where('alert_queue.next_try_at', '<=', now)
        .select(
          'alert_queue.staff_id',
          'alert_queue.kind',
          'alert_queue.attempts',
          'staff_alerts.email',
          'staff_alerts.new_case',
          'staff_alerts.answer',
          'staff_alerts.new_case_sent_at',
          'staff_alerts.answer_sent_at',
          'staff_alerts.digest_day',
          'staff_alerts.pgp_key',
          'staff.status',
        )
        .orderBy(['alert_queue.staff_id', 'alert_queue.kind']);
      return rows.map((r) => {
        const sentAt = CHOICE_OF[r.kind] === 'new_case' ? r.new_case_sent_at : r.answer_sent_at;
        return {
          staffId: r.staff_id,
          kind: r.kind,
          attempts: Number(r.attempts),
          email: r.status === 'active' ? (r.email ?? '') : '',
          mode: CHOICE_OF[r.kind] === 'new_case' ? r.new_case : r.answer,
          pausedSince: sentAt === null ? null : Number(sentAt),
          digestDay: r.digest_day,
          pgpKey: r.pgp_key,
        };
      });
    },
    /** Takes a due row for `holdMs` so that another instance's mailer does not send it too; false if one already did. */
    async claim(staffId: string, kind: QueueKind, now: number, holdMs: number): Promise<boolean> {
      const n = await db('alert_queue')
        .where({ staff_id: staffId, kind })
        .where('next_try_at', '<=', now)
        .update({ next_try_at: now + holdMs });
      return Number(n) === 1;
    },
    /** Sent: the rows leave the queue; an immediate alert starts its kind's pause, a digest marks the day. */
    async sent(staffId: string, kinds: QueueKind[], mark: { pauseFrom: number } | { digestDay: string }): Promise<void> {
      await db.transaction(async (trx) => {
        await trx('alert_queue').where({ staff_id: staffId }).whereIn('kind', kinds).delete();
        const patch: Record<string, unknown> =
          'digestDay' in mark ? { digest_day: mark.digestDay } : Object.fromEntries(kinds.map((k) => [SENT_AT[k], mark.pauseFrom]));
        await trx('staff_alerts').where({ staff_id: staffId }).update(patch);
      });
    },
    /** Not sent: tried again at `nextTryAt`. */
    async failed(staffId: string, kinds: QueueKind[], nextTryAt: number): Promise<void> {
      await db('alert_queue')
        .where({ staff_id: staffId })
        .whereIn('kind', kinds)
        .update({ attempts: db.raw('attempts + 1'), next_try_at: nextTryAt });
    },
    /** Removed members: their address, choices and queued alerts go (inside the removal's erasure). */
    async forget(trx: Db, staffIds: string[]): Promise<void> {
      if (staffIds.length === 0) return;
      await trx('alert_queue').whereIn('staff_id', staffIds).delete();
      await trx('staff_alerts').whereIn('staff_id', staffIds).delete();
    },
    async drop(staffId: string, kinds: QueueKind[]): Promise<void> {
      await db('alert_queue').where({ staff_id: staffId }).whereIn('kind', kinds).delete();
    },
  };
}
export type AlertRepo = ReturnType<typeof alertRepo>;
