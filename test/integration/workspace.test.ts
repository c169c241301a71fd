/**
 * The staff workspace's routes (issue 15): read marks per moderator and the unread count,
 * replies that keep the status the moderator chose, and the session key that seals a tab's
 * unlocked keys for a reload. Each with bad input: a 4xx naming the problem, nothing written.
 */
import request from 'supertest';
import { envelopeHash, readersOf, sealEnvelope } from '../../protocol';
import type { CaseList, StaffCaseDetail } from '../../protocol/api';
import { isPostgres } from '../../server/db/database';
import { expectError } from './expect-error';
import {
  addStaff,
  currentKeyset,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  signIn,
  submitTestimony,
  unchanged,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { interleave, someoneWaitsForTheConnection, someoneWaitsOnALock } from '../support/interleave';

let t: TestServer;
let admin: StaffActor;
let mod: StaffActor;
let advocate: StaffActor;
let survivor: SurvivorActor;
let caseId: string;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t, ['admin', 'moderator']);
  mod = await addStaff(t, admin, 'mod.read');
  advocate = await addStaff(t, admin, 'adv.read', 'advocate');
  survivor = await registerSurvivor(t);
  const { res, envelope } = await submitTestimony(t, survivor, 'the testimony');
  expect(res.status).toBe(201);
  caseId = envelope.caseId;
});
afterAll(() => t.close());

async function listed(actor: StaffActor): Promise<boolean | undefined> {
  const res = await actor.agent.get('/api/staff/cases');
  expect(res.status).toBe(200);
  return (res.body as CaseList).cases.find((c) => c.caseId === caseId)?.unread;
}
async function unreadCount(actor: StaffActor): Promise<number> {
  const res = await actor.agent.get('/api/staff/inbox/unread');
  expect(res.status).toBe(200);
  expect(res.body.limit).toBe(99);
  expect(res.body.capped).toBe(false);
  return res.body.unread;
}
async function detail(actor: StaffActor): Promise<StaffCaseDetail> {
  const res = await actor.agent.get(`/api/staff/cases/${caseId}`);
  expect(res.status).toBe(200);
  return res.body;
}
async function replyAs(actor: StaffActor, text: string, status?: string) {
  return sendReply(actor, await sealReply(actor, text), status);
}
async function sealReply(actor: StaffActor, text: string) {
  const ks = await currentKeyset(t);
  const { thread } = await detail(actor);
  const envelope = sealEnvelope({
    kind: 'message',
    caseId,
    prev: envelopeHash(thread[thread.length - 1].envelope),
    body: { text },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
    signer: actor.sign,
  });
  return { envelope, keysetVersion: ks.keyset.version };
}
function sendReply(actor: StaffActor, sealed: Awaited<ReturnType<typeof sealReply>>, status?: string) {
  return actor.agent.post(`/api/staff/cases/${caseId}/messages`).send({ ...sealed, status });
}
async function survivorWrites(text: string): Promise<void> {
  const ks = await currentKeyset(t);
  const { thread } = await detail(mod);
  const envelope = sealEnvelope({
    kind: 'message',
    caseId,
    prev: envelopeHash(thread[thread.length - 1].envelope),
    body: { text },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
    signer: survivor.keys.sign,
  });
  const res = await request(t.app)
    .post(`/api/survivor/cases/${caseId}/messages`)
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ envelope, keysetVersion: ks.keyset.version });
  expect(res.status).toBe(201);
}

