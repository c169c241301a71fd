/** The instance row: its id, the fake-salt key, the instance public key and the setup token. */
import nacl from 'tweetnacl';
import { randomId, toBase64url } from '../../protocol';
import type { Db } from './database';

export interface InstanceRow {
  instance_id: string;
  /** keys the fake salts of unknown staff usernames (server/services/staff-sign-in.ts); nothing is signed with it (migrations/013_server_key_file.ts) */
  fake_salt_key: string;
  instance_pk: string | null;
  setup_token_hash: string | null;
  /** when the setup token stops working, milliseconds since the epoch (PostgreSQL's bigint reads back as a string) */
  setup_token_expires_at: number | string | null;
}

export function instanceRepo(db: Db) {
  return {
    /** Creates the instance on first start; later starts read it back. */
    async ensure(today: string): Promise<InstanceRow> {
      const existing = await db<InstanceRow>('instance')
        .where({ id: 1 } as never)
        .first();
      if (existing) return existing;
      await db('instance')
        .insert({ id: 1, instance_id: randomId(), fake_salt_key: toBase64url(nacl.randomBytes(32)), created_day: today })
        .onConflict('id')
        .ignore();
      return (await db<InstanceRow>('instance')
        .where({ id: 1 } as never)
        .first())!;
    },
    /** Stores a new setup token's hash and expiry; an earlier token stops working. */
    async setSetupToken(hash: string, expiresAt: number): Promise<void> {
      await db('instance').where({ id: 1 }).update({ setup_token_hash: hash, setup_token_expires_at: expiresAt });
    },
    async completeSetup(trx: Db, instancePk: string): Promise<void> {
      await trx('instance').where({ id: 1 }).update({ instance_pk: instancePk, setup_token_hash: null, setup_token_expires_at: null });
    },
  };
}
export type InstanceRepo = ReturnType<typeof instanceRepo>;
