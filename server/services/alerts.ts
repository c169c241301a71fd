/**
 * Staff alerts without content (issue 15). A member gives an email address and chooses, for
 * "a new case" and "an answer in a case assigned to me", off, immediate or a daily digest.
 * An alert says only that something is waiting and links to the workspace: no handle, no case
 * id, no content, no time of a survivor's action.
 *
 * Sending never touches a survivor's request: the request only queues (`queueAlert`, one
 * statement, after its transaction; a match inside it, `queueAlertIf`; a failure there is
 * logged, never answered), and the mailer (server/mailer.ts) sends from the queue with retry.
 * An immediate alert starts a pause (ALERT_PAUSE_MINUTES) during which further events of that
 * kind wait, and are then told in one alert; digests go out once a day at ALERT_DIGEST_HOUR_UTC.
 */
import type { z } from 'zod';
import type { schemas, StaffAlertSettings } from '../../protocol/api';
import type { AppContext } from '../app';
import type { Knex } from 'knex';
import type { DueAlert, QueueKind } from '../db/alert-repo';
import type { Db } from '../db/database';
import type { StaffRecord } from '../db/staff-repo';
import { conflict } from '../http/errors';
import { errorCodes } from '../error-codes';
import { requireNotRemoved } from './staff-accounts';
import { checkAlertKey, encryptAlert, storedKeyInfo, type EncryptedAlert, type PlainAlert } from './alert-key';

/** What the mailer sends: one plain-text message, or one encrypted to the member's OpenPGP key (sent as PGP/MIME). */
export type MailMessage = PlainAlert;
export type SendMail = (message: PlainAlert | EncryptedAlert) => Promise<void>;

export async function alertSettings(ctx: AppContext, me: StaffRecord): Promise<StaffAlertSettings> {
  const armored = await ctx.repos.alerts.pgpKey(me.id);
  return {
    available: ctx.config.smtp !== null,
    ...(await ctx.repos.alerts.choices(me.id)),
    digestHourUtc: ctx.config.alerts.digestHourUtc,
    pauseMinutes: Math.round(ctx.config.alerts.pauseMs / 60_000),
    pgpKey: armored === null ? null : await storedKeyInfo(armored, ctx.clock.now()),
  };
}

/** Sets the key alerts to this member are encrypted to, after checking it (nothing is written if it is refused). */
export async function setAlertKey(ctx: AppContext, me: StaffRecord, body: z.infer<typeof schemas.alertKey>): Promise<StaffAlertSettings> {
  requireSmtp(ctx);
  const { armored } = await checkAlertKey(body.publicKey, ctx.clock.now());
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    await ctx.repos.alerts.setPgpKey(trx, me.id, armored);
  });
  return alertSettings(ctx, me);
}

/** Removes the member's key: their alerts go as plain mail again. */
export async function removeAlertKey(ctx: AppContext, me: StaffRecord): Promise<StaffAlertSettings> {
  requireSmtp(ctx);
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    await ctx.repos.alerts.setPgpKey(trx, me.id, null);
  });
  return alertSettings(ctx, me);
}

function requireSmtp(ctx: AppContext): void {
  if (!ctx.config.smtp) throw conflict('alerts_unavailable', 'alerts are off on this server: no SMTP server is configured (SMTP_HOST)');
}

export async function changeAlerts(
  ctx: AppContext,
  me: StaffRecord,
  body: z.infer<typeof schemas.staffAlerts>,
): Promise<StaffAlertSettings> {
  requireSmtp(ctx);
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    await ctx.repos.alerts.setChoices(trx, me.id, body);
  });
  return alertSettings(ctx, me);
}

/**
 * Queues an alert of this kind for whoever chose it (for an answer: the case's assignee).
 * Called after the survivor's transaction; never throws, so an alert can neither fail nor undo
 * what the survivor sent.
 */
export async function queueAlert(ctx: AppContext, kind: QueueKind, assigneeId?: string | null): Promise<void> {
  if (!ctx.config.smtp) return;
  try {
    await ctx.repos.alerts.enqueue(kind, assigneeId);
  } catch {
    ctx.log('alerts: an alert could not be queued (what the survivor sent is saved)');
  }
}

/**
 * Queues a match alert inside the survivor's own transaction, if `condition` finds a row: the
 * statement runs either way, so her request's statements (and its one commit) are the same
 * whether or not someone else named the same identifier. In a savepoint, so that an alert that
 * cannot be queued is rolled back alone and her entry is still kept.
 */
export async function queueAlertIf(ctx: AppContext, trx: Db, kind: 'match', condition: Knex.QueryBuilder): Promise<void> {
  if (!ctx.config.smtp) return;
  try {
    await trx.transaction((savepoint) => ctx.repos.alerts.enqueueIf(savepoint, kind, condition));
  } catch {
    ctx.log('alerts: an alert could not be queued (what the survivor sent is saved)');
  }
}

