/** The key checks (migrations/015_key_checks.ts): per key file, a keyed hash of a fixed text under it. */
import type { Db } from './database';

export function keyCheckRepo(db: Db) {
  return {
    /** The check stored under `name`, if any. */
    async get(name: string): Promise<string | undefined> {
      const row: { check_value: string } | undefined = await db('key_checks').where({ name }).first('check_value');
      return row?.check_value;
    },
    /** Every name stored, for the matching key's versions. */
    async names(): Promise<string[]> {
      return (await db('key_checks').pluck('name')) as string[];
    },
    /**
     * Stores `value` under `name` unless a check is there already (another instance may have
     * stored one a moment ago), and answers the one stored now.
     */
    async recordIfNew(name: string, value: string): Promise<string> {
      await db('key_checks').insert({ name, check_value: value }).onConflict('name').ignore();
      return (await this.get(name))!;
    },
    async replace(name: string, value: string): Promise<void> {
      await db('key_checks').where({ name }).update({ check_value: value });
    },
  };
}
