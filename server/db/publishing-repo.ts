/**
 * Publishing with consent: what survivors share (advocates, statistics), drafts, consents and
 * publications. Draft texts are envelopes (envelope-repo); this repository holds where each
 * draft stands and the only plaintext the database keeps about a testimony: a story its
 * survivor signed off word for word.
 */
import type { Sharing, StatisticsChoice } from '../../protocol/api';
import type { ConsentStatement, DraftStatus, PublicStory, RevocationStatement } from '../../protocol';
import { lockRows, type Db } from './database';

export const STORIES_PAGE_SIZE = 20;

export interface DraftRecord {
  id: string;
  caseId: string;
  envelopeId: number;
  authorId: string | null;
  version: number;
  status: DraftStatus;
  createdDay: string;
  updatedDay: string;
  /** the survivor's change request envelope, if they asked for changes */
  changesEnvelopeId: number | null;
}

export interface ConsentRecord {
  draftId: string;
  caseId: string;
  textHash: string;
  statement: ConsentStatement;
  sig: string;
  issuedDay: string;
  revokedDay: string | null;
  /** whether a signed revocation is stored (whatever revoked_day says) */
  revoked: boolean;
}

export interface StorySummary {
  alias: string;
  title: string;
  text: string;
  context: string;
  month: string;
}

/** A published story, or the tombstone of one that was withdrawn (or taken down by staff, with their reason). */
export type StoryLookup = { state: 'live'; story: StorySummary } | { state: 'gone'; takedownReason: string | null };

/** Counted testimonies by one disclosed field; the route suppresses small cells. */
export interface StatisticsCounts {
  byContext: Record<string, number>;
  byMonth: Record<string, number>;
  byYear: Record<string, number>;
  byProvince: Record<string, number>;
}

interface DraftRow {
  id: string;
  case_id: string;
  envelope_id: number;
  author_id: string | null;
  version: number;
  status: DraftStatus;
  created_day: string;
  updated_day: string;
  changes_envelope_id: number | null;
}
const draftFromRow = (r: DraftRow): DraftRecord => ({
  id: r.id,
  caseId: r.case_id,
  envelopeId: Number(r.envelope_id),
  authorId: r.author_id,
  version: Number(r.version),
  status: r.status,
  createdDay: r.created_day,
  updatedDay: r.updated_day,
  changesEnvelopeId: r.changes_envelope_id === null ? null : Number(r.changes_envelope_id),
});

/** Drafts still waiting on the survivor (or approved, not yet out) that a newer draft replaces. */
const OPEN_DRAFT_STATUSES: DraftStatus[] = ['proposed', 'changes_requested', 'approved'];

async function insertStatistics(trx: Db, caseId: string, s: StatisticsChoice, month: string): Promise<void> {
  await trx('case_statistics').insert({
    case_id: caseId,
    month,
    context: s.context ?? null,
    year: s.year ?? null,
    province: s.province ?? null,
  });
}

