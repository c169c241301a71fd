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

export interface StaffSession {
  staffId: string;
  createdAt: number;
  lastSeenAt: number;
  /** the last moment it is live under the timeouts in force at its last use (the current ones may end it sooner) */
  liveUntil: number;
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

/** A pending invite as the admin's list shows it: never its token or the token's hash. */
export interface PendingInviteRow {
  id: string;
  roles: StaffRole[];
  /** the username of the admin who made it */
  createdBy: string;
  expiresAt: number;
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
    /** A member's status as the caller's transaction sees it (a grant's recipient, checked again where it is stored). */
    async statusIn(trx: Db, id: string): Promise<StaffStatus | undefined> {
      const row = await trx<StaffRow>('staff').where({ id }).select('status').first();
      return row?.status;
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
    async createInvite(trx: Db, id: string, tokenHash: string, roles: StaffRole[], createdBy: string, expiresAt: number): Promise<void> {
      await trx('staff_invites').insert({
        id,
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
    /** Invites not used and not expired, soonest to expire first, with who made them. */
    async pendingInvites(now: number): Promise<PendingInviteRow[]> {
      const rows = await db('staff_invites')
        .join('staff', 'staff.id', 'staff_invites.created_by')
        .whereNull('staff_invites.used_by')
        .where('staff_invites.expires_at', '>', now)
        .orderBy([{ column: 'staff_invites.expires_at' }, { column: 'staff_invites.id' }])
        .select('staff_invites.id', 'staff_invites.roles', 'staff.username', 'staff_invites.expires_at');
      return rows.map((r: { id: string; roles: string; username: string; expires_at: number | string }) => ({
        id: r.id,
        roles: JSON.parse(r.roles),
        createdBy: r.username,
        expiresAt: Number(r.expires_at),
      }));
    },
    /**
     * Deletes a pending invite inside the caller's transaction; its roles, or undefined if it
     * was unknown, used or expired. Conditional like consumeInvite, so a revocation and an
     * enrolment racing for the same invite cannot both succeed.
     */
    async revokeInvite(trx: Db, id: string, now: number): Promise<{ roles: StaffRole[] } | undefined> {
      const row = await trx('staff_invites').where({ id }).whereNull('used_by').where('expires_at', '>', now).first('roles');
      if (!row) return undefined;
      const n = await trx('staff_invites').where({ id }).whereNull('used_by').where('expires_at', '>', now).delete();
      return n === 1 ? { roles: JSON.parse(row.roles) } : undefined;
    },
    /** Deletes the pending invites these members made (they are being removed); how many. */
    async deletePendingInvitesBy(trx: Db, staffIds: string[], now: number): Promise<number> {
      if (staffIds.length === 0) return 0;
      return trx('staff_invites').whereIn('created_by', staffIds).whereNull('used_by').where('expires_at', '>', now).delete();
    },
    /**
     * Deletes the invites that expired unused (their token hashes and who made them); how
     * many. Used invites stay: they hold the roles their member was invited with.
     */
    async deleteExpiredInvites(trx: Db, now: number): Promise<number> {
      return Number(await trx('staff_invites').whereNull('used_by').where('expires_at', '<=', now).delete());
    },
    /** The roles each of these members was invited with (the invite they used), by staff id. */
    async invitedRoles(staffIds: string[]): Promise<Map<string, StaffRole[]>> {
      const rows = staffIds.length ? await db('staff_invites').whereIn('used_by', staffIds).select('used_by', 'roles') : [];
      return new Map(rows.map((r: { used_by: string; roles: string }) => [r.used_by, JSON.parse(r.roles) as StaffRole[]]));
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

    // Sessions: a random token in an HttpOnly cookie; only its hash is stored. `liveUntil` is
    // the last moment the session is live under the timeouts in force when it was last used.
    /** In the caller's transaction when given (a sign-in stores its session where it checks the password's hash again). */
    async createSession(tokenHash: string, staffId: string, now: number, liveUntil: number, trx: Db = db): Promise<void> {
      await trx('staff_sessions').insert({
        token_hash: tokenHash,
        staff_id: staffId,
        created_at: now,
        last_seen_at: now,
        live_until: liveUntil,
      });
    },
    async findSession(tokenHash: string): Promise<StaffSession | undefined> {
      const row = await db('staff_sessions').where({ token_hash: tokenHash }).first();
      return (
        row && {
          staffId: row.staff_id,
          createdAt: Number(row.created_at),
          lastSeenAt: Number(row.last_seen_at),
          liveUntil: Number(row.live_until),
        }
      );
    },
    /**
     * Records a successful request at `now`: only forward (a slower request finishing later
     * does not move it back) and only for a session still live at `now`, so a touch never
     * revives one that has ended.
     */
    async touchSession(tokenHash: string, now: number, liveUntil: number): Promise<void> {
      await db('staff_sessions')
        .where({ token_hash: tokenHash })
        .where('last_seen_at', '<=', now)
        .where('live_until', '>=', now)
        .update({ last_seen_at: now, live_until: liveUntil });
    },
    async deleteSession(tokenHash: string): Promise<void> {
      await db('staff_sessions').where({ token_hash: tokenHash }).delete();
    },
    /**
     * Deletes (inside the sweeper's erasure) every session that has ended: past its own end, or
     * past the timeouts in force now. Returns how many.
     */
    async deleteEndedSessions(trx: Db, now: number, timeouts: { idleMs: number; absoluteMs: number }): Promise<number> {
      return trx('staff_sessions')
        .where('live_until', '<', now)
        .orWhere('last_seen_at', '<', now - timeouts.idleMs)
        .orWhere('created_at', '<', now - timeouts.absoluteMs)
        .delete();
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
