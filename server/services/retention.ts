/**
 * Retention (issue 15): the admin's periods, the days survivors are shown, and the sweep that
 * erases what is past its period. A closed case is kept for `closedCaseDays` after the later of
 * its closing and its survivor's last visit, so a survivor who comes back keeps her testimony;
 * an account with no case is kept for `idleAccountDays` after the last visit. Published stories
 * are untouched; the audit log records only how many were erased.
 */
import type { z } from 'zod';
import { RETENTION_BOUNDS, type RetentionPeriods, type schemas } from '../../protocol/api';
import { utcDay } from '../../protocol';
import type { AppContext } from '../app';
import type { Db } from '../db/database';
import type { StaffRecord } from '../db/staff-repo';
import { RETENTION_DEFAULTS } from '../db/retention-repo';
import { requireNotRemoved } from './staff-accounts';

const DAY_MS = 86_400_000;

/** The UTC day `days` after (or, negative, before) `day`. */
export function addDays(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** The last day a closed case is kept: its closing or the survivor's last visit, whichever is later, plus the period. */
export function keptUntil(closedDay: string, lastVisitDay: string | undefined, closedCaseDays: number): string {
  const from = lastVisitDay && lastVisitDay > closedDay ? lastVisitDay : closedDay;
  return addDays(from, closedCaseDays);
}

export interface RetentionSettings extends RetentionPeriods {
  defaults: RetentionPeriods;
  bounds: typeof RETENTION_BOUNDS;
}

export async function retentionSettings(ctx: AppContext): Promise<RetentionSettings> {
  return { ...(await ctx.repos.retention.periods()), defaults: RETENTION_DEFAULTS, bounds: RETENTION_BOUNDS };
}

export async function changeRetention(
  ctx: AppContext,
  me: StaffRecord,
  body: z.infer<typeof schemas.retention>,
): Promise<RetentionSettings> {
  const { retention, audit } = ctx.repos;
  const before = await retention.periods();
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    await retention.setPeriods(trx, body);
    await audit.record(trx, {
      actorId: me.id,
      action: 'settings.retention_changed',
      detail: { ...body, previousClosedCaseDays: before.closedCaseDays, previousIdleAccountDays: before.idleAccountDays },
    });
  });
  return retentionSettings(ctx);
}

/** For the survivor's case list: the last day each of her closed cases is kept. */
export async function keptUntilDays(ctx: AppContext, survivorId: string): Promise<Map<string, string>> {
  const { retention } = ctx.repos;
  const closed = await retention.closedDays(survivorId);
  if (closed.size === 0) return new Map();
  const [{ closedCaseDays }, lastVisit] = await Promise.all([retention.periods(), retention.lastVisitDay(survivorId)]);
  return new Map([...closed].map(([caseId, day]) => [caseId, keptUntil(day, lastVisit, closedCaseDays)]));
}

export interface RetentionSwept {
  cases: number;
  accounts: number;
}

/**
 * How much one retention transaction erases at most: a case is erased whole whatever its size,
 * but between batches the sweep lets waiting requests through (on SQLite a transaction holds
 * the one connection). Beyond the first case, `bytes` caps the attachments a batch erases.
 */
export interface RetentionBatch {
  cases: number;
  bytes: number;
  accounts: number;
}
export const RETENTION_BATCH: RetentionBatch = { cases: 16, bytes: 32 * 1024 * 1024, accounts: 500 };

/**
 * Erases, inside the caller's erasure (ctx.erase), one batch of the closed cases and idle
 * accounts past their period on `today` (accounts once no expired case is left, as erasing a
 * case can leave its survivor's account idle), and records in the audit log only how many (no
 * id, no day of a survivor's). `more`: the caller runs another batch.
 */
export async function eraseExpiredBatch(
  ctx: AppContext,
  trx: Db,
  today: string,
  batch: RetentionBatch = RETENTION_BATCH,
): Promise<RetentionSwept & { more: boolean }> {
  const { retention, audit } = ctx.repos;
  const periods = await retention.periods(trx);
  const cases = await retention.eraseExpiredClosedCases(trx, addDays(today, -periods.closedCaseDays), batch);
  const accounts = cases.more
    ? { erased: 0, more: true }
    : await retention.eraseIdleAccounts(trx, addDays(today, -periods.idleAccountDays), batch.accounts);
  if (cases.erased > 0 || accounts.erased > 0)
    await audit.record(trx, { actorId: null, action: 'retention.erased', detail: { cases: cases.erased, accounts: accounts.erased } });
  return { cases: cases.erased, accounts: accounts.erased, more: cases.more || accounts.more };
}
