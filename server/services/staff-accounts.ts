/**
 * The staff team: setup of the first admin, invites, enrolment and keyset publication (which
 * activates and removes members), and the admin's session settings, activity view and audit
 * log. The server stores argon2id(authKey) and the staff member's private keys wrapped under a
 * key it never sees. Sessions are the route's: setup and enrolment return the id whose
 * session to start.
 */
import type { z } from 'zod';
import {
  fromBase64url,
  keysetHash,
  randomId,
  verifyKeyset,
  verifyKeysetSuccessor,
  type SignedKeyset,
  type StaffRole,
} from '../../protocol';
import {
  SESSION_SETTING_BOUNDS,
  schemas,
  type AuditPage,
  type EnrolRequest,
  type PendingInviteList,
  type SessionSettings,
  type SetupRequest,
  type StaffActivity,
  type StaffMe,
  type StaffMemberSummary,
} from '../../protocol/api';
import type { AppContext } from '../app';
import type { Db } from '../db/database';
import type { StaffRecord } from '../db/staff-repo';
import { badRequest, conflict, forbidden, HttpError, notFound } from '../http/errors';
import { hashAuthKey } from '../http/staff-credentials';
import { hashToken, randomToken } from '../http/tokens';
import { staffMe } from './presenters';

/** A new member and what to answer, once the caller has started their session. */
export interface NewMember {
  staffId: string;
  answer: StaffMe;
}

const sameRoles = (a: readonly StaffRole[], b: readonly StaffRole[]) => [...a].sort().join() === [...b].sort().join();

const inviteInvalid = (message: string) => new HttpError(410, 'invite_invalid', message);
const INVITE_GONE = 'this invite link has expired, was already used or was revoked; ask the admin for a new one';

/** The first admin, with the keyset that names only them: once, with the setup token. */
export async function setUpFirstAdmin(ctx: AppContext, body: SetupRequest): Promise<NewMember> {
  const { staff, keysets, instance, audit } = ctx.repos;
  const row = await instance.ensure(ctx.clock.today());
  if (row.instance_pk) throw conflict('already_set_up', 'this instance already has an admin');
  if (!row.setup_token_hash || row.setup_token_hash !== hashToken(body.setupToken)) {
    throw forbidden('setupToken is not the current setup token; run `npm run admin -- init` for a new link');
  }
  // The link was printed to the server's output: past its day it may be read from an old log.
  if (row.setup_token_expires_at === null || ctx.clock.now() > Number(row.setup_token_expires_at)) {
    throw new HttpError(
      410,
      'setup_link_expired',
      'this setup link has expired (a link works for 24 hours); restart the server or run `npm run admin -- init` to print a new one',
    );
  }
  if (!body.roles.includes('admin')) throw badRequest('invalid_request', 'roles must include admin');
  const verified = verifyKeyset(body.keyset, { instanceId: ctx.instanceId });
  const ks = verified.keyset;
  const m = ks.members[0];
  if (
    ks.version !== 1 ||
    ks.members.length !== 1 ||
    m.staffId !== body.staffId ||
    m.username !== body.username ||
    m.boxPk !== body.boxPk ||
    m.signPk !== body.signPk ||
    !sameRoles(m.roles, body.roles)
  ) {
    throw badRequest('bad_keyset', 'keyset must be version 1 and list exactly the new admin with the same keys and roles');
  }
  const record = await newStaffRecord(body, { id: body.staffId, roles: body.roles, status: 'active' });
  await ctx.db.transaction(async (trx) => {
    await staff.insert(trx, record, ctx.clock.now());
    await keysets.insert(trx, body.keyset, keysetHash(ks), ctx.clock.today());
    await instance.completeSetup(trx, body.keyset.instancePk);
    // audit: the log starts with the first list of readers
    await audit.record(trx, {
      actorId: record.id,
      action: 'keyset.published',
      subject: null,
      detail: { version: 1, added: [record.id], removed: [] },
    });
  });
  return { staffId: record.id, answer: staffMe(record) };
}

