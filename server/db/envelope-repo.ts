/**
 * Envelopes of a case (testimony, thread messages, staff notes), their wrapped keys (one row
 * each, erasable) and re-wrap grants. The envelope body is stored as signed, minus the keys.
 */
import crypto from 'node:crypto';
import { keyId, type AnyKeyGrant, type Envelope, type RecipientKey, type VerifiedEnvelope } from '../../protocol';
import type { Knex } from 'knex';
import type { Db } from './database';

export interface EnvelopeRow {
  id: number;
  caseId: string;
  kind: string;
  seq: number | null;
  hash: string;
  fromStaff: boolean;
  day: string;
  envelope: Envelope;
}

interface RawRow {
  id: number;
  case_id: string;
  kind: string;
  seq: number | null;
  hash: string;
  from_staff: number | boolean;
  created_day: string;
  body: string;
}

/** An envelope without its body: what a granter needs (issue 17). */
export interface EnvelopeSummary {
  id: number;
  caseId: string;
  kind: string;
  /** envelopeHash, as the server computed it when the envelope was submitted */
  hash: string;
}
type SummaryRow = Pick<RawRow, 'id' | 'case_id' | 'kind' | 'hash'>;
const SUMMARY_COLUMNS = ['envelopes.id', 'envelopes.case_id', 'envelopes.kind', 'envelopes.hash'];
const summaryOf = (r: SummaryRow): EnvelopeSummary => ({ id: Number(r.id), caseId: r.case_id, kind: r.kind, hash: r.hash });

/** What a case's thread holds, in seq order; notes and drafts live beside it. */
const THREAD_KINDS = ['testimony', 'message'];

export interface NewEnvelope {
  envelope: Envelope;
  verified: VerifiedEnvelope;
  seq: number | null;
  fromStaff: boolean;
  day: string;
}

const KEY_ROWS_PER_INSERT = 400;

/**
 * The highest envelope id drawn: within PostgreSQL's `integer` and the API's `dbInteger(1)`
 * (2^31 - 1), and below 10^9 so that no id reads as a time of this century in epoch seconds
 * (test/integration/privacy.test.ts flags such numbers in survivor tables). 30 bits: a second
 * draw is needed once in 10^9 / (envelopes stored) inserts.
 */
export const MAX_ENVELOPE_ID = 999_999_999;

/**
 * A new envelope's id, drawn at random from [1, MAX_ENVELOPE_ID]: ids that counted up across
 * every case would tell in which order a survivor's message and staff actions of exact,
 * audited times were written (SECURITY.md, "the order of messages across cases").
 */
export const randomEnvelopeId = (): number => crypto.randomInt(1, MAX_ENVELOPE_ID + 1);

/** How many times an envelope's id is drawn before the insert gives up (with a million envelopes stored, a second draw is a one in a thousand event). */
const ID_DRAWS = 8;

/**
 * Where each new envelope stands in its case (0 for the first): the order of a case's notes,
 * which have no seq, and of everything in it, now that ids are random. A testimony opens its
 * case: 0. Any other envelope alone in the list for its case: one past the case's last, read in
 * the insert itself (no extra statement). Several of one case (only seeding scripts write
 * those): one read of the cases' last positions, then numbers in list order, which stay right
 * when a collision makes some of them go in a later statement.
 */
async function positionsOf(trx: Db, list: NewEnvelope[]): Promise<(number | Knex.QueryBuilder)[]> {
  const caseIds = list.map((e) => e.envelope.caseId);
  const distinct = [...new Set(caseIds)];
  if (distinct.length === list.length)
    return list.map((e) =>
      e.envelope.kind === 'testimony'
        ? 0
        : trx('envelopes')
            .where('case_id', e.envelope.caseId)
            .select(trx.raw('coalesce(max(??), -1) + 1', ['position_in_case'])),
    );
  const rows: { case_id: string; last: number | string | null }[] = await trx('envelopes')
    .whereIn('case_id', distinct)
    .groupBy('case_id')
    .select('case_id')
    .max({ last: 'position_in_case' });
  const next = new Map(rows.map((r) => [r.case_id, r.last === null ? 0 : Number(r.last) + 1]));
  return caseIds.map((caseId) => {
    const position = next.get(caseId) ?? 0;
    next.set(caseId, position + 1);
    return position;
  });
}

