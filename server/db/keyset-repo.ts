/** Signed keysets, append-only: the current one is the highest version. */
import type { SignedKeyset } from '../../protocol';
import type { Db } from './database';

export function keysetRepo(db: Db) {
  return {
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
