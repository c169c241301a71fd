/** The instance row: its id, the server secret, the instance public key and the setup token. */
import nacl from 'tweetnacl';
import { randomId, toBase64url } from '../../protocol';
import type { Db } from './database';

export interface InstanceRow {
  instance_id: string;
  server_secret: string;
  instance_pk: string | null;
  setup_token_hash: string | null;
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
        .insert({ id: 1, instance_id: randomId(), server_secret: toBase64url(nacl.randomBytes(32)), created_day: today })
        .onConflict('id')
        .ignore();
      return (await db<InstanceRow>('instance')
        .where({ id: 1 } as never)
        .first())!;
    },
    async setSetupTokenHash(hash: string | null): Promise<void> {
      await db('instance').where({ id: 1 }).update({ setup_token_hash: hash });
    },
    async completeSetup(trx: Db, instancePk: string): Promise<void> {
      await trx('instance').where({ id: 1 }).update({ instance_pk: instancePk, setup_token_hash: null });
    },
  };
}
export type InstanceRepo = ReturnType<typeof instanceRepo>;