/**
 * Inserts the envelopes under random ids, then all their key rows in one statement. An id
 * already taken is skipped by the insert (`on conflict do nothing`) and only those envelopes
 * are drawn again, so a collision costs one more statement and fails nobody. The ids come
 * back with each row's hash, which is unique, so they are matched to the envelopes whatever
 * order the engine returns them in. Envelopes with the same hash go one at a time.
 */
async function insertEnvelopes(trx: Db, list: NewEnvelope[], drawId: () => number): Promise<number[]> {
  if (list.length === 0) return [];
  if (new Set(list.map((e) => e.verified.hash)).size < list.length) {
    const ids: number[] = [];
    for (const e of list) ids.push(...(await insertEnvelopes(trx, [e], drawId)));
    return ids;
  }
  const positions = await positionsOf(trx, list);
  const positionOf = new Map(list.map((e, i) => [e, positions[i]]));
  const idOf = new Map<string, number>();
  for (let draw = 0; idOf.size < list.length; draw++) {
    if (draw === ID_DRAWS) throw new Error(`envelopes: no free id in ${ID_DRAWS} draws`);
    const left = list.filter((e) => !idOf.has(e.verified.hash));
    const inserted: { id: number | string; hash: string }[] = await trx('envelopes')
      .insert(
        left.map((e) => {
          const { keys: _keys, ...body } = e.envelope;
          return {
            id: drawId(),
            case_id: e.envelope.caseId,
            kind: e.envelope.kind,
            body: JSON.stringify(body),
            created_day: e.day,
            seq: e.seq,
            position_in_case: positionOf.get(e),
            hash: e.verified.hash,
            from_staff: e.fromStaff,
          };
        }),
      )
      .onConflict('id')
      .ignore()
      .returning(['id', 'hash']);
    for (const r of inserted) idOf.set(r.hash, Number(r.id));
  }
  const ids = list.map((e) => idOf.get(e.verified.hash)!);
  const keyRows = list.flatMap((e, i) =>
    e.envelope.keys.map((k, position) => ({
      envelope_id: ids[i],
      position,
      kid: k.kid,
      epk: k.epk,
      wrapped: k.wrapped,
      digest: e.verified.keyDigests[position],
    })),
  );
  // knex writes a multi-row insert on SQLite as a compound SELECT, of at most 500 parts.
  for (let at = 0; at < keyRows.length; at += KEY_ROWS_PER_INSERT)
    await trx('envelope_keys').insert(keyRows.slice(at, at + KEY_ROWS_PER_INSERT));
  return ids;
}

