/**
 * Retention (issue 15; SECURITY.md "Retention"): a closed case is erased once its period has
 * passed since the later of its closing and its survivor's last visit; an account with no case
 * once its period has passed since the last visit. The test moves the app's clock forward and
 * sweeps, then reads the database as a thief who copies it would (on SQLite the file and its
 * write-ahead log as raw bytes; on PostgreSQL every table and a pg_dump): nothing of the erased
 * case is left, while the cases still kept are there (the control that shows the search works).
 */
import request from 'supertest';
import nacl from 'tweetnacl';
import { randomId } from '../../protocol';
import { addDays } from '../../server/services/retention';
import { sweepExpired } from '../../server/sweeper';
import { foundInDatabase } from '../support/database-files';
import { interleave, someoneWaitsForTheConnection } from '../support/interleave';
import {
  asSurvivor,
  addStaff,
  currentKeyset,
  removedMidRequest,
  logInSurvivor,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  signIn,
  submitTestimony,
  TEST_ENGINE,
  testimonyEnvelope,
  unchanged,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { expectError } from './expect-error';

const DAY_MS = 86_400_000;

let t: TestServer;
let admin: StaffActor;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t);
});
afterAll(() => t.close());

const logIn = (s: SurvivorActor) => logInSurvivor(t, s);

async function survivorId(s: SurvivorActor): Promise<string | undefined> {
  return (await t.db('survivors').where({ handle: s.handle }).first('id'))?.id;
}

async function close(caseId: string): Promise<void> {
  expect((await admin.agent.post(`/api/staff/cases/${caseId}/status`).send({ status: 'closed' })).status).toBe(200);
}

/** Sends a testimony carrying a 70 kB file (its one statistic counted); its case, ciphertext and the file's first record. */
async function submitWithFile(s: SurvivorActor, text: string) {
  const file = await uploadFile(t, s, nacl.randomBytes(70_000));
  const keyset = await currentKeyset(t);
  const envelope = testimonyEnvelope(s, keyset, text, randomId(), [file.manifest]);
  const sent = await asSurvivor(t, s).post('/api/survivor/cases', {
    envelope,
    keysetVersion: keyset.keyset.version,
    pow: await pow(t),
    attachments: [file.id],
    sharing: { advocatesMayRead: false, statistics: { context: 'workplace' } },
  });
  expect(sent.status).toBe(201);
  return { caseId: envelope.caseId, ciphertext: envelope.ciphertext, record: file.records[0] };
}

describe('the admin sets the periods', () => {
  test('the defaults: 180 days for closed cases, 90 for accounts with no case; survivors read them in /api/instance', async () => {
    const res = await admin.agent.get('/api/staff/settings/retention');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ closedCaseDays: 180, idleAccountDays: 90, defaults: { closedCaseDays: 180, idleAccountDays: 90 } });
    expect((await request(t.app).get('/api/instance')).body.retention).toEqual({ closedCaseDays: 180, idleAccountDays: 90 });
  });

  test('bad input is refused with a 400 naming the field, and writes nothing', async () => {
    const bad: [unknown, string][] = [
      [{ closedCaseDays: 6, idleAccountDays: 90 }, 'closedCaseDays'],
      [{ closedCaseDays: 180, idleAccountDays: 3651 }, 'idleAccountDays'],
      [{ closedCaseDays: '180', idleAccountDays: 90 }, 'closedCaseDays'],
      [{ closedCaseDays: 180.5, idleAccountDays: 90 }, 'closedCaseDays'],
      [{ closedCaseDays: 180 }, 'idleAccountDays'],
      [{ closedCaseDays: 180, idleAccountDays: 90, keepForever: true }, 'keepForever'],
      [[], ''],
    ];
    await unchanged(t, async () => {
      for (const [body, field] of bad)
        expectError(await admin.agent.post('/api/staff/settings/retention').send(body as object), 400, undefined, field);
    });
  });

  test('only an admin reads or changes them', async () => {
    expectError(await request(t.app).get('/api/staff/settings/retention'), 401);
    expectError(await request(t.app).post('/api/staff/settings/retention').send({ closedCaseDays: 30, idleAccountDays: 30 }), 401);
  });

  test('a change is audited with the old and new periods, and survivors read it', async () => {
    const res = await admin.agent.post('/api/staff/settings/retention').send({ closedCaseDays: 200, idleAccountDays: 60 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ closedCaseDays: 200, idleAccountDays: 60 });
    const last = await t.db('audit_log').orderBy('seq', 'desc').first();
    expect(last.action).toBe('settings.retention_changed');
    expect(JSON.parse(last.detail)).toEqual({
      closedCaseDays: 200,
      idleAccountDays: 60,
      previousClosedCaseDays: 180,
      previousIdleAccountDays: 90,
    });
    expect((await request(t.app).get('/api/instance')).body.retention).toEqual({ closedCaseDays: 200, idleAccountDays: 60 });
    // Back to the defaults for what follows.
    expect((await admin.agent.post('/api/staff/settings/retention').send({ closedCaseDays: 180, idleAccountDays: 90 })).status).toBe(200);
  });

  test('an admin removed after their request passed the guard changes nothing: 409 member_removed', async () => {
    const leaving = await addStaff(t, admin, 'admin.leaving', ['admin']);
    const set = await removedMidRequest(t, admin, leaving, () =>
      leaving.agent.post('/api/staff/settings/retention').send({ closedCaseDays: 7, idleAccountDays: 7 }),
    );
    expectError(set, 409, 'member_removed', 'removed');
    expect((await request(t.app).get('/api/instance')).body.retention).toEqual({ closedCaseDays: 180, idleAccountDays: 90 });
  });
});

