/**
 * Pending invites: an admin lists them (never with anything that lets someone enrol) and
 * revokes one, after which its link can be neither checked nor used; a revocation racing an
 * enrolment lets exactly one of them win; and when an admin is removed, the invites they made
 * that are still pending go with them, in the same transaction.
 */
import request from 'supertest';
import type { StaffRole } from '../../protocol';
import { PendingInviteListSchema, type PendingInvite } from '../../protocol/api';
import { hashToken } from '../../server/http/tokens';
import {
  addStaff,
  keysetWithout,
  removedMidRequest,
  makeTestServer,
  setupAdmin,
  staffMaterial,
  unchanged,
  type StaffActor,
  type TestServer,
} from '../support/harness';
import { expectError } from './expect-error';

let t: TestServer;
let admin: StaffActor;
let moderator: StaffActor;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t);
  moderator = await addStaff(t, admin, 'mod.invites');
});
afterAll(async () => {
  // A successful staff request records its session's last-seen time after the response; let it land.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await t.close();
});
afterEach(() => jest.restoreAllMocks());

/** Makes an invite as `by`; its token and its id as the list shows it. */
async function invite(by: StaffActor, roles: StaffRole[]): Promise<{ token: string; id: string }> {
  const made = await by.agent.post('/api/staff/invites').send({ roles });
  expect(made.status).toBe(201);
  const token = String(made.body.url).split('#')[1];
  const row = await t
    .db('staff_invites')
    .where({ token_hash: hashToken(token) })
    .first();
  return { token, id: row.id };
}

async function pending(by: StaffActor = admin): Promise<PendingInvite[]> {
  const res = await by.agent.get('/api/staff/invites');
  expect(res.status).toBe(200);
  return PendingInviteListSchema.parse(res.body).invites;
}

async function enrol(token: string, username: string) {
  const { material } = await staffMaterial(username, `${username} password for tests`);
  return request(t.app)
    .post('/api/staff/enrol')
    .send({ inviteToken: token, ...material });
}

const revoke = (id: string, by: StaffActor = admin) => by.agent.post(`/api/staff/invites/${id}/revoke`).send({});

test('the list shows each pending invite with its roles, maker and expiry, and nothing that lets anyone enrol', async () => {
  const a = await invite(admin, ['advocate']);
  const b = await invite(admin, ['moderator', 'matching_counselor']);
  const res = await admin.agent.get('/api/staff/invites');
  const listed = PendingInviteListSchema.parse(res.body).invites;
  const mine = listed.filter((i) => i.id === a.id || i.id === b.id);
  expect(mine).toEqual([
    { id: a.id, roles: ['advocate'], createdBy: admin.username, expiresAt: expect.any(String) },
    { id: b.id, roles: ['moderator', 'matching_counselor'], createdBy: admin.username, expiresAt: expect.any(String) },
  ]);
  expect(Date.parse(mine[0].expiresAt)).toBeGreaterThan(Date.now());
  // Neither the token nor its hash is in the answer.
  for (const secret of [a.token, b.token, hashToken(a.token), hashToken(b.token)]) expect(res.text).not.toContain(secret);

  // A used invite and an expired one are not listed.
  expect((await enrol(a.token, 'used.invite')).status).toBe(201);
  await t
    .db('staff_invites')
    .where({ id: b.id })
    .update({ expires_at: Date.now() - 1 });
  const ids = (await pending()).map((i) => i.id);
  expect(ids).not.toContain(a.id);
  expect(ids).not.toContain(b.id);
});

test('a revoked invite can no longer be checked or used, and the revocation is audited', async () => {
  const inv = await invite(admin, ['moderator']);
  expect((await request(t.app).post('/api/staff/invites/check').send({ inviteToken: inv.token })).status).toBe(200);
  const res = await revoke(inv.id);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ revoked: true });
  expect((await pending()).map((i) => i.id)).not.toContain(inv.id);
  expect(await t.db('staff_invites').where({ id: inv.id }).first()).toBeUndefined();
  expectError(await request(t.app).post('/api/staff/invites/check').send({ inviteToken: inv.token }), 410, 'invite_invalid');
  expectError(await unchanged(t, () => enrol(inv.token, 'too.late')), 410, 'invite_invalid');
  const entry = await t.db('audit_log').where({ action: 'invite.revoked' }).orderBy('seq', 'desc').first();
  expect(entry.actor_id).toBe(admin.staffId);
  expect(JSON.parse(entry.detail)).toEqual({ inviteId: inv.id, roles: ['moderator'] });
  // Revoking it again, or an invite that never existed, is 404 and writes nothing.
  expectError(await unchanged(t, () => revoke(inv.id)), 404, 'not_found');
  expectError(await unchanged(t, () => revoke('AAAAAAAAAAAAAAAAAAAAAA')), 404, 'not_found');
});

test('a used or expired invite cannot be revoked: 404, nothing written', async () => {
  const used = await invite(admin, ['advocate']);
  expect((await enrol(used.token, 'used.two')).status).toBe(201);
  expectError(await unchanged(t, () => revoke(used.id)), 404, 'not_found', 'already used');
  const expired = await invite(admin, ['advocate']);
  await t
    .db('staff_invites')
    .where({ id: expired.id })
    .update({ expires_at: Date.now() - 1 });
  expectError(await unchanged(t, () => revoke(expired.id)), 404, 'not_found');
});

