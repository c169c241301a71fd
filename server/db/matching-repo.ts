/**
 * The matching escrow's rows (migrations/010_matching.ts): tags, sealed entries and whose they
 * are; and the daily counts of OPRF evaluations. A match is a tag held, under one key version,
 * by two or more distinct survivors.
 */
import type { Knex } from 'knex';
import type { SealedMatchEntry } from '../../protocol/matching';
import { isPostgres, lockRows, rowsOf, type Db } from './database';

/**
 * PostgreSQL advisory lock class ("mtch") for entries of one tag (`lockTag`); the two-key form
 * keeps it apart from the keyset's one-key lock (keyset-repo.ts).
 */
const PG_TAG_LOCK = 0x6d746368;

export interface MatchEntryRecord {
  id: string;
  survivorId: string;
  tag: string;
  keyVersion: number;
  sealed: SealedMatchEntry;
  createdDay: string;
}

interface Row {
  id: string;
  survivor_id: string;
  tag: string;
  key_version: number | string;
  sealed: string;
  created_day: string;
}

const fromRow = (r: Row): MatchEntryRecord => ({
  id: r.id,
  survivorId: r.survivor_id,
  tag: r.tag,
  keyVersion: Number(r.key_version),
  sealed: JSON.parse(r.sealed) as SealedMatchEntry,
  createdDay: r.created_day,
});

export function matchingRepo(db: Db) {
  return {
    /**
     * Another survivor's entries with this tag under this key version: with hers, a match. A
     * subquery for the caller's statement (queuing the match alert), never run on its own.
     */
    /**
     * First thing before an entry with this tag is written. On PostgreSQL (READ COMMITTED), two
     * survivors adding the same tag at once would each look for the other's row before it was
     * committed, and neither would queue the match alert; with this lock the second waits for the
     * first to commit and then sees it. It runs whether or not there is a match. SQLite needs
     * none: its one connection runs one transaction at a time.
     */
    async lockTag(trx: Db, tag: string, keyVersion: number): Promise<void> {
      if (isPostgres(trx)) await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [PG_TAG_LOCK, `${keyVersion}:${tag}`]);
    },
    heldByAnother(trx: Db, tag: string, keyVersion: number, survivorId: string): Knex.QueryBuilder {
      return trx('matching_entries').where({ tag, key_version: keyVersion }).whereNot('survivor_id', survivorId).select('id');
    },
    async insert(trx: Db, e: MatchEntryRecord): Promise<void> {
      await trx('matching_entries').insert({
        id: e.id,
        survivor_id: e.survivorId,
        tag: e.tag,
        key_version: e.keyVersion,
        sealed: JSON.stringify(e.sealed),
        created_day: e.createdDay,
      });
    },

    async ofSurvivor(survivorId: string): Promise<MatchEntryRecord[]> {
      return (await db('matching_entries').where({ survivor_id: survivorId }).orderBy('id')).map(fromRow);
    },

    /**
     * How many entries the survivor keeps, for the cap (MAX_MATCH_ENTRIES). Locks her row first,
     * so that two additions of hers count one after the other (on PostgreSQL; SQLite runs one
     * transaction at a time anyway); it runs for every addition, match or not.
     */
    async countOfSurvivor(trx: Db, survivorId: string): Promise<number> {
      await lockRows(trx, trx('survivors').where({ id: survivorId }).select('id'));
      const [row] = await trx('matching_entries').where({ survivor_id: survivorId }).count({ n: '*' });
      return Number(row.n);
    },

    async ownEntry(survivorId: string, id: string): Promise<MatchEntryRecord | undefined> {
      const row = await db('matching_entries').where({ id, survivor_id: survivorId }).first();
      return row && fromRow(row);
    },

    /** Replaces a tag and its sealed entry (a re-derivation under the new key): the day stays the day it was named. */
    async replace(trx: Db, id: string, e: Pick<MatchEntryRecord, 'tag' | 'keyVersion' | 'sealed'>): Promise<void> {
      await trx('matching_entries')
        .where({ id })
        .update({ tag: e.tag, key_version: e.keyVersion, sealed: JSON.stringify(e.sealed) });
    },

    async remove(trx: Db, id: string): Promise<void> {
      await trx('matching_entries').where({ id }).delete();
    },

    /**
     * Every entry whose (key version, tag) is held by at least two distinct survivors, with the
     * handle of the survivor who filed it; ordered by tag, then entry.
     */
    async matches(): Promise<(MatchEntryRecord & { handle: string })[]> {
      const shared = db('matching_entries')
        .select('key_version', 'tag')
        .groupBy('key_version', 'tag')
        .havingRaw('COUNT(DISTINCT survivor_id) >= 2');
      const rows = await db('matching_entries as e')
        .join('survivors as s', 's.id', 'e.survivor_id')
        .join(shared.as('m'), function () {
          this.on('m.key_version', '=', 'e.key_version').andOn('m.tag', '=', 'e.tag');
        })
        .select('e.*', 's.handle')
        .orderBy([{ column: 'e.key_version' }, { column: 'e.tag' }, { column: 'e.created_day' }, { column: 'e.id' }]);
      return (rows as (Row & { handle: string })[]).map((r) => ({ ...fromRow(r), handle: r.handle }));
    },

    /** Deletes the evaluation counts of days before `day` (the sweeper, in an erasure). Returns how many. */
    async purgeEvaluationsBefore(trx: Db, day: string): Promise<number> {
      return Number(await trx('matching_evaluations').where('day', '<', day).delete());
    },

    async evaluationsToday(counter: string, day: string): Promise<number> {
      const row = await db('matching_evaluations').where({ counter, day }).first();
      return row ? Number(row.count) : 0;
    },

    /**
     * Counts one more evaluation for each counter today and returns the new counts, in one
     * statement per counter (no read-then-write race between instances). The caller's
     * transaction rolls back the counts of a refused request. Earlier days' counts are deleted
     * on the way: only today's are needed.
     */
    async countEvaluations(trx: Db, counters: string[], day: string, by: number): Promise<number[]> {
      await this.purgeEvaluationsBefore(trx, day);
      const counts: number[] = [];
      for (const counter of counters) {
        const [row] = rowsOf<{ count: number | string }>(
          await trx.raw(
            `INSERT INTO matching_evaluations (counter, day, count) VALUES (?, ?, ?)
             ON CONFLICT (counter, day) DO UPDATE SET count = matching_evaluations.count + excluded.count
             RETURNING count`,
            [counter, day, by],
          ),
        );
        counts.push(Number(row.count));
      }
      return counts;
    },
  };
}
export type MatchingRepo = ReturnType<typeof matchingRepo>;