describe('the sweep erases what is past its period, and only that', () => {
  // A: closed today, never comes back. B: closed today, comes back on day 100. C: open. D: an account with no case.
  let a: SurvivorActor, b: SurvivorActor, c: SurvivorActor, d: SurvivorActor;
  let aCase: string, bCase: string, cCase: string;
  let aCiphertext: string, bCiphertext: string;
  let aRecord: Uint8Array;
  let aId: string;
  const today = () => t.ctx.clock.today();
  let day0: string;

  beforeAll(async () => {
    day0 = today();
    [a, b, c, d] = [await registerSurvivor(t), await registerSurvivor(t), await registerSurvivor(t), await registerSurvivor(t)];
    aId = (await survivorId(a))!;
    // A's testimony carries a file and lets one statistic be counted.
    const sent = await submitWithFile(a, 'retention canary: what happened to A');
    aRecord = sent.record;
    aCase = sent.caseId;
    aCiphertext = sent.ciphertext;
    const bSent = await submitTestimony(t, b, 'what happened to B');
    bCase = bSent.envelope.caseId;
    bCiphertext = bSent.envelope.ciphertext;
    cCase = (await submitTestimony(t, c, 'what happened to C')).envelope.caseId;
    await close(aCase);
    await close(bCase);
    // A published story from A's case: its words stay public after the case is erased.
    await t.db('publications').insert({
      alias: 'keptstory2',
      case_id: aCase,
      title: 'A story that stays',
      text: 'published words stay',
      context: 'workplace',
      month: day0.slice(0, 7),
      published_day: day0,
    });
  });

  test('beside a closed case the survivor reads the last day it is kept; an open case has none', async () => {
    const cases = (await asSurvivor(t, a).get('/api/survivor/cases')).body.cases;
    expect(cases.map((x: { keptUntilDay: string | null }) => x.keptUntilDay)).toEqual([addDays(day0, 180)]);
    expect((await asSurvivor(t, c).get('/api/survivor/cases')).body.cases[0].keptUntilDay).toBeNull();
  });

  test('on day 100 only the account with no case is gone; B came back that day', async () => {
    t.clock.advance(100 * DAY_MS);
    await logIn(b);
    expect(await t.db('survivors').where({ handle: b.handle }).first('last_visit_day')).toEqual({ last_visit_day: today() });
    // Coming back moves the day shown beside her closed case.
    expect((await asSurvivor(t, b).get('/api/survivor/cases')).body.cases[0].keptUntilDay).toBe(addDays(today(), 180));
    const swept = await sweepExpired(t.ctx);
    expect(swept.retention).toEqual({ cases: 0, accounts: 1 });
    expect(await survivorId(d)).toBeUndefined();
    expect((await t.db('cases').select('id')).map((r: { id: string }) => r.id).sort()).toEqual([aCase, bCase, cCase].sort());
  });

  test('on day 181 the case closed on day 0 is erased with all that hangs from it, and no copy is left in the database', async () => {
    t.clock.advance(81 * DAY_MS);
    expect(await foundInDatabase(t, [aCiphertext.slice(0, 60), a.handle])).toEqual([aCiphertext.slice(0, 60), a.handle]);
    const swept = await sweepExpired(t.ctx);
    // A's case, then A's account (no case left, last visit on day 0).
    expect(swept.retention).toEqual({ cases: 1, accounts: 1 });
    expect(await t.db('cases').where({ id: aCase }).first()).toBeUndefined();
    expect(await survivorId(a)).toBeUndefined();
    for (const table of ['envelopes', 'case_statistics', 'attachments', 'drafts', 'consents'])
      expect({ table, rows: (await t.db(table).where({ case_id: aCase })).length }).toEqual({ table, rows: 0 });
    expect(await t.db('attachments').where({ survivor_id: aId })).toEqual([]);
    expect(Number((await t.db('attachment_records').count({ n: '*' }))[0].n)).toBe(0);
    // Published words are untouched; only their link to the case is gone.
    expect(await t.db('publications').where({ alias: 'keptstory2' }).first()).toMatchObject({
      title: 'A story that stays',
      text: 'published words stay',
      case_id: null,
      revoked_day: null,
    });
    expect((await request(t.app).get('/stories/keptstory2')).status).toBe(200);
    // The audit log keeps only that it happened: how many, no id.
    const last = await t.db('audit_log').orderBy('seq', 'desc').first();
    expect({ action: last.action, actor: last.actor_id, subject: last.subject, detail: JSON.parse(last.detail) }).toEqual({
      action: 'retention.erased',
      actor: null,
      subject: null,
      detail: { cases: 1, accounts: 1 },
    });
    // (Earlier entries of staff actions on the case keep its id, as the chained log cannot be
    // edited; the id now names nothing. SECURITY.md "Retention" says so.)
    const audit = JSON.stringify(await t.db('audit_log').select());
    expect([aId, a.handle].filter((x) => audit.includes(x))).toEqual([]);
    // What a copy of the database holds: nothing of A's testimony, file, account or handle; B's testimony is still there.
    expect(await foundInDatabase(t, [aCiphertext.slice(0, 60), aCiphertext.slice(-60), aRecord.slice(0, 64), aId, a.handle])).toEqual([]);
    expect(await foundInDatabase(t, [bCiphertext.slice(0, 60)])).toEqual([bCiphertext.slice(0, 60)]);
  });

  test('B is kept for 180 days after her visit; the open case is kept whatever its age', async () => {
    t.clock.advance(99 * DAY_MS); // day 280: B's last kept day
    expect((await sweepExpired(t.ctx)).retention).toEqual({ cases: 0, accounts: 0 });
    t.clock.advance(DAY_MS);
    expect((await sweepExpired(t.ctx)).retention).toEqual({ cases: 1, accounts: 1 });
    expect((await t.db('cases').select('id')).map((r: { id: string }) => r.id)).toEqual([cCase]);
    expect(await survivorId(c)).toBeDefined();
  });

  test('a closed case opened again is no longer counted as closed', async () => {
    await logIn(c);
    admin = { ...admin, agent: await signIn(t, admin) };
    await close(cCase);
    expect((await t.db('cases').where({ id: cCase }).first('closed_day')).closed_day).toBe(today());
    expect((await admin.agent.post(`/api/staff/cases/${cCase}/status`).send({ status: 'in_review' })).status).toBe(200);
    expect((await t.db('cases').where({ id: cCase }).first('closed_day')).closed_day).toBeNull();
    t.clock.advance(400 * DAY_MS);
    expect((await sweepExpired(t.ctx)).retention).toEqual({ cases: 0, accounts: 0 });
  });
});