test('bad input is 400 with the error shape and writes nothing', async () => {
  const inv = await invite(admin, ['moderator']);
  expectError(
    await unchanged(t, () => admin.agent.post('/api/staff/invites/not-an-id/revoke').send({})),
    400,
    'invalid_request',
    'inviteId',
  );
  expectError(
    await unchanged(t, () => admin.agent.post(`/api/staff/invites/${inv.id}/revoke`).send({ reason: 'x' })),
    400,
    'invalid_request',
  );
  expect((await pending()).map((i) => i.id)).toContain(inv.id);
});

test('members without the admin role get 403 on both routes, and nothing changes', async () => {
  const inv = await invite(admin, ['moderator']);
  expectError(await unchanged(t, () => moderator.agent.get('/api/staff/invites')), 403, 'forbidden');
  expectError(await unchanged(t, () => revoke(inv.id, moderator)), 403, 'forbidden');
  expectError(await unchanged(t, () => request(t.app).get('/api/staff/invites')), 401, 'unauthorized');
  expect((await pending()).map((i) => i.id)).toContain(inv.id);
});

test("a revocation landing between an enrolment's check and its transaction wins: the enrolment is 410 and leaves no member", async () => {
  const inv = await invite(admin, ['moderator']);
  const original = t.ctx.repos.staff.openInvite.bind(t.ctx.repos.staff);
  let revoked: request.Response | undefined;
  jest.spyOn(t.ctx.repos.staff, 'openInvite').mockImplementation(async (...args) => {
    const answer = await original(...args);
    if (!revoked) revoked = await revoke(inv.id);
    return answer;
  });
  const enrolled = await enrol(inv.token, 'raced.out');
  expect(revoked?.status).toBe(200);
  expectError(enrolled, 410, 'invite_invalid');
  expect(await t.db('staff').where({ username: 'raced.out' }).first()).toBeUndefined();
});

test('a revocation and an enrolment sent at once: exactly one wins, the other is refused cleanly', async () => {
  for (let i = 0; i < 3; i++) {
    const inv = await invite(admin, ['advocate']);
    const [enrolled, revoked] = await Promise.all([enrol(inv.token, `both.${i}`), revoke(inv.id)]);
    const wins = [enrolled.status === 201, revoked.status === 200];
    expect(wins.filter(Boolean)).toHaveLength(1);
    if (enrolled.status === 201) expectError(revoked, 404, 'not_found');
    else expectError(enrolled, 410, 'invite_invalid');
    const member = await t
      .db('staff')
      .where({ username: `both.${i}` })
      .first();
    expect(Boolean(member)).toBe(enrolled.status === 201);
  }
});

test("removing an admin deletes the invites they made that are still pending, in the keyset's audit entry", async () => {
  const second = await addStaff(t, admin, 'admin.two', ['admin']);
  const theirs = [await invite(second, ['moderator']), await invite(second, ['advocate'])];
  const used = await invite(second, ['advocate']);
  const enrolled = await enrol(used.token, 'kept.invite');
  expect(enrolled.status).toBe(201);
  const mine = await invite(admin, ['advocate']);
  expect(
    (await pending())
      .filter((i) => i.createdBy === 'admin.two')
      .map((i) => i.id)
      .sort(),
  ).toEqual(theirs.map((i) => i.id).sort());

  expect((await admin.agent.post('/api/staff/keysets').send({ signed: await keysetWithout(t, admin, second) })).status).toBe(201);

  const ids = (await pending()).map((i) => i.id);
  for (const gone of theirs) {
    expect(ids).not.toContain(gone.id);
    expectError(await request(t.app).post('/api/staff/invites/check').send({ inviteToken: gone.token }), 410, 'invite_invalid');
  }
  expect(ids).toContain(mine.id);
  // The invite a member already used stays: it records the roles they were invited with.
  expect(await t.db('staff_invites').where({ used_by: enrolled.body.id }).first()).toBeDefined();
  const entry = await t.db('audit_log').where({ action: 'keyset.published' }).orderBy('seq', 'desc').first();
  expect(JSON.parse(entry.detail)).toMatchObject({ removed: [second.staffId], invitesRevoked: 2 });
});

test('an admin removed after their request passed the guard makes no invite: 409 member_removed, no link left working', async () => {
  const leaving = await addStaff(t, admin, 'admin.leaving', ['admin']);
  const made = await removedMidRequest(t, admin, leaving, () => leaving.agent.post('/api/staff/invites').send({ roles: ['moderator'] }));
  expectError(made, 409, 'member_removed', 'removed');
  expect(await t.db('staff_invites').where({ created_by: leaving.staffId })).toEqual([]);
});

test('an admin removed after their request passed the guard revokes nothing: 409 member_removed, the invite stays usable', async () => {
  const kept = await invite(admin, ['advocate']);
  const leaving = await addStaff(t, admin, 'admin.revoking', ['admin']);
  const revoked = await removedMidRequest(t, admin, leaving, () => revoke(kept.id, leaving));
  expectError(revoked, 409, 'member_removed', 'removed');
  expect((await pending()).map((i) => i.id)).toContain(kept.id);
  expect((await request(t.app).post('/api/staff/invites/check').send({ inviteToken: kept.token })).status).toBe(200);
});
