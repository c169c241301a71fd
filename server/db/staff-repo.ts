/** Staff accounts, their invites and their sessions. */
import type { StaffRole } from '../../protocol';
import type { Db } from './database';

export type StaffStatus = 'pending' | 'active' | 'removed';

export interface StaffRecord {
  id: string;
  username: string;
  roles: StaffRole[];
  status: StaffStatus;
  kdfParams: { alg: 'argon2id'; m: number; t: number; p: number };
  kdfSalt: string;
  authHash: string;
  boxPk: string;
  signPk: string;
  wrappedKeys: string;
}

interface StaffRow {
  id: string;
  username: string;
  roles: string;
  status: StaffStatus;
  kdf_params: string;
  kdf_salt: string;
  auth_hash: string;
  box_pk: string;
  sign_pk: string;
  wrapped_keys: string;
  created_at: number;
}

function fromRow(r: StaffRow): StaffRecord {
  return {
    id: r.id,
    username: r.username,
    roles: JSON.parse(r.roles),
    status: r.status,
    kdfParams: JSON.parse(r.kdf_params),
    kdfSalt: r.kdf_salt,
    authHash: r.auth_hash,
    boxPk: r.box_pk,
    signPk: r.sign_pk,
    wrappedKeys: r.wrapped_keys,
  };
}

export function staffRepo(db: Db) {
  return {
    async byUsername(username: string): Promise<StaffRecord | undefined> {
      const row = await db<StaffRow>('staff').where({ username }).first();
      return row && fromRow(row);
    },
    async byId(id: string): Promise<StaffRecord | undefined> {
      const row = await db<StaffRow>('staff').where({ id }).first();
      return row && fromRow(row);
    },
    async list(): Promise<StaffRecord[]> {
      return (await db<StaffRow>('staff').orderBy('created_at')).map(fromRow);
    },
    async count(): Promise<number> {
      const row = await db('staff').count<{ n: number | string }[]>({ n: '*' }).first();
      return Number(row?.n ?? 0);
    },
    async insert(trx: Db, s: StaffRecord, now: number): Promise<void> {
      await trx('staff').insert({
        id: s.id,
        username: s.username,
        roles: JSON.stringify(s.roles),
        status: s.status,
        kdf_params: JSON.stringify(s.kdfParams),
        kdf_salt: s.kdfSalt,
        auth_hash: s.authHash,
        box_pk: s.boxPk,
        sign_pk: s.signPk,
        wrapped_keys: s.wrappedKeys,
        created_at: now,
      });
    },
    async setStatus(trx: Db, ids: string[], status: StaffStatus): Promise<void> {
      if (ids.length) await trx('staff').whereIn('id', ids).update({ status });
    },
    /** Removed members keep their row (usernames stay unique, the audit log names them) but lose every session. */
    async remove(trx: Db, ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await trx('staff').whereIn('id', ids).update({ status: 'removed' });
      await trx('staff_sessions').whereIn('staff_id', ids).delete();
    },

    // Invites: only the token's hash is stored.
    async createInvite(trx: Db, tokenHash: string, roles: StaffRole[], createdBy: string, expiresAt: number): Promise<void> {
      await trx('staff_invites').insert({
        token_hash: tokenHash,
        roles: JSON.stringify(roles),
        created_by: createdBy,
        expires_at: expiresAt,
      });
    },
    async openInvite(tokenHash: string, now: number): Promise<{ roles: StaffRole[] } | undefined> {
      const row = await db('staff_invites').where({ token_hash: tokenHash }).whereNull('used_by').where('expires_at', '>', now).first();
      return row && { roles: JSON.parse(row.roles) };
    },
    /** Marks the invite used inside the enrolment transaction; false if it was used meanwhile. */
    async consumeInvite(trx: Db, tokenHash: string, staffId: string, now: number): Promise<boolean> {
      const n = await trx('staff_invites')
        .where({ token_hash: tokenHash })
        .whereNull('used_by')
        .where('expires_at', '>', now)
        .update({ used_by: staffId });
      return n === 1;
    },

    // Sessions: a random token in an HttpOnly cookie; only its hash is stored.
    async createSession(tokenHash: string, staffId: string, now: number): Promise<void> {
      await db('staff_sessions').insert({ token_hash: tokenHash, staff_id: staffId, created_at: now, last_seen_at: now });
    },
    async findSession(tokenHash: string): Promise<{ staffId: string; createdAt: number; lastSeenAt: number } | undefined> {
      const row = await db('staff_sessions').where({ token_hash: tokenHash }).first();
      return row && { staffId: row.staff_id, createdAt: Number(row.created_at), lastSeenAt: Number(row.last_seen_at) };
    },
    async touchSession(tokenHash: string, now: number): Promise<void> {
      await db('staff_sessions').where({ token_hash: tokenHash }).update({ last_seen_at: now });
    },
    async deleteSession(tokenHash: string): Promise<void> {
      await db('staff_sessions').where({ token_hash: tokenHash }).delete();
    },
    /**
     * The session's reload key: `fresh` is stored if the session has none yet (one statement,
     * so two tabs asking at once get the same key), then whichever is stored is returned.
     */
    async sessionReloadKey(tokenHash: string, fresh: string): Promise<string | undefined> {
      await db('staff_sessions').where({ token_hash: tokenHash }).whereNull('reload_key').update({ reload_key: fresh });
      const row = await db('staff_sessions').where({ token_hash: tokenHash }).first('reload_key');
      return row?.reload_key ?? undefined;
    },
  };
}
export type StaffRepo = ReturnType<typeof staffRepo>;
