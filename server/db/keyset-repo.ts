/** Signed keysets, append-only: the current one is the highest version. */
import type { SignedKeyset } from '../../protocol';
import type { Db } from './database';

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
