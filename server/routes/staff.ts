/**
 * Staff routes: first-admin setup, invites, enrolment and keyset publication (sign-in lives
 * in staff-auth.ts, cases in staff-cases.ts). The server stores argon2id(authKey) and the staff
 * member's private keys wrapped under a key it never sees.
 */
import { Router } from 'express';
import { fromBase64url, keysetHash, randomId, verifyKeyset, verifyKeysetSuccessor, type SignedKeyset } from '../../protocol';
import { schemas, type StaffMemberSummary } from '../../protocol/api';
import type { AppContext } from '../app';
import type { StaffRecord } from '../db/staff-repo';
import { badRequest, conflict, forbidden, HttpError } from '../http/errors';
import { hashAuthKey, staffMe } from '../http/staff-credentials';
import { hashToken, randomToken } from '../http/tokens';
import { parseWith } from '../http/validate';

export function staffRoutes(ctx: AppContext): Router {
  const router = Router();
  const { staff, keysets, instance, cases, envelopes } = ctx.repos;
  const { startSession, requireStaff } = ctx.auth.staff;

  router.post('/setup', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.setup, req.body);
    const row = await instance.ensure(ctx.clock.today());
    if (row.instance_pk) throw conflict('already_set_up', 'this instance already has an admin');
    if (!row.setup_token_hash || row.setup_token_hash !== hashToken(body.setupToken)) {
      throw forbidden('setupToken is not the current setup token; run `npm run admin -- init` for a new link');
    }
    if (!body.roles.includes('admin')) throw badRequest('invalid_request', 'roles must include admin');
    const verified = verifyKeyset(body.keyset as SignedKeyset, { instanceId: ctx.instanceId });
    const ks = verified.keyset;
    const m = ks.members[0];
    if (ks.version !== 1 || ks.members.length !== 1 || m.staffId !== body.staffId || m.username !== body.username || m.boxPk !== body.boxPk || m.signPk !== body.signPk || [...m.roles].sort().join() !== [...body.roles].sort().join()) {
      throw badRequest('bad_keyset', 'keyset must be version 1 and list exactly the new admin with the same keys and roles');
    }
    const record: StaffRecord = {
      id: body.staffId,
      username: body.username,
      roles: body.roles,
      status: 'active',
      kdfParams: body.kdf.params,
      kdfSalt: body.kdf.salt,
      authHash: await hashAuthKey(body.authKey),
      boxPk: body.boxPk,
      signPk: body.signPk,
      wrappedKeys: body.wrappedKeys,
    };
    await ctx.db.transaction(async (trx) => {
      await staff.insert(trx, record, ctx.clock.now());
      await keysets.insert(trx, body.keyset as SignedKeyset, keysetHash(ks), ctx.clock.today());
      await instance.completeSetup(trx, body.keyset.instancePk);
      // audit: the log starts with the first list of readers
      await ctx.repos.audit.record(trx, { actorId: record.id, action: 'keyset.published', subject: null, detail: { version: 1, added: [record.id], removed: [] } });
    });
    await startSession(res, record.id);
    res.status(201).json(staffMe(record));
  });

  router.post('/staff/invites', requireStaff('admin'), async (req, res) => {
    const { roles } = parseWith(schemas.createInvite, req.body);
    const token = randomToken(32);
    const expiresAt = ctx.clock.now() + ctx.config.inviteMs;
    await staff.createInvite(hashToken(token), roles, req.staff!.id, expiresAt);
    // audit (not the token: nothing in the log can be used as an invite)
    await ctx.repos.audit.record(ctx.db, { actorId: req.staff!.id, action: 'invite.created', detail: { roles, expiresAt } });
    res.status(201).json({ url: `${ctx.config.publicUrl}/invite#${token}`, roles, expiresAt: new Date(expiresAt).toISOString() });
  });

  router.post('/staff/invites/check', ctx.limits.sensitive, async (req, res) => {
    const { inviteToken } = parseWith(schemas.checkInvite, req.body);
    const invite = await staff.openInvite(hashToken(inviteToken), ctx.clock.now());
    if (!invite) throw new HttpError(410, 'invite_invalid', 'this invite link has expired or was already used; ask the admin for a new one');
    res.json({ roles: invite.roles });
  });

  router.post('/staff/enrol', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.enrol, req.body);
    const tokenHash = hashToken(body.inviteToken);
    const invite = await staff.openInvite(tokenHash, ctx.clock.now());
    if (!invite) throw new HttpError(410, 'invite_invalid', 'this invite link has expired or was already used; ask the admin for a new one');
    if (await staff.byUsername(body.username)) throw conflict('username_taken', 'username is taken; choose another');
    const record: StaffRecord = {
      id: randomId(),
      username: body.username,
      roles: invite.roles,
      status: 'pending',
      kdfParams: body.kdf.params,
      kdfSalt: body.kdf.salt,
      authHash: await hashAuthKey(body.authKey),
      boxPk: body.boxPk,
      signPk: body.signPk,
      wrappedKeys: body.wrappedKeys,
    };
    await ctx.db.transaction(async (trx) => {
      await staff.insert(trx, record, ctx.clock.now());
      if (!(await staff.consumeInvite(trx, tokenHash, record.id, ctx.clock.now()))) {
        throw new HttpError(410, 'invite_invalid', 'this invite link was used meanwhile');
      }
      // audit
      await ctx.repos.audit.record(trx, { actorId: record.id, action: 'staff.enrolled', subject: record.id, detail: { username: record.username, roles: record.roles } });
    });
    await startSession(res, record.id);
    res.status(201).json(staffMe(record));
  });

  router.get('/staff/members', requireStaff('admin'), async (_req, res) => {
    const members: StaffMemberSummary[] = (await staff.list()).map((s) => ({ id: s.id, username: s.username, roles: s.roles, status: s.status, boxPk: s.boxPk, signPk: s.signPk }));
    res.json({ members });
  });

  /**
   * The admin's browser signs the next keyset. The server checks that it extends the current
   * one and names only real staff with their own keys and invited roles; members it adds
   * become active, active members it leaves out are removed and their wrapped keys erased.
   */
  router.post('/staff/keysets', requireStaff('admin'), async (req, res) => {
    const { signed } = parseWith(schemas.publishKeyset, req.body);
    const current = await keysets.current();
    if (!current) throw new HttpError(503, 'not_set_up', 'this instance is not set up');
    const next = verifyKeysetSuccessor(current, signed as SignedKeyset).keyset;
    const all = new Map((await staff.list()).map((s) => [s.id, s]));
    for (const m of next.members) {
      const s = all.get(m.staffId);
      if (!s || s.status === 'removed') throw badRequest('bad_keyset', `keyset member ${m.username} is not a staff member`);
      if (s.username !== m.username || s.boxPk !== m.boxPk || s.signPk !== m.signPk) throw badRequest('bad_keyset', `keyset member ${m.username} does not carry that member's own keys`);
      if ([...s.roles].sort().join() !== [...m.roles].sort().join()) throw badRequest('bad_keyset', `keyset member ${m.username} must have the roles they were invited with`);
    }
    const listed = new Set(next.members.map((m) => m.staffId));
    if (!listed.has(req.staff!.id)) throw badRequest('bad_keyset', 'the keyset must keep the admin who signs it');
    const added = next.members.filter((m) => all.get(m.staffId)!.status === 'pending').map((m) => m.staffId);
    const dropped = [...all.values()].filter((s) => s.status === 'active' && !listed.has(s.id)).map((s) => s.id);
    const update = async (trx: typeof ctx.db) => {
      await keysets.insert(trx, signed as SignedKeyset, keysetHash(next), ctx.clock.today());
      await staff.setStatus(trx, added, 'active');
      // A removed member loses their sessions, their assignments, and every key wrapped to
      // them: what they could read before stays readable only by the others.
      await staff.remove(trx, dropped);
      await cases.unassign(trx, dropped);
      for (const id of dropped) await envelopes.eraseReader(trx, fromBase64url(all.get(id)!.boxPk));
      // audit
      await ctx.repos.audit.record(trx, { actorId: req.staff!.id, action: 'keyset.published', subject: null, detail: { version: next.version, added, removed: dropped } });
    };
    // Removing a member is an erasure: their wrapped keys leave no copy in the files.
    await (dropped.length > 0 ? ctx.erase(update) : ctx.db.transaction(update));
    res.status(201).json({ version: next.version, added: added.length, removed: dropped.length });
  });

  return router;
}
