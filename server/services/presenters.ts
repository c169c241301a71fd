/**
 * How stored rows are shown to a client: one place for every response shape that more than
 * one route returns (protocol/api.ts has the types).
 */
import type { DraftItem, EnvelopeItem, StaffMe } from '../../protocol/api';
import type { AnyKeyGrant } from '../../protocol';
import type { AppContext } from '../app';
import type { EnvelopeRow } from '../db/envelope-repo';
import type { StaffRecord } from '../db/staff-repo';

/** An envelope of a thread, with the re-wrap grants addressed to the reader. */
export function item(row: EnvelopeRow, grants: AnyKeyGrant[] = []): EnvelopeItem {
  return { id: row.id, seq: row.seq, day: row.day, fromStaff: row.fromStaff, envelope: row.envelope, grants };
}

/** Drafts of these cases with their envelopes (and, for a staff reader, the grants addressed to them). */
export async function draftItems(
  ctx: AppContext,
  caseIds: string[],
  readerKid?: string,
): Promise<(DraftItem & { caseId: string; author: string | null })[]> {
  const { publishing, envelopes } = ctx.repos;
  const drafts = await publishing.draftsOf(caseIds);
  const changesIds = drafts.flatMap((d) => (d.changesEnvelopeId === null ? [] : [d.changesEnvelopeId]));
  const rows = await envelopes.byIds([...drafts.map((d) => d.envelopeId), ...changesIds]);
  const grants = readerKid
    ? await envelopes.grantsFor([...drafts.map((d) => d.envelopeId), ...changesIds], readerKid)
    : new Map<number, AnyKeyGrant[]>();
  const changes = (id: number | null) => {
    const row = id === null ? undefined : rows.get(id);
    return row ? item(row, grants.get(row.id)) : null;
  };
  return drafts.map((d) => ({
    caseId: d.caseId,
    draftId: d.id,
    version: d.version,
    status: d.status,
    day: d.updatedDay,
    author: d.author,
    item: item(rows.get(d.envelopeId)!, grants.get(d.envelopeId)),
    publication: d.publication,
    takedown: d.takedown,
    changes: changes(d.changesEnvelopeId),
  }));
}

/** What a signed-in staff member learns about their own account (setup, enrolment, sign-in, /staff/me). */
export function staffMe(s: StaffRecord, totpEnrolled = false): StaffMe {
  return {
    id: s.id,
    username: s.username,
    roles: s.roles,
    status: s.status,
    boxPk: s.boxPk,
    signPk: s.signPk,
    wrappedKeys: s.wrappedKeys,
    totpEnrolled,
  };
}