/**
 * First thing inside the transaction of a write a member makes for themselves (an invite,
 * their alert settings, their TOTP, recovery codes or password, a case's status, a read mark),
 * or as an admin or advocate (revoking an invite, resetting a member's second factor, the
 * session and retention settings, a takedown): they were not removed since the guard read
 * their record. A removal that committed meanwhile has already deleted what it erases (their
 * pending invites, their email address and key) and ended their sessions, and this write would
 * outlive it or act after it; on PostgreSQL a removal in flight is waited for, and the next one
 * waits for this write, so that its cleanup sees it (keyset-repo.ts `holdOffPublications`).
 */
export async function requireNotRemoved(ctx: AppContext, trx: Db, me: StaffRecord): Promise<void> {
  await ctx.repos.keysets.holdOffPublications(trx);
  if ((await ctx.repos.staff.statusIn(trx, me.id)) === 'removed')
    throw conflict('member_removed', 'your account was removed from the team meanwhile; nothing was saved');
}

/** An invite link for these roles; only the token's hash is kept. */
export async function createInvite(
  ctx: AppContext,
  me: StaffRecord,
  roles: StaffRole[],
): Promise<{ url: string; roles: StaffRole[]; expiresAt: string }> {
  const { staff, audit } = ctx.repos;
  const token = randomToken(32);
  const expiresAt = ctx.clock.now() + ctx.config.inviteMs;
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    await staff.createInvite(trx, randomId(), hashToken(token), roles, me.id, expiresAt);
    // audit (not the token: nothing in the log can be used as an invite)
    await audit.record(trx, { actorId: me.id, action: 'invite.created', detail: { roles, expiresAt } });
  });
  return { url: `${ctx.config.publicUrl}/invite#${token}`, roles, expiresAt: new Date(expiresAt).toISOString() };
}

/** The invites that can still be used, for the admin's team view. */
export async function listPendingInvites(ctx: AppContext): Promise<PendingInviteList> {
  const rows = await ctx.repos.staff.pendingInvites(ctx.clock.now());
  return { invites: rows.map((r) => ({ ...r, expiresAt: new Date(r.expiresAt).toISOString() })) };
}

/** An admin withdraws an invite before anyone uses it: its link stops working at once. */
export async function revokeInvite(ctx: AppContext, me: StaffRecord, inviteId: string): Promise<{ revoked: true }> {
  const { staff, audit } = ctx.repos;
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    const revoked = await staff.revokeInvite(trx, inviteId, ctx.clock.now());
    if (!revoked) throw notFound('no pending invite with this id: it was already used, has expired or was revoked');
    // audit
    await audit.record(trx, { actorId: me.id, action: 'invite.revoked', detail: { inviteId, roles: revoked.roles } });
  });
  return { revoked: true };
}

/** The roles of an invite that can still be used. */
export async function checkInvite(ctx: AppContext, inviteToken: string): Promise<{ roles: StaffRole[] }> {
  const invite = await ctx.repos.staff.openInvite(hashToken(inviteToken), ctx.clock.now());
  if (!invite) throw inviteInvalid(INVITE_GONE);
  return { roles: invite.roles };
}

/** A staff record from what the member's browser sent at setup or enrolment: the server keeps only the argon2 hash of the auth key. */
async function newStaffRecord(
  body: Pick<EnrolRequest, 'username' | 'kdf' | 'authKey' | 'boxPk' | 'signPk' | 'wrappedKeys'>,
  who: Pick<StaffRecord, 'id' | 'roles' | 'status'>,
): Promise<StaffRecord> {
  return {
    ...who,
    username: body.username,
    kdfParams: body.kdf.params,
    kdfSalt: body.kdf.salt,
    authHash: await hashAuthKey(body.authKey),
    boxPk: body.boxPk,
    signPk: body.signPk,
    wrappedKeys: body.wrappedKeys,
  };
}