test('opening a case marks it read for that moderator only; a survivor message makes it unread again; a reply clears it for all', async () => {
  expect(await listed(mod)).toBe(true);
  expect(await listed(admin)).toBe(true);
  expect(await unreadCount(mod)).toBe(1);

  const read = await mod.agent.post(`/api/staff/cases/${caseId}/read`).send({ seq: 0 });
  expect(read.status).toBe(200);
  expect(read.body).toEqual({ seq: 0 });
  expect(await listed(mod)).toBe(false);
  expect(await unreadCount(mod)).toBe(0);
  expect(await listed(admin)).toBe(true);
  expect(await unreadCount(admin)).toBe(1);
  // Marking read touches only the mark: not the case's status or day.
  expect((await detail(mod)).status).toBe('new');

  await survivorWrites('one more thing');
  expect(await listed(mod)).toBe(true);
  // An older mark changes nothing.
  const marks = await t.db('case_reads').select();
  expect((await mod.agent.post(`/api/staff/cases/${caseId}/read`).send({ seq: 0 })).status).toBe(200);
  expect(await t.db('case_reads').select()).toEqual(marks);
  expect(await listed(mod)).toBe(true);

  const replied = await replyAs(admin, 'we read you', 'in_review');
  expect(replied.status).toBe(201);
  expect(await listed(mod)).toBe(false);
  expect(await listed(admin)).toBe(false);
});

test('a reply takes the status sent with it, or keeps the one the case has; never another', async () => {
  await t.db('cases').where({ id: caseId }).update({ status: 'in_review' });
  expect((await replyAs(mod, 'no status sent')).status).toBe(201);
  expect((await detail(mod)).status).toBe('in_review');
  expect((await replyAs(mod, 'closing', 'closed')).status).toBe(201);
  expect((await detail(mod)).status).toBe('closed');
  const audit = await t.db('audit_log').where({ action: 'case.status_changed' }).select('detail');
  expect(audit.map((r: { detail: string }) => JSON.parse(r.detail))).toContainEqual({ from: 'in_review', to: 'closed' });

  const before = (await detail(mod)).thread.length;
  const sealed = await sealReply(mod, 'bad status');
  const bad = await unchanged(t, () => sendReply(mod, sealed, 'archived'));
  expectError(bad, 400, 'invalid_request', 'status');
  expect((await detail(mod)).thread.length).toBe(before);
});

describe('a status change audits the status it replaced as its own transaction finds it', () => {
  afterEach(() => jest.restoreAllMocks());
  const toStatus = (actor: StaffActor, status: string) => actor.agent.post(`/api/staff/cases/${caseId}/status`).send({ status });
  /** The case's status changes audited after entry `seq`, oldest first. */
  async function changesAfter(seq: number): Promise<unknown[]> {
    const rows: string[] = await t
      .db('audit_log')
      .where({ action: 'case.status_changed', subject: caseId })
      .where('seq', '>', seq)
      .orderBy('seq')
      .pluck('detail');
    return rows.map((d) => JSON.parse(d));
  }
  async function startingFromInReview(): Promise<number> {
    await t.db('cases').where({ id: caseId }).update({ status: 'in_review' });
    return Number((await t.db('audit_log').max({ n: 'seq' }))[0].n);
  }
  const chain = [
    { from: 'in_review', to: 'waiting_for_survivor' },
    { from: 'waiting_for_survivor', to: 'closed' },
  ];

  type Change = (status: string) => Promise<request.Response>;
  test.each<[string, number, () => Change | Promise<Change>]>([
    ['POST /api/staff/cases/:caseId/status', 200, () => (status) => toStatus(mod, status)],
    [
      'a reply with a status',
      201,
      async () => {
        const sealed = await sealReply(mod, 'closing after a colleague');
        return (status) => sendReply(mod, sealed, status);
      },
    ],
  ])('%s, when another moderator changed it after the route had read the case', async (_name, ok, prepare) => {
    const change = await prepare();
    const since = await startingFromInReview();
    let meanwhile: request.Response | undefined;
    // The route has read the case (in_review) when the other moderator's change commits.
    const opened = interleave(t.ctx.repos.cases, 'detail', async () => {
      meanwhile = await toStatus(admin, 'waiting_for_survivor');
    });
    const res = await change('closed');
    expect(opened).toHaveBeenCalled();
    expect(meanwhile?.status).toBe(200);
    expect(res.status).toBe(ok);
    expect(await changesAfter(since)).toEqual(chain);
  });

  test('two changes at once: the second reads what it changes from once the first has committed', async () => {
    const since = await startingFromInReview();
    let second: Promise<request.Response> | undefined;
    // Inside the first change's transaction, the case updated but not committed: the other
    // moderator's change starts now. On PostgreSQL it runs alongside and must wait for the
    // case's row before it reads its status; on SQLite the one connection runs it after.
    const inTransaction = interleave(t.ctx.repos.cases, 'update', async () => {
      second = toStatus(admin, 'closed').then((r) => r);
      await Promise.race([second, isPostgres(t.db) ? someoneWaitsOnALock(t.db) : someoneWaitsForTheConnection(t.db)]);
    });
    const first = await toStatus(mod, 'waiting_for_survivor');
    expect(inTransaction).toHaveBeenCalled();
    expect(first.status).toBe(200);
    expect((await second!).status).toBe(200);
    expect(await changesAfter(since)).toEqual(chain);
  });
});

