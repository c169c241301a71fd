/** Signed keysets, append-only: the current one is the highest version. */
import type { SignedKeyset } from '../../protocol';
import { isPostgres, type Db } from './database';

/**
 * PostgreSQL advisory lock key ("keys") that a keyset publication takes alone and every write
 * of wrapped keys or grants shares (`holdOffPublications`, `lockForPublication`).
 */
const PG_KEYSET_LOCK = 0x6b657973;

export function keysetRepo(db: Db) {
  /** Versions already read: a keyset never changes once stored, so it can be kept. */
  const byVersion = new Map<number, SignedKeyset>();
  return {
    /**
     * The keyset of this version, from memory after the first read. It may no longer be the
     * current one: a writer checks `currentVersion` inside its transaction.
     */
    async ofVersion(version: number): Promise<SignedKeyset | undefined> {
      const known = byVersion.get(version);
      if (known) return known;
      const row = await db('keysets').where({ version }).first();
      if (!row) return undefined;
      const signed = JSON.parse(row.signed) as SignedKeyset;
      byVersion.set(version, signed);
      return signed;
    },
    /** The highest version read so far (a newer one may exist, on this instance or another). */
    newestKnownVersion(): number {
      let newest = 0;
      for (const v of byVersion.keys()) newest = Math.max(newest, v);
      return newest;
    },
    /** The current version, read inside the caller's transaction; undefined before setup. */
    async currentVersion(trx: Db): Promise<number | undefined> {
      const row = await trx('keysets').max({ version: 'version' }).first();
      return row?.version == null ? undefined : Number(row.version);
    },
    /**
     * First thing inside a transaction that writes wrapped keys or grants, before the recheck
     * of the keyset version (or of the grant's recipient): on PostgreSQL, waits for a keyset
     * publication in flight, then keeps the next one from committing (or erasing a removed
     * member's keys) until this transaction ends; without it, under READ COMMITTED, a removal
     * could commit between the recheck and the insert, and its erasure would not see the new
     * rows. A shared advisory lock: writers do not wait for one another. SQLite needs none:
     * its one connection runs one transaction at a time.
     */
    async holdOffPublications(trx: Db): Promise<void> {
      if (isPostgres(trx)) await trx.raw('SELECT pg_advisory_xact_lock_shared(?)', [PG_KEYSET_LOCK]);
    },
    /**
     * First thing inside a keyset publication's transaction: waits for every write of keys or
     * grants in flight (their rows are then visible to its erasure), and makes new ones wait
     * for it (they then see the new version, or the removed member, and are refused).
     */
    async lockForPublication(trx: Db): Promise<void> {
      if (isPostgres(trx)) await trx.raw('SELECT pg_advisory_xact_lock(?)', [PG_KEYSET_LOCK]);
    },
    async current(): Promise<SignedKeyset | undefined> {
      const row = await db('keysets').orderBy('version', 'desc').first();
      return row && (JSON.parse(row.signed) as SignedKeyset);
    },
    /** Every version, oldest first: readers verify the whole chain. */
    async history(): Promise<SignedKeyset[]> {
      const rows: { signed: string }[] = await db('keysets').orderBy('version', 'asc');
      return rows.map((r) => JSON.parse(r.signed) as SignedKeyset);
    },
    async insert(trx: Db, signed: SignedKeyset, hash: string, day: string): Promise<void> {
      await trx('keysets').insert({ version: signed.keyset.version, signed: JSON.stringify(signed), hash, created_day: day });
    },
  };
}
export type KeysetRepo = ReturnType<typeof keysetRepo>;