/** A pending member from an invite: active once an admin adds them to the keyset. */
export async function enrol(ctx: AppContext, body: EnrolRequest): Promise<NewMember> {
  const { staff, audit } = ctx.repos;
  const tokenHash = hashToken(body.inviteToken);
  const invite = await staff.openInvite(tokenHash, ctx.clock.now());
  if (!invite) throw inviteInvalid(INVITE_GONE);
  if (await staff.byUsername(body.username)) throw conflict('username_taken', 'username is taken; choose another');
  const record = await newStaffRecord(body, { id: randomId(), roles: invite.roles, status: 'pending' });
  await ctx.db.transaction(async (trx) => {
    await staff.insert(trx, record, ctx.clock.now());
    if (!(await staff.consumeInvite(trx, tokenHash, record.id, ctx.clock.now())))
      throw inviteInvalid('this invite link was used meanwhile');
    // audit
    await audit.record(trx, {
      actorId: record.id,
      action: 'staff.enrolled',
      subject: record.id,
      detail: { username: record.username, roles: record.roles },
    });
  });
  return { staffId: record.id, answer: staffMe(record) };
}

export async function listMembers(ctx: AppContext): Promise<{ members: StaffMemberSummary[] }> {
  const members = (await ctx.repos.staff.list()).map((s) => ({
    id: s.id,
    username: s.username,
    roles: s.roles,
    status: s.status,
    boxPk: s.boxPk,
    signPk: s.signPk,
  }));
  return { members };
}

/**
 * An admin resets another member's second factor (a lost phone, no recovery code left): the
 * TOTP secret and recovery codes are erased and every session of the member ends, so their
 * next sign-in, with the password, can only set up TOTP again. An admin cannot reset their
 * own: another admin can; the only admin signs in with a recovery code and makes new ones.
 */
export async function resetMemberTotp(ctx: AppContext, admin: StaffRecord, staffId: string): Promise<{ sessionsEnded: number }> {
  const { staff, security, audit } = ctx.repos;
  if (staffId === admin.id)
    throw conflict(
      'own_account',
      'an admin cannot reset their own two-factor sign-in: ask another admin, or sign in with a recovery code and make new codes under Your account',
    );
  const member = await staff.byId(staffId);
  if (!member || member.status === 'removed') throw notFound('no staff member with this id');
  return ctx.erase(async (trx) => {
    // An admin removed meanwhile must not leave this behind: after a reset the password alone
    // opens the member's enrolment of a new authenticator.
    await requireNotRemoved(ctx, trx, admin);
    if (!(await security.resetTotp(trx, member.id)))
      throw conflict('totp_not_enrolled', `${member.username} has not set up two-factor sign-in, so there is nothing to reset`);
    const sessionsEnded = await security.deleteSessions(trx, member.id);
    await audit.record(trx, {
      actorId: admin.id,
      action: 'staff.totp_reset',
      subject: member.id,
      detail: { username: member.username, sessionsEnded },
    });
    return { sessionsEnded };
  });
}

/**
 * The admin's browser signs the next keyset. The server checks that it extends the current
 * one and names only real staff with their own keys and invited roles; members it adds
 * become active, active members it leaves out are removed and their wrapped keys erased.
 */
