/**
 * Upgrading an instance that has data: a migration that changes how existing rows are read
 * must leave them working as they did. Each case undoes its migration on a database in use,
 * as an instance from before it would be, and applies it again.
 */
import { migrationSource } from '../../migrations';
import { envelopeHash, readersOf, sealEnvelope } from '../../protocol';
import { currentKeyset, makeTestServer, registerSurvivor, setupAdmin, submitTestimony, type TestServer } from '../support/harness';

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

test('envelope_positions: envelopes from before the upgrade are placed in their case by id; notes written after it follow them', async () => {
  const u = await makeTestServer();
  try {
    const admin = await setupAdmin(u);
    const survivor = await registerSurvivor(u);
    const cases: string[] = [];
    for (const what of ['first case', 'second case']) {
      const { res, envelope } = await submitTestimony(u, survivor, what);
      expect(res.status).toBe(201);
      cases.push(envelope.caseId);
    }
    const name = await migrationNamed('_envelope_positions');
    await u.db.migrate.down({ migrationSource, name });
    expect(await u.db.schema.hasColumn('envelopes', 'position_in_case')).toBe(false);
    // Notes as an instance from before the upgrade wrote them: ids counting up, cases in turn.
    for (const [n, id] of [11, 12, 13, 14, 15].entries())
      await u.db('envelopes').insert({
        id,
        case_id: cases[n % 2],
        kind: 'note',
        body: '{}',
        created_day: u.ctx.clock.today(),
        seq: null,
        hash: `note-${id}`,
        from_staff: true,
      });

    await u.db.migrate.latest({ migrationSource });
    for (const caseId of cases) {
      const rows: { id: number; position_in_case: number }[] = await u
        .db('envelopes')
        .where({ case_id: caseId })
        .select('id', 'position_in_case');
      const byId = [...rows].sort((a, b) => Number(a.id) - Number(b.id));
      expect(byId.map((r) => Number(r.position_in_case))).toEqual(byId.map((_, i) => i));
    }
    // A note written now comes after every envelope of its case.
    const ks = await currentKeyset(u);
    const note = sealEnvelope({
      kind: 'note',
      caseId: cases[0],
      body: { text: 'after' },
      recipients: readersOf(ks.keyset),
      signer: admin.sign,
    });
    expect(
      (await admin.agent.post(`/api/staff/cases/${cases[0]}/notes`).send({ envelope: note, keysetVersion: ks.keyset.version })).status,
    ).toBe(201);
    const last = await u.db('envelopes').where({ case_id: cases[0] }).orderBy('position_in_case', 'desc').first('hash', 'position_in_case');
    expect({ hash: last.hash, position: Number(last.position_in_case) }).toEqual({ hash: envelopeHash(note), position: 4 });
  } finally {
    await u.close();
  }
});
