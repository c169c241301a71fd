/**
 * Upgrading an instance that has data: a migration that changes how existing rows are read
 * must leave them working as they did. Each case undoes its migration on a database in use,
 * as an instance from before it would be, and applies it again.
 */
import { migrationSource } from '../../migrations';
import { makeTestServer, setupAdmin, type TestServer } from '../support/harness';

const HOUR_MS = 3_600_000;

let t: TestServer;
beforeAll(async () => {
  t = await makeTestServer();
});
afterAll(() => t.close());

async function migrationNamed(suffix: string): Promise<string> {
  const name = (await migrationSource.getMigrations([])).find((n) => n.endsWith(suffix));
  if (!name) throw new Error(`no migration ending in ${suffix}`);
  return name;
}

test('session_end: staff signed in before the upgrade stay signed in, and their sessions end as the timeouts say', async () => {
  const admin = await setupAdmin(t);
  expect((await admin.agent.get('/api/staff/me')).status).toBe(200);
  const name = await migrationNamed('_session_end');
  await t.db.migrate.down({ migrationSource, name });
  expect(await t.db.schema.hasColumn('staff_sessions', 'live_until')).toBe(false);

  await t.db.migrate.latest({ migrationSource });
  const [row] = await t.db('staff_sessions').select('created_at', 'live_until');
  expect(Number(row.live_until)).toBe(Number(row.created_at) + 168 * HOUR_MS);
  expect((await admin.agent.get('/api/staff/me')).status).toBe(200);

  // Past the absolute timeout in force (12 hours by default), the session has ended all the same.
  t.clock.advance(13 * HOUR_MS);
  expect((await admin.agent.get('/api/staff/me')).status).toBe(401);
});

test('invite_ids: invites made before the upgrade get an id, are listed, can be revoked, and still admit their holder', async () => {
  const u = await makeTestServer();
  try {
    const admin = await setupAdmin(u);
    const name = await migrationNamed('_invite_ids');
    await u.db.migrate.down({ migrationSource, name });
    expect(await u.db.schema.hasColumn('staff_invites', 'id')).toBe(false);
    // Two invites as an instance from before the upgrade holds them (no id).
    for (const tokenHash of ['hash-of-first-token', 'hash-of-second-token'])
      await u.db('staff_invites').insert({
        token_hash: tokenHash,
        roles: JSON.stringify(['moderator']),
        created_by: admin.staffId,
        expires_at: Date.now() + HOUR_MS,
      });

    await u.db.migrate.latest({ migrationSource });
    const listed = await admin.agent.get('/api/staff/invites');
    expect(listed.status).toBe(200);
    const ids = listed.body.invites.map((i: { id: string }) => i.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    expect((await admin.agent.post(`/api/staff/invites/${ids[0]}/revoke`).send({})).status).toBe(200);
    expect(await u.db('staff_invites').pluck('token_hash')).toHaveLength(1);
    // New invites get their own id too.
    expect((await admin.agent.post('/api/staff/invites').send({ roles: ['advocate'] })).status).toBe(201);
    expect((await admin.agent.get('/api/staff/invites')).body.invites).toHaveLength(2);
  } finally {
    await u.close();
  }
});