describe('POST /api/staff/cases/:caseId/read with bad input', () => {
  const path = () => `/api/staff/cases/${caseId}/read`;
  test.each([
    ['no seq', {}, 'seq'],
    ['a negative seq', { seq: -1 }, 'seq'],
    ['a seq as text', { seq: '1' }, 'seq'],
    ['a fractional seq', { seq: 1.5 }, 'seq'],
    ['an unknown field', { seq: 0, extra: true }, 'extra'],
    ['a seq beyond the thread', { seq: 999 }, 'seq'],
  ])('%s: 400 naming it, nothing written', async (_what, body, mentions) => {
    const res = await unchanged(t, () => mod.agent.post(path()).send(body));
    expectError(res, 400, 'invalid_request', mentions);
  });

  test('an unknown case is 404, a bad case id 400, an advocate 403, nobody 401: nothing written', async () => {
    await unchanged(t, async () => {
      expectError(await mod.agent.post('/api/staff/cases/AAAAAAAAAAAAAAAAAAAAAA/read').send({ seq: 0 }), 404, 'not_found');
      expectError(await mod.agent.post('/api/staff/cases/not*an*id/read').send({ seq: 0 }), 400, 'invalid_request', 'caseId');
      expectError(await advocate.agent.post(path()).send({ seq: 0 }), 403);
      expectError(await request(t.app).post(path()).send({ seq: 0 }), 401);
    });
  });
});

test('GET /api/staff/inbox/unread refuses a query parameter and a non-moderator', async () => {
  await unchanged(t, async () => {
    expectError(await mod.agent.get('/api/staff/inbox/unread?status=new'), 400, 'invalid_request', 'status');
    expectError(await advocate.agent.get('/api/staff/inbox/unread'), 403);
  });
});

describe('POST /api/staff/session/key', () => {
  test('one random key per session, the same at every ask, gone when the session ends', async () => {
    const agent = await signIn(t, mod);
    const first = await agent.post('/api/staff/session/key').send({});
    expect(first.status).toBe(200);
    expect(first.body.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await agent.post('/api/staff/session/key').send({})).body.key).toBe(first.body.key);

    const other = await signIn(t, mod);
    const second = await other.post('/api/staff/session/key').send({});
    expect(second.body.key).not.toBe(first.body.key);

    const stored = await t.db('staff_sessions').whereNotNull('reload_key').pluck('reload_key');
    expect(stored).toEqual(expect.arrayContaining([first.body.key, second.body.key]));
    expect((await agent.post('/api/staff/logout').send({})).status).toBe(204);
    expect(await t.db('staff_sessions').where({ reload_key: first.body.key })).toEqual([]);
    expectError(await agent.post('/api/staff/session/key').send({}), 401);
    expect((await other.post('/api/staff/session/key').send({})).body.key).toBe(second.body.key);
  });

  test('bad input: a body with fields, no session; nothing written', async () => {
    await unchanged(t, async () => {
      expectError(await mod.agent.post('/api/staff/session/key').send({ key: 'mine' }), 400, 'invalid_request', 'key');
      expectError(await request(t.app).post('/api/staff/session/key').send({}), 401);
    });
  });
});