/** `drawId`: where new ids come from; tests pass one that repeats an id, to force a collision. */
export function envelopeRepo(db: Db, drawId: () => number = randomEnvelopeId) {
  const openToAdvocates = () => db('cases').where('advocates_may_read', true).select('id');
  /** Reassembles envelopes with their keys, in the order the signature lists them. */
  async function withKeys(rows: RawRow[]): Promise<EnvelopeRow[]> {
    if (rows.length === 0) return [];
    const keyRows: { envelope_id: number; position: number; kid: string; epk: string | null; wrapped: string | null; digest: string }[] =
      await db('envelope_keys')
        .whereIn(
          'envelope_id',
          rows.map((r) => r.id),
        )
        .orderBy(['envelope_id', 'position']);
    const keysOf = new Map<number, RecipientKey[]>();
    for (const k of keyRows) {
      const list = keysOf.get(k.envelope_id) ?? [];
      list.push(k.epk && k.wrapped ? { kid: k.kid, epk: k.epk, wrapped: k.wrapped } : { kid: k.kid, digest: k.digest });
      keysOf.set(k.envelope_id, list);
    }
    return rows.map((r) => {
      const { signer, sig, ...rest } = JSON.parse(r.body) as Omit<Envelope, 'keys'>;
      return {
        id: r.id,
        caseId: r.case_id,
        kind: r.kind,
        seq: r.seq,
        hash: r.hash,
        fromStaff: Boolean(r.from_staff),
        day: r.created_day,
        envelope: { ...rest, keys: keysOf.get(r.id) ?? [], signer, sig },
      };
    });
  }

  /** The query behind unreadableBy and unreadableHashes: a page of envelopes `boxPk` cannot open, and their count when asked. */
  async function unreadablePage(
    boxPk: Uint8Array,
    after: number,
    limit: number,
    scope: 'all' | 'advocate',
    countTotal: boolean,
    columns: string | string[],
  ): Promise<{ total?: number; rows: (RawRow | SummaryRow)[] }> {
    const kid = keyId(boxPk);
    const base = db('envelopes');
    if (scope === 'advocate') {
      // A builder callback adds conditions to its argument and returns nothing (returning the
      // builder would read as a promise handed to a function that ignores it).
      base.where((q) => {
        q.where('envelopes.kind', 'draft').orWhere((t) => {
          t.where('envelopes.kind', 'testimony').whereIn('envelopes.case_id', openToAdvocates());
        });
      });
    }
    base
      .whereNotExists(
        db('envelope_keys')
          .whereRaw('envelope_keys.envelope_id = envelopes.id')
          .where('envelope_keys.kid', kid)
          .whereNotNull('envelope_keys.wrapped'),
      )
      .whereNotExists(db('envelope_grants').whereRaw('envelope_grants.envelope_id = envelopes.id').where('envelope_grants.kid', kid));
    // Counting scans every envelope: a caller paging through asks for it once (issue 17).
    // Pages follow the id: random since migration 016, so an arbitrary but stable order.
    const total = countTotal ? Number((await base.clone().count<{ n: number | string }[]>({ n: '*' }))[0].n) : undefined;
    const rows: (RawRow | SummaryRow)[] = await base
      .clone()
      .where('envelopes.id', '>', after)
      .select(columns)
      .orderBy('envelopes.id')
      .limit(limit);
    return { total, rows };
  }

  return {
    /** Stores an envelope that verifyEnvelope accepted, with the hash and key digests it computed. */
    async insert(trx: Db, e: NewEnvelope): Promise<number> {
      const [id] = await insertEnvelopes(trx, [e], drawId);
      return id;
    },
    /** The batch form of insert: two statements for any number of envelopes (one more per round of taken ids); their ids, in order. */
    insertMany: (trx: Db, list: NewEnvelope[]): Promise<number[]> => insertEnvelopes(trx, list, drawId),

    /** The case's thread (testimony and messages, by seq) and, for staff, its notes (in the order written). */
    async ofCase(caseId: string, opts: { notes: boolean }): Promise<{ thread: EnvelopeRow[]; notes: EnvelopeRow[] }> {
      // Ids are random: position_in_case orders what has no seq (two notes written at the same
      // moment on PostgreSQL may share a position; the id then settles their order).
      const rows: RawRow[] = await db('envelopes')
        .where({ case_id: caseId })
        .orderBy([
          { column: 'seq', order: 'asc' },
          { column: 'position_in_case', order: 'asc' },
          { column: 'id', order: 'asc' },
        ]);
      // Drafts are not part of the thread: they come with their drafts (publishing-repo).
      const all = await withKeys(rows.filter((r) => THREAD_KINDS.includes(r.kind) || (r.kind === 'note' && opts.notes)));
      return { thread: all.filter((r) => THREAD_KINDS.includes(r.kind)), notes: all.filter((r) => r.kind === 'note') };
    },

    async threadsOfCases(caseIds: string[]): Promise<EnvelopeRow[]> {
      if (caseIds.length === 0) return [];
      return withKeys(
        await db('envelopes')
          .whereIn('case_id', caseIds)
          .whereIn('kind', THREAD_KINDS)
          .orderBy([{ column: 'seq', order: 'asc' }]),
      );
    },

    async byIds(ids: number[]): Promise<Map<number, EnvelopeRow>> {
      if (ids.length === 0) return new Map();
      const rows = await withKeys(await db('envelopes').whereIn('id', ids));
      return new Map(rows.map((r) => [r.id, r]));
    },

    async head(caseId: string): Promise<{ seq: number; hash: string } | undefined> {
      const row = await db('envelopes').where({ case_id: caseId }).whereNotNull('seq').orderBy('seq', 'desc').first();
      return row && { seq: Number(row.seq), hash: row.hash };
    },

    async byId(id: number): Promise<EnvelopeRow | undefined> {
      const rows: RawRow[] = await db('envelopes').where({ id });
      return (await withKeys(rows))[0];
    },

    /** Grants addressed to one reader, by envelope id. */
    async grantsFor(envelopeIds: number[], kid: string): Promise<Map<number, AnyKeyGrant[]>> {
      const out = new Map<number, AnyKeyGrant[]>();
      if (envelopeIds.length === 0) return out;
      const rows: { envelope_id: number; body: string }[] = await db('envelope_grants').whereIn('envelope_id', envelopeIds).where({ kid });
      for (const r of rows) out.set(r.envelope_id, [...(out.get(r.envelope_id) ?? []), JSON.parse(r.body)]);
      return out;
    },

    /** Envelopes that a reader (by box key) can open neither directly nor through a grant: how many, and a page after an id. */
    async unreadableBy(
      boxPk: Uint8Array,
      after: number,
      limit: number,
      scope: 'all' | 'advocate' = 'all',
      countTotal = true,
    ): Promise<{ total?: number; items: EnvelopeRow[] }> {
      const { total, rows } = await unreadablePage(boxPk, after, limit, scope, countTotal, 'envelopes.*');
      return { total, items: await withKeys(rows as RawRow[]) };
    },

    /** unreadableBy without the envelopes: their ids, cases and stored hashes (a granter needs no ciphertext, issue 17). */
    async unreadableHashes(
      boxPk: Uint8Array,
      after: number,
      limit: number,
      scope: 'all' | 'advocate',
      countTotal: boolean,
    ): Promise<{ total?: number; items: EnvelopeSummary[] }> {
      const { total, rows } = await unreadablePage(boxPk, after, limit, scope, countTotal, SUMMARY_COLUMNS);
      return { total, items: rows.map(summaryOf) };
    },

    /** Ids, cases, kinds and stored hashes of these envelopes, by id. */
    async summaries(ids: number[]): Promise<Map<number, EnvelopeSummary>> {
      if (ids.length === 0) return new Map();
      const rows: SummaryRow[] = await db('envelopes').whereIn('id', ids).select(SUMMARY_COLUMNS);
      return new Map(rows.map((r) => [Number(r.id), summaryOf(r)]));
    },

    /** One reader's own key entries in these envelopes (not erased), by envelope id. */
    async keysFor(envelopeIds: number[], kid: string): Promise<Map<number, { kid: string; epk: string; wrapped: string }>> {
      if (envelopeIds.length === 0) return new Map();
      const rows: { envelope_id: number; epk: string; wrapped: string }[] = await db('envelope_keys')
        .whereIn('envelope_id', envelopeIds)
        .where({ kid })
        .whereNotNull('wrapped')
        .select('envelope_id', 'epk', 'wrapped');
      return new Map(rows.map((r) => [Number(r.envelope_id), { kid, epk: r.epk, wrapped: r.wrapped }]));
    },

    /** Whether advocates may read an envelope: a draft, or the testimony of a case its survivor opened to them. */
    async advocatesMayRead(row: Pick<EnvelopeRow, 'kind' | 'caseId'>): Promise<boolean> {
      if (row.kind === 'draft') return true;
      return row.kind === 'testimony' && Boolean(await openToAdvocates().where('id', row.caseId).first());
    },

    async insertGrant(trx: Db, envelopeId: number, grant: AnyKeyGrant): Promise<void> {
      await trx('envelope_grants').insert({ envelope_id: envelopeId, kid: grant.kid, body: JSON.stringify(grant) });
    },

    /** Many grants in few statements (a batch of up to 1,000, issue 17). */
    async insertGrants(trx: Db, rows: { envelopeId: number; grant: AnyKeyGrant }[]): Promise<void> {
      const values = rows.map((r) => ({ envelope_id: r.envelopeId, kid: r.grant.kid, body: JSON.stringify(r.grant) }));
      for (let at = 0; at < values.length; at += KEY_ROWS_PER_INSERT)
        await trx('envelope_grants').insert(values.slice(at, at + KEY_ROWS_PER_INSERT));
    },

    /** Erases the keys and grants of one envelope wrapped to these readers (a survivor withdrawing advocates). */
    async eraseReadersOf(trx: Db, envelopeId: number, kids: string[]): Promise<void> {
      if (kids.length === 0) return;
      await trx('envelope_keys').where({ envelope_id: envelopeId }).whereIn('kid', kids).update({ epk: null, wrapped: null });
      await trx('envelope_grants').where({ envelope_id: envelopeId }).whereIn('kid', kids).delete();
    },

    /** Erases every key wrapped to this reader and every grant to it. Returns how many. */
    async eraseReader(trx: Db, boxPk: Uint8Array): Promise<number> {
      const kid = keyId(boxPk);
      const erased = await trx('envelope_keys').where({ kid }).whereNotNull('wrapped').update({ epk: null, wrapped: null });
      const grants = await trx('envelope_grants').where({ kid }).delete();
      return Number(erased) + Number(grants);
    },
  };
}
export type EnvelopeRepo = ReturnType<typeof envelopeRepo>;