export function publishingRepo(db: Db) {
  async function countBy(column: string): Promise<Record<string, number>> {
    const rows: { k: string | number; n: number | string }[] = await db('case_statistics')
      .whereNotNull(column)
      .select(`${column} as k`)
      .count({ n: '*' })
      .groupBy(column);
    return Object.fromEntries(rows.map((r) => [String(r.k), Number(r.n)]));
  }

  return {
    /** Changes what an existing case shares. */
    async setSharing(trx: Db, caseId: string, sharing: Sharing, month: string): Promise<void> {
      await trx('cases').where({ id: caseId }).update({ advocates_may_read: sharing.advocatesMayRead });
      await trx('case_statistics').where({ case_id: caseId }).delete();
      if (sharing.statistics) await insertStatistics(trx, caseId, sharing.statistics, month);
    },

    /** The statistics row of a case that has none yet (a new case: cases.insert sets advocates_may_read). */
    addStatistics: insertStatistics,

    async sharingOf(caseIds: string[]): Promise<Map<string, Sharing>> {
      const out = new Map<string, Sharing>();
      if (caseIds.length === 0) return out;
      const rows: {
        id: string;
        advocates_may_read: number | boolean;
        context: string | null;
        year: number | null;
        province: string | null;
        month: string | null;
      }[] = await db('cases')
        .leftJoin('case_statistics', 'case_statistics.case_id', 'cases.id')
        .whereIn('cases.id', caseIds)
        .select(
          'cases.id',
          'cases.advocates_may_read',
          'case_statistics.month',
          'case_statistics.context',
          'case_statistics.year',
          'case_statistics.province',
        );
      for (const r of rows) {
        const statistics =
          r.month === null
            ? null
            : ({
                ...(r.context ? { context: r.context } : {}),
                ...(r.year !== null ? { year: Number(r.year) } : {}),
                ...(r.province ? { province: r.province } : {}),
              } as StatisticsChoice);
        out.set(r.id, { advocatesMayRead: Boolean(r.advocates_may_read), statistics });
      }
      return out;
    },

    /** Cases whose survivor lets advocates read, newest first, with their handles. */
    async casesOpenToAdvocates(): Promise<{ caseId: string; handle: string; createdDay: string }[]> {
      const rows: { id: string; handle: string; created_day: string }[] = await db('cases')
        .join('survivors', 'survivors.id', 'cases.survivor_id')
        .where('cases.advocates_may_read', true)
        .select('cases.id', 'survivors.handle', 'cases.created_day')
        .orderBy([{ column: 'cases.created_day', order: 'desc' }, 'cases.id'])
        .limit(500);
      return rows.map((r) => ({ caseId: r.id, handle: r.handle, createdDay: r.created_day }));
    },

    async advocatesMayRead(caseId: string): Promise<boolean> {
      const row = await db('cases').where({ id: caseId }).select('advocates_may_read').first();
      return Boolean(row?.advocates_may_read);
    },

    /** A new draft, numbered after the case's last one; open older drafts are superseded. */
    async insertDraft(trx: Db, d: { id: string; caseId: string; envelopeId: number; authorId: string; day: string }): Promise<number> {
      const [{ last }] = await trx('drafts').where({ case_id: d.caseId }).max({ last: 'version' });
      const version = Number(last ?? 0) + 1;
      await trx('drafts')
        .where({ case_id: d.caseId })
        .whereIn('status', OPEN_DRAFT_STATUSES)
        .update({ status: 'superseded', updated_day: d.day });
      await trx('drafts').insert({
        id: d.id,
        case_id: d.caseId,
        envelope_id: d.envelopeId,
        author_id: d.authorId,
        version,
        status: 'proposed',
        created_day: d.day,
        updated_day: d.day,
      });
      return version;
    },

    async draftExists(draftId: string): Promise<boolean> {
      return Boolean(await db('drafts').where({ id: draftId }).first());
    },

    async draft(draftId: string): Promise<DraftRecord | undefined> {
      const row: DraftRow | undefined = await db('drafts').where({ id: draftId }).first();
      return row && draftFromRow(row);
    },

    async draftsOf(caseIds: string[]): Promise<
      (DraftRecord & {
        author: string | null;
        publication: { alias: string; publishedDay: string } | null;
        takedown: { alias: string; reason: string; day: string } | null;
      })[]
    > {
      if (caseIds.length === 0) return [];
      const rows: (DraftRow & {
        author: string | null;
        alias: string | null;
        published_day: string | null;
        taken_alias: string | null;
        takedown_reason: string | null;
        taken_day: string | null;
      })[] = await db('drafts')
        .leftJoin('staff', 'staff.id', 'drafts.author_id')
        .leftJoin('publications', function () {
          this.on('publications.draft_id', '=', 'drafts.id').andOnNull('publications.revoked_day');
        })
        .leftJoin('publications as taken', function () {
          this.on('taken.draft_id', '=', 'drafts.id').andOnNotNull('taken.takedown_reason');
        })
        .whereIn('drafts.case_id', caseIds)
        .select(
          'drafts.*',
          'staff.username as author',
          'publications.alias',
          'publications.published_day',
          'taken.alias as taken_alias',
          'taken.takedown_reason',
          'taken.revoked_day as taken_day',
        )
        .orderBy([{ column: 'drafts.case_id' }, { column: 'drafts.version', order: 'asc' }]);
      return rows.map((r) => ({
        ...draftFromRow(r),
        author: r.author,
        publication: r.alias ? { alias: r.alias, publishedDay: r.published_day! } : null,
        takedown: r.taken_alias ? { alias: r.taken_alias, reason: r.takedown_reason!, day: r.taken_day! } : null,
      }));
    },

    async setDraftStatus(trx: Db, draftId: string, status: DraftStatus, day: string): Promise<void> {
      await trx('drafts').where({ id: draftId }).update({ status, updated_day: day });
    },

    /**
     * Moves a draft to `status` only from one of `from`, in one statement: whether it moved.
     * Approving and publishing check the draft's status before their transaction; a revocation,
     * a newer draft or an erasure that came in between must win, not be overwritten.
     */
    async moveDraftStatus(trx: Db, draftId: string, from: DraftStatus[], status: DraftStatus, day: string): Promise<boolean> {
      const moved = await trx('drafts').where({ id: draftId }).whereIn('status', from).update({ status, updated_day: day });
      return Number(moved) === 1;
    },

    /**
     * The survivor asked for changes: the draft waits on them, with their request (an envelope).
     * Only from `proposed`, in one statement, so that a newer draft or a publication that came in
     * between is not undone: whether it moved.
     */
    async requestChanges(trx: Db, draftId: string, changesEnvelopeId: number, day: string): Promise<boolean> {
      const moved = await trx('drafts')
        .where({ id: draftId, status: 'proposed' })
        .update({ status: 'changes_requested', changes_envelope_id: changesEnvelopeId, updated_day: day });
      return Number(moved) === 1;
    },

    async insertConsent(trx: Db, c: { statement: ConsentStatement; sig: string }): Promise<void> {
      await trx('consents').insert({
        draft_id: c.statement.draftId,
        case_id: c.statement.caseId,
        text_hash: c.statement.textHash,
        statement: JSON.stringify(c.statement),
        sig: c.sig,
        issued_day: c.statement.issuedDay,
      });
    },

    async consent(draftId: string): Promise<ConsentRecord | undefined> {
      const r = await db('consents').where({ draft_id: draftId }).first();
      if (!r) return undefined;
      return {
        draftId: r.draft_id,
        caseId: r.case_id,
        textHash: r.text_hash,
        statement: JSON.parse(r.statement),
        sig: r.sig,
        issuedDay: r.issued_day,
        revokedDay: r.revoked_day,
        revoked: r.revoked_day !== null || r.revocation !== null,
      };
    },

    async revokeConsent(trx: Db, r: { statement: RevocationStatement; sig: string; day: string }): Promise<void> {
      await trx('consents')
        .where({ draft_id: r.statement.draftId })
        .update({ revocation: JSON.stringify({ statement: r.statement, sig: r.sig }), revoked_day: r.day });
    },

    async publish(
      trx: Db,
      p: { alias: string; draftId: string; caseId: string; story: PublicStory; month: string; day: string },
    ): Promise<void> {
      await trx('publications').insert({
        alias: p.alias,
        draft_id: p.draftId,
        case_id: p.caseId,
        title: p.story.title,
        text: p.story.text,
        context: p.story.context,
        month: p.month,
        published_day: p.day,
      });
    },

    async aliasExists(alias: string): Promise<boolean> {
      return Boolean(await db('publications').where({ alias }).first());
    },

    /** Takes a draft's story down: its words are erased and its address answers 410 from now on. */
    async unpublishDraft(trx: Db, draftId: string, day: string): Promise<number> {
      return Number(
        await trx('publications')
          .where({ draft_id: draftId })
          .whereNull('revoked_day')
          .update({ title: null, text: null, context: null, revoked_day: day, case_id: null }),
      );
    },

    /** A live publication by its address, with what it hangs from. */
    async publication(
      alias: string,
    ): Promise<{ alias: string; draftId: string | null; caseId: string | null; revokedDay: string | null } | undefined> {
      const r = await db('publications').where({ alias }).first('alias', 'draft_id', 'case_id', 'revoked_day');
      return r && { alias: r.alias, draftId: r.draft_id, caseId: r.case_id, revokedDay: r.revoked_day };
    },

    /**
     * Staff take a story down: its words are erased, its address answers 410 with the reason
     * from now on, and the tombstone keeps the draft (so the survivor sees why) but not the
     * case. 0 if it was not live any more.
     */
    async takeDown(trx: Db, alias: string, reason: string, day: string): Promise<number> {
      return Number(
        await trx('publications')
          .where({ alias })
          .whereNull('revoked_day')
          .update({ title: null, text: null, context: null, revoked_day: day, case_id: null, takedown_reason: reason }),
      );
    },

    /** Before a survivor's cases are deleted: every story of theirs becomes a tombstone with no link back. */
    /**
     * Holds the drafts of these cases until the transaction ends. A publication in flight holds
     * its draft's row from its first statement to its commit, so an erasure that takes these
     * first waits for it, and then sees its story (PostgreSQL; SQLite runs one transaction at a time).
     */
    async lockDraftsOfCases(trx: Db, caseIds: string[]): Promise<void> {
      if (caseIds.length === 0) return;
      await lockRows(trx, trx('drafts').whereIn('case_id', caseIds).select('id'));
    },

    async tombstoneCases(trx: Db, caseIds: string[], day: string): Promise<void> {
      if (caseIds.length === 0) return;
      await trx('publications')
        .whereIn('case_id', caseIds)
        .update({ title: null, text: null, context: null, revoked_day: day, case_id: null, draft_id: null });
    },

    async listStories(filter: { context?: string; page: number }): Promise<{ stories: StorySummary[]; total: number }> {
      const base = db('publications').whereNull('revoked_day');
      if (filter.context) base.where({ context: filter.context });
      const [{ n }] = await base.clone().count<{ n: number | string }[]>({ n: '*' });
      const rows: { alias: string; title: string; text: string; context: string; month: string }[] = await base
        .clone()
        .select('alias', 'title', 'text', 'context', 'month')
        .orderBy([{ column: 'published_day', order: 'desc' }, { column: 'alias' }])
        .limit(STORIES_PAGE_SIZE)
        .offset((filter.page - 1) * STORIES_PAGE_SIZE);
      return { total: Number(n), stories: rows };
    },

    async story(alias: string): Promise<StoryLookup | undefined> {
      const r = await db('publications').where({ alias }).first();
      if (!r) return undefined;
      if (r.revoked_day) return { state: 'gone', takedownReason: r.takedown_reason ?? null };
      return { state: 'live', story: { alias: r.alias, title: r.title, text: r.text, context: r.context, month: r.month } };
    },

    async statistics(): Promise<StatisticsCounts> {
      return {
        byContext: await countBy('context'),
        byMonth: await countBy('month'),
        byYear: await countBy('year'),
        byProvince: await countBy('province'),
      };
    },
  };
}
export type PublishingRepo = ReturnType<typeof publishingRepo>;
