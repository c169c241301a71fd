/**
 * A new member enters the keyset with the roles of the invite they used. The member key code the
 * admin compares covers the keys, not the roles, and `staff.roles` is an editable column: so the
 * server checks a waiting member's roles in a signed keyset against the invite's recorded roles
 * (staff_invites.roles), and refuses, writing nothing, a keyset that names others even when the
 * staff row was changed to match them. (The admin's page refuses to sign roles other than those
 * it showed: test/e2e/keyset-admin.e2e.test.ts.)
 */
import request from 'supertest';
import { keysetHash, signKeyset, utcDay, type StaffRole } from '../../protocol';
import { currentKeyset, makeTestServer, setupAdmin, staffMaterial, unchanged, type StaffActor, type TestServer } from '../support/harness';
import { expectError } from './expect-error';

let t: TestServer;
let admin: StaffActor;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t);
});
afterAll(() => t.close());

/** Invites and enrols a member, who then waits to be signed into the keyset. */
async function waitingMember(username: string, roles: StaffRole[]) {
  const invite = await admin.agent.post('/api/staff/invites').send({ roles });
  expect(invite.status).toBe(201);
  const { material } = await staffMaterial(username, `${username} password for tests`);
  const enrol = await request(t.app)
    .post('/api/staff/enrol')
    .send({ inviteToken: String(invite.body.url).split('#')[1], ...material });
  expect(enrol.status).toBe(201);
  return { staffId: enrol.body.id as string, username, boxPk: material.boxPk, signPk: material.signPk };
}

async function publishWith(member: Awaited<ReturnType<typeof waitingMember>>, roles: StaffRole[]) {
  const current = await currentKeyset(t);
  const signed = signKeyset(
    {
      v: 1,
      instanceId: t.ctx.instanceId,
      version: current.keyset.version + 1,
      prev: keysetHash(current.keyset),
      issuedDay: utcDay(),
      members: [...current.keyset.members, { ...member, roles }],
    },
    admin.instance!,
  );
  return admin.agent.post('/api/staff/keysets').send({ signed });
}

test('a waiting advocate turned moderator in the database is refused as a moderator, and as an advocate while the row disagrees', async () => {
  const member = await waitingMember('wendy', ['advocate']);
  // A database write between the admin's comparison and the signature.
  await t
    .db('staff')
    .where({ id: member.staffId })
    .update({ roles: JSON.stringify(['moderator']) });
  const asModerator = await unchanged(t, () => publishWith(member, ['moderator']));
  expectError(asModerator, 400, 'bad_keyset', 'wendy', 'roles they were invited with');
  // The staff row and the invite disagree: neither is signed in until they agree again.
  expectError(await unchanged(t, () => publishWith(member, ['advocate'])), 400, 'bad_keyset', 'wendy');
  expect((await t.db('staff').where({ id: member.staffId }).first()).status).toBe('pending');

  await t
    .db('staff')
    .where({ id: member.staffId })
    .update({ roles: JSON.stringify(['advocate']) });
  expectError(await unchanged(t, () => publishWith(member, ['moderator'])), 400, 'bad_keyset', 'wendy');
  const ok = await publishWith(member, ['advocate']);
  expect(ok.status).toBe(201);
  expect((await t.db('staff').where({ id: member.staffId }).first()).status).toBe('active');
  expect((await currentKeyset(t)).keyset.members.find((m) => m.staffId === member.staffId)?.roles).toEqual(['advocate']);
});

test('a waiting member whose invite no longer exists is not signed in', async () => {
  const member = await waitingMember('ivan', ['moderator']);
  await t.db('staff_invites').where({ used_by: member.staffId }).delete();
  expectError(await unchanged(t, () => publishWith(member, ['moderator'])), 400, 'bad_keyset', 'ivan');
  expect((await t.db('staff').where({ id: member.staffId }).first()).status).toBe('pending');
});

test('roles with several entries compare as sets: the invite\'s "moderator, matching counselor" is signed in either order', async () => {
  const member = await waitingMember('mona', ['moderator', 'matching_counselor']);
  const ok = await publishWith(member, ['matching_counselor', 'moderator']);
  expect(ok.status).toBe(201);
});