describe('much to erase: the sweep goes in batches, and requests are served between them', () => {
  test('three expired cases, one per batch under a byte budget: each erased whole, and a request waiting for the database is served after the first', async () => {
    admin = { ...admin, agent: await signIn(t, admin) };
    const survivors = [await registerSurvivor(t), await registerSurvivor(t), await registerSurvivor(t)];
    const sent = [];
    for (const s of survivors) sent.push(await submitWithFile(s, 'retention batch: what happened'));
    for (const c of sent) await close(c.caseId);
    t.clock.advance(181 * DAY_MS);
    const canaries = sent.flatMap((c) => [c.ciphertext.slice(0, 60), c.record.slice(0, 64)]);
    expect((await foundInDatabase(t, canaries)).length).toBe(canaries.length);
    const auditBefore = Number((await t.db('audit_log').count({ n: '*' }))[0].n);

    // When the first batch has erased its case (its transaction still open), a request comes:
    // on SQLite it waits for the one connection, on PostgreSQL another one serves it.
    let served: Promise<{ status: number; afterBatches: number }> | undefined;
    const batches = interleave(t.ctx.repos.retention, 'eraseExpiredClosedCases', async () => {
      served = request(t.app)
        .get('/api/keysets')
        .then((res) => ({ status: res.status, afterBatches: batches.mock.calls.length }));
      await (TEST_ENGINE === 'pg' ? served : someoneWaitsForTheConnection(t.db));
    });
    try {
      // 70 kB of attachments each: a budget of 100 kB takes one case per batch.
      const swept = await sweepExpired(t.ctx, t.clock.now(), {
        retention: true,
        retentionBatch: { cases: 16, bytes: 100_000, accounts: 500 },
      });
      expect(swept.retention).toEqual({ cases: 3, accounts: 3 });
      expect(swept.failed).toEqual([]);
      expect(batches.mock.calls.length).toBe(3);
    } finally {
      batches.mockRestore();
    }
    // Served before the second batch began, not after the whole sweep.
    expect(await served).toEqual({ status: 200, afterBatches: 1 });
    // One audit entry per batch; the last one also erased the three accounts, left with no case.
    const entries = await t.db('audit_log').where('seq', '>', auditBefore).orderBy('seq');
    expect(entries.map((e: { action: string; detail: string }) => [e.action, JSON.parse(e.detail)])).toEqual([
      ['retention.erased', { cases: 1, accounts: 0 }],
      ['retention.erased', { cases: 1, accounts: 0 }],
      ['retention.erased', { cases: 1, accounts: 3 }],
    ]);
    expect(
      await t.db('cases').whereIn(
        'id',
        sent.map((c) => c.caseId),
      ),
    ).toEqual([]);
    for (const s of survivors) expect(await survivorId(s)).toBeUndefined();
    expect(await foundInDatabase(t, canaries)).toEqual([]);
  });
});