const LINES: Record<QueueKind, string> = {
  new_case: 'A new case is waiting in the workspace.',
  match: 'Two testimonies may name the same person: a match is waiting in the workspace.',
  answer: 'An answer is waiting in a case assigned to you.',
};

/** The words of an alert: that something is waiting, and where to look. Nothing else. */
export function alertMessage(publicUrl: string, to: string, kinds: QueueKind[], digest: boolean): MailMessage {
  const waiting = kinds.map((k) => LINES[k]);
  return {
    to,
    subject: digest ? 'Daily digest: something is waiting in the workspace' : 'Something is waiting in the workspace',
    text: [
      ...(digest ? ['Since the last digest:', ''] : []),
      ...waiting,
      '',
      `Sign in to read it: ${publicUrl}/staff`,
      '',
      'This alert says nothing more on purpose. You chose to receive it in your account settings, where you can change or stop it.',
      '',
    ].join('\n'),
  };
}

/** How long a row is held by the mailer that claimed it, and the retry schedule. */
const CLAIM_MS = 5 * 60_000;
const MAX_ATTEMPTS = 12;
const retryDelay = (attempts: number) => Math.min(60, 2 ** attempts) * 60_000;

export interface Delivered {
  sent: number;
  failed: number;
}

/**
 * One round of the mailer: forgets pauses that are over, then sends what is due (immediate
 * alerts not held by a pause; digests at their hour, once a day). A failed send is tried
 * again later (1, 2, 4 … 60 minutes), and given up after MAX_ATTEMPTS with a line in the log.
 */
export async function deliverAlerts(ctx: AppContext, send: SendMail): Promise<Delivered> {
  const { alerts } = ctx.repos;
  const now = ctx.clock.now();
  const today = ctx.clock.today();
  const { pauseMs, digestHourUtc } = ctx.config.alerts;
  // An erasure: the time of the last alert, close to a survivor's action, leaves no copy behind.
  if ((await alerts.pausesOver(now, pauseMs)) > 0) await ctx.erase((trx) => alerts.clearPausesOver(trx, now, pauseMs));

  const due = (await alerts.due(now)).map((a) =>
    a.pausedSince !== null && a.pausedSince <= now - pauseMs ? { ...a, pausedSince: null } : a,
  );
  const digestTime = new Date(now).getUTCHours() >= digestHourUtc;
  const batches: { staffId: string; email: string; pgpKey: string | null; rows: DueAlert[]; digest: boolean }[] = [];
  for (const a of due) {
    if (a.mode === 'off' || !a.email) {
      await alerts.drop(a.staffId, [a.kind]);
    } else if (a.mode === 'immediate') {
      if (a.pausedSince === null) batches.push({ staffId: a.staffId, email: a.email, pgpKey: a.pgpKey, rows: [a], digest: false });
    } else if (digestTime && a.digestDay !== today) {
      const batch = batches.find((b) => b.digest && b.staffId === a.staffId);
      if (batch) batch.rows.push(a);
      else batches.push({ staffId: a.staffId, email: a.email, pgpKey: a.pgpKey, rows: [a], digest: true });
    }
  }

  const out: Delivered = { sent: 0, failed: 0 };
  for (const batch of batches) {
    const claimed: DueAlert[] = [];
    for (const row of batch.rows) if (await alerts.claim(row.staffId, row.kind, now, CLAIM_MS)) claimed.push(row);
    if (claimed.length === 0) continue;
    const kinds = claimed.map((r) => r.kind);
    const plain = alertMessage(ctx.config.publicUrl, batch.email, kinds, batch.digest);
    let message: PlainAlert | EncryptedAlert = plain;
    let failure: 'smtp' | 'key' = 'key';
    try {
      // With a key, only the encrypted alert may leave: a key that no longer encrypts holds the alert back.
      if (batch.pgpKey !== null) message = await encryptAlert(plain, batch.pgpKey, now);
      failure = 'smtp';
      await send(message);
      await alerts.sent(batch.staffId, kinds, batch.digest ? { digestDay: today } : { pauseFrom: now });
      out.sent++;
    } catch (err) {
      out.failed++;
      const attempts = Math.max(...claimed.map((r) => r.attempts)) + 1;
      const why =
        failure === 'key'
          ? "it could not be encrypted to its member's OpenPGP key (expired, revoked or unusable; their alert settings say so), and is never sent in the clear"
          : `the SMTP server did not take it (${errorCodes(err)})`;
      if (attempts >= MAX_ATTEMPTS) {
        await alerts.drop(batch.staffId, kinds);
        ctx.log(`alerts: an alert to a staff member was given up after ${attempts} failed attempts: ${why}`);
      } else {
        await alerts.failed(batch.staffId, kinds, now + retryDelay(attempts));
        ctx.log(`alerts: an alert was not sent: ${why}; it is tried again later`);
      }
    }
  }
  return out;
}