export async function publishKeyset(
  ctx: AppContext,
  me: StaffRecord,
  signed: SignedKeyset,
): Promise<{ version: number; added: number; removed: number }> {
  const { staff, keysets, cases, envelopes, audit } = ctx.repos;
  const current = await keysets.current();
  if (!current) throw new HttpError(503, 'not_set_up', 'this instance is not set up');
  const next = verifyKeysetSuccessor(current, signed).keyset;
  const all = new Map((await staff.list()).map((s) => [s.id, s]));
  // A new member's roles are checked against their invite's, not the editable staff row's.
  const invited = await staff.invitedRoles([...all.values()].filter((s) => s.status === 'pending').map((s) => s.id));
  for (const m of next.members) {
    const s = all.get(m.staffId);
    if (!s || s.status === 'removed') throw badRequest('bad_keyset', `keyset member ${m.username} is not a staff member`);
    if (s.username !== m.username || s.boxPk !== m.boxPk || s.signPk !== m.signPk)
      throw badRequest('bad_keyset', `keyset member ${m.username} does not carry that member's own keys`);
    const roles = s.status === 'pending' ? invited.get(s.id) : s.roles;
    if (!roles || !sameRoles(roles, m.roles) || !sameRoles(s.roles, m.roles))
      throw badRequest('bad_keyset', `keyset member ${m.username} must have the roles they were invited with`);
  }
  const listed = new Set(next.members.map((m) => m.staffId));
  if (!listed.has(me.id)) throw badRequest('bad_keyset', 'the keyset must keep the admin who signs it');
  // Every listed member was checked above to be a known member.
  const added = next.members.filter((m) => all.get(m.staffId)?.status === 'pending').map((m) => m.staffId);
  const dropped = [...all.values()].filter((s) => s.status === 'active' && !listed.has(s.id));
  const droppedIds = dropped.map((s) => s.id);
  const update = async (trx: Db) => {
    // First: wait for every write of keys or grants in flight, so the erasure below sees its
    // rows, and make the next ones wait and then find the new version (keyset-repo.ts).
    await keysets.lockForPublication(trx);
    await keysets.insert(trx, signed, keysetHash(next), ctx.clock.today());
    await staff.setStatus(trx, added, 'active');
    // A removed member loses their sessions, their assignments, and every key wrapped to
    // them: what they could read before stays readable only by the others.
    await staff.remove(trx, droppedIds);
    // An invite a removed admin made must not let anyone in after them.
    const invitesRevoked = await staff.deletePendingInvitesBy(trx, droppedIds, ctx.clock.now());
    await cases.unassign(trx, droppedIds);
    await ctx.repos.alerts.forget(trx, droppedIds); // their email address too
    for (const s of dropped) await envelopes.eraseReader(trx, fromBase64url(s.boxPk));
    // audit
    await audit.record(trx, {
      actorId: me.id,
      action: 'keyset.published',
      subject: null,
      detail: { version: next.version, added, removed: droppedIds, invitesRevoked },
    });
  };
  // Removing a member is an erasure: their wrapped keys leave no copy in the files.
  await (dropped.length > 0 ? ctx.erase(update) : ctx.db.transaction(update));
  return { version: next.version, added: added.length, removed: dropped.length };
}

// Admin: session settings, who is active, the audit log. ----------------------------------

export async function sessionSettings(ctx: AppContext): Promise<SessionSettings> {
  const { settings } = ctx.repos;
  const s = await settings.sessionTimeouts();
  return {
    sessionIdleMinutes: s.sessionIdleMinutes,
    sessionAbsoluteHours: s.sessionAbsoluteHours,
    defaults: settings.defaults,
    bounds: SESSION_SETTING_BOUNDS,
  };
}

export async function changeSessionSettings(
  ctx: AppContext,
  me: StaffRecord,
  body: z.infer<typeof schemas.sessionSettings>,
): Promise<SessionSettings> {
  const { settings, audit } = ctx.repos;
  const before = await settings.sessionTimeouts();
  await ctx.db.transaction(async (trx) => {
    await requireNotRemoved(ctx, trx, me);
    await settings.setSessionTimeouts(trx, body);
    await audit.record(trx, {
      actorId: me.id,
      action: 'settings.changed',
      detail: {
        sessionIdleMinutes: body.sessionIdleMinutes,
        sessionAbsoluteHours: body.sessionAbsoluteHours,
        previousIdleMinutes: before.sessionIdleMinutes,
        previousAbsoluteHours: before.sessionAbsoluteHours,
      },
    });
  });
  return sessionSettings(ctx);
}

/** Each member's last-seen day and live sessions. */
export async function staffActivity(ctx: AppContext): Promise<StaffActivity> {
  const { staff, security, settings } = ctx.repos;
  const { idleMs, absoluteMs } = await settings.sessionTimeouts();
  const [members, seen, live] = await Promise.all([
    staff.list(),
    security.lastSeenDays(),
    security.liveSessionCounts(ctx.clock.now(), idleMs, absoluteMs),
  ]);
  return { members: members.map((m) => ({ id: m.id, lastSeenDay: seen.get(m.id) ?? null, activeSessions: live.get(m.id) ?? 0 })) };
}

export async function auditPage(ctx: AppContext, query: z.infer<typeof schemas.auditQuery>): Promise<AuditPage> {
  const { audit } = ctx.repos;
  return { entries: await audit.list(query.after, query.limit), latest: await audit.head() };
}
