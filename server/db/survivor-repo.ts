/** Survivors: public keys and a random handle, nothing else. */
import { accepted, Batcher } from './batcher';
import type { Db } from './database';

export interface SurvivorRecord {
  id: string;
  handle: string;
  signPk: string;
  boxPk: string;
}

const KNOWN_SURVIVORS_LIMIT = 10_000;

export function survivorRepo(db: Db) {
  const fromRow = (r: { id: string; handle: string; sign_pk: string; box_pk: string }): SurvivorRecord => ({
    id: r.id,
    handle: r.handle,
    signPk: r.sign_pk,
    boxPk: r.box_pk,
  });
  /** Lookups by id that arrive together are one query (every survivor request makes one). */
  const byIds = new Batcher<string, SurvivorRecord | undefined>(async (ids) => {
    const rows: { id: string; handle: string; sign_pk: string; box_pk: string }[] = await db('survivors').whereIn('id', [...new Set(ids)]);
    const found = new Map(rows.map((r) => [r.id, fromRow(r)]));
    return ids.map((id) => accepted(found.get(id)));
  }, 256);
  /**
   * Public keys by id, kept once read: a survivor's keys never change. Whether the survivor
   * still exists is not known from here; the testimony writer checks it inside its transaction
   * (`existing`), so an account erased meanwhile, here or on another instance, writes nothing.
   */
  const known = new Map<string, SurvivorRecord>();
  return {
    async keysOf(id: string): Promise<SurvivorRecord | undefined> {
      const hit = known.get(id);
      if (hit) return hit;
      const found = await byIds.run(id);
      if (found) {
        if (known.size >= KNOWN_SURVIVORS_LIMIT) known.delete(known.keys().next().value as string);
        known.set(id, found);
      }
      return found;
    },
    /** Which of these survivors still exist, read inside the caller's transaction. */
    async existing(trx: Db, ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows: { id: string }[] = await trx('survivors')
        .whereIn('id', [...new Set(ids)])
        .select('id');
      return new Set(rows.map((r) => r.id));
    },
    async bySignPk(signPk: string): Promise<SurvivorRecord | undefined> {
      const row = await db('survivors').where({ sign_pk: signPk }).first();
      return row && fromRow(row);
    },
    byId(id: string): Promise<SurvivorRecord | undefined> {
      return byIds.run(id);
    },
    async existsWithKeys(signPk: string, boxPk: string): Promise<boolean> {
      return Boolean(await db('survivors').where({ sign_pk: signPk }).orWhere({ box_pk: boxPk }).first());
    },
    /** Deletes the survivor; their cases, envelopes, keys, grants, drafts, consents and statistics go with them (ON DELETE CASCADE). */
    async erase(trx: Db, id: string): Promise<void> {
      known.delete(id);
      await trx('survivors').where({ id }).delete();
    },
    async insert(trx: Db, s: SurvivorRecord, day: string): Promise<void> {
      await trx('survivors').insert({
        id: s.id,
        handle: s.handle,
        sign_pk: s.signPk,
        box_pk: s.boxPk,
        created_day: day,
        last_visit_day: day,
      });
    },
    /** The survivor logged in today: retention counts from this day (a UTC day, never a time); one write a day at most. */
    async recordVisit(id: string, day: string): Promise<void> {
      await db('survivors')
        .where({ id })
        .where((q) => {
          q.whereNull('last_visit_day').orWhere('last_visit_day', '<', day);
        })
        .update({ last_visit_day: day });
    },
  };
}
export type SurvivorRepo = ReturnType<typeof survivorRepo>;
