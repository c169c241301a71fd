/**
 * Group commit (issue 14): testimonies and rate-limit counters that arrive together share one
 * transaction and one statement each, and yet each request gets exactly the answer it would
 * have had alone: a refused one writes nothing, the others are stored. Counts, not times.
 */
import request from 'supertest';
import { fromBase64url, randomId, verifyEnvelope, type SignedKeyset } from '../../protocol';
import { nodeBackend } from '../../server/crypto/node-backend';
import { DatabaseRateLimitCounters } from '../../server/db/rate-limit-store';
import { HttpError } from '../../server/http/errors';
import type { NewTestimony } from '../../server/services/survivors';
import {
  currentKeyset,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  snapshot,
  statementsOf,
  TEST_ENGINE,
  testimonyEnvelope,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';

let t: TestServer;
let survivor: SurvivorActor;
let keyset: SignedKeyset;
beforeAll(async () => {
  t = await makeTestServer();
  await setupAdmin(t);
  survivor = await registerSurvivor(t);
  keyset = await currentKeyset(t);
});
afterAll(() => t.close());

/** A testimony as submitTestimony hands it to the writer, every check that needs no write passed. */
async function newTestimony(overrides: Partial<NewTestimony> = {}, caseId = randomId()): Promise<NewTestimony> {
  const record = (await t.ctx.repos.survivors.byId((await t.db('survivors').where({ handle: survivor.handle }).first()).id))!;
  const envelope = testimonyEnvelope(survivor, keyset, `testimony for ${caseId}`, caseId);
  return {
    survivor: record,
    envelope,
    verified: verifyEnvelope(envelope, [fromBase64url(record.signPk)], nodeBackend),
    keysetVersion: keyset.keyset.version,
    pow: await pow(t),
    sharing: { advocatesMayRead: false, statistics: null },
    attachments: [],
    day: t.ctx.clock.today(),
    ...overrides,
  };
}

/** Sends every testimony to the writer in the same turn of the event loop, so that they form one batch. */
function writeTogether(batch: NewTestimony[]): Promise<PromiseSettledResult<void>[]> {
  return Promise.allSettled(batch.map((item) => t.ctx.testimonies.run(item)));
}

const codeOf = (r: PromiseSettledResult<void>) => (r.status === 'rejected' && r.reason instanceof HttpError ? r.reason.code : r.status);

/** PostgreSQL: one shared lock per batch against a keyset publication in flight (server/db/keyset-repo.ts). */
const LOCK_STATEMENTS = TEST_ENGINE === 'pg' ? 1 : 0;

test(`eight testimonies sent together are one transaction of ${8 + LOCK_STATEMENTS} statements, and all are stored`, async () => {
  const batch = await Promise.all(Array.from({ length: 8 }, () => newTestimony()));
  const { result, sqls } = await statementsOf(t.db, () => writeTogether(batch));
  expect(result.map(codeOf)).toEqual(Array(8).fill('fulfilled'));
  // BEGIN, the survivors still there, (PostgreSQL) the lock against a keyset publication, the
  // keyset's version, the cases, the challenges, the envelopes, their keys, COMMIT
  expect(sqls).toHaveLength(8 + LOCK_STATEMENTS);
  expect(sqls.filter((q) => /pg_advisory_xact_lock_shared/.test(q))).toHaveLength(LOCK_STATEMENTS);
  expect(sqls.filter((q) => /^BEGIN/i.test(q))).toHaveLength(1);
  for (const item of batch) {
    expect(await t.db('cases').where({ id: item.envelope.caseId }).first()).toBeDefined();
    expect(await t.db('envelopes').where({ case_id: item.envelope.caseId, kind: 'testimony' })).toHaveLength(1);
    expect(await t.db('challenges').where({ challenge: item.pow.challenge })).toHaveLength(0);
  }
  // the key rows went to the right envelopes
  const rows = await t.ctx.repos.envelopes.threadsOfCases(batch.map((b) => b.envelope.caseId));
  for (const item of batch) expect(rows.find((r) => r.caseId === item.envelope.caseId)?.envelope.keys).toEqual(item.envelope.keys);
});

test('in one batch each refusal is its own: refused ones write nothing, the others are stored', async () => {
  const taken = await newTestimony();
  await writeTogether([taken]);
  const good = await newTestimony();
  const sameIdAsTaken = await newTestimony({}, taken.envelope.caseId);
  const twinA = await newTestimony();
  const twinB = await newTestimony({}, twinA.envelope.caseId);
  const badNonce = await newTestimony();
  badNonce.pow = { challenge: badNonce.pow.challenge, nonce: badNonce.pow.nonce + 1 };
  // POW_BITS=2: the next nonce solves it one time in four; find one that does not
  while ((await import('../../protocol')).checkPow(badNonce.pow.challenge, badNonce.pow.nonce, 2)) badNonce.pow.nonce++;
  const unknownChallenge = await newTestimony({ pow: { challenge: 'A'.repeat(43), nonce: 0 } });
  const spentTwice = await newTestimony();
  const reusesChallenge = await newTestimony({ pow: spentTwice.pow });
  const futureKeyset = await newTestimony({ keysetVersion: keyset.keyset.version + 1 });
  const after = await newTestimony();

  const before = await snapshot(t.db);
  const batch = [good, sameIdAsTaken, twinA, twinB, badNonce, unknownChallenge, spentTwice, reusesChallenge, futureKeyset, after];
  const result = await writeTogether(batch);
  expect(result.map(codeOf)).toEqual([
    'fulfilled',
    'case_exists',
    'fulfilled',
    'case_exists',
    'bad_pow',
    'bad_pow',
    'fulfilled',
    'bad_pow',
    'keyset_changed',
    'fulfilled',
  ]);
  // the refused bad nonce's challenge is still there to be answered right
  expect(await t.db('challenges').where({ challenge: badNonce.pow.challenge })).toHaveLength(1);
  // the taken case is unchanged, and no refused request left a case, an envelope or a key row
  const now = await snapshot(t.db);
  const accepted = batch.filter((_, i) => result[i].status === 'fulfilled').map((b) => b.envelope.caseId);
  const newCases = (now.cases as { id: string }[]).filter((c) => !(before.cases as { id: string }[]).some((b) => b.id === c.id));
  expect(newCases.map((c) => c.id).sort()).toEqual([...accepted].sort());
  expect(now.envelopes.length - before.envelopes.length).toBe(accepted.length);
  expect(now.envelope_keys.length - before.envelope_keys.length).toBe(accepted.length * good.envelope.keys.length);
  // the challenges spent are those of the accepted testimonies, no other
  const spent = (before.challenges as { challenge: string }[]).filter(
    (c) => !(now.challenges as { challenge: string }[]).some((n) => n.challenge === c.challenge),
  );
  expect(spent.map((c) => c.challenge).sort()).toEqual(
    batch
      .filter((_, i) => result[i].status === 'fulfilled')
      .map((b) => b.pow.challenge)
      .sort(),
  );
});

test('a survivor erased since her keys were read is refused inside the transaction, and the others are stored', async () => {
  const fine = await newTestimony();
  const erased = await newTestimony();
  erased.survivor = { ...erased.survivor, id: randomId() };
  const result = await writeTogether([fine, erased]);
  expect(result.map(codeOf)).toEqual(['fulfilled', 'unauthorized']);
  expect(await t.db('cases').where({ id: erased.envelope.caseId }).first()).toBeUndefined();
  expect(await t.db('challenges').where({ challenge: erased.pow.challenge })).toHaveLength(1);
});

test('a batch that fails as a whole is tried again one by one, so only the failing testimony is refused', async () => {
  const fine = await newTestimony();
  // an attachment that is not there: linking it throws inside the transaction, failing the batch
  const failing = await newTestimony({ attachments: [randomId()] });
  const alsoFine = await newTestimony();
  const result = await writeTogether([fine, failing, alsoFine]);
  expect(result.map(codeOf)).toEqual(['fulfilled', 'conflict', 'fulfilled']);
  expect(await t.db('cases').where({ id: failing.envelope.caseId }).first()).toBeUndefined();
  expect(await t.db('challenges').where({ challenge: failing.pow.challenge })).toHaveLength(1);
  expect(await t.db('cases').where({ id: fine.envelope.caseId }).first()).toBeDefined();
  expect(await t.db('cases').where({ id: alsoFine.envelope.caseId }).first()).toBeDefined();
});

test('rate-limit hits that arrive together are one statement, and each request gets the count it would have had alone', async () => {
  const counters = new DatabaseRateLimitCounters(t.db, t.ctx.clock);
  const { result, sqls } = await statementsOf(t.db, () =>
    Promise.all([
      counters.increment('test:a', 60_000),
      counters.increment('test:b', 60_000),
      counters.increment('test:a', 60_000),
      counters.increment('test:a', 60_000),
    ]),
  );
  expect(sqls).toHaveLength(1);
  expect(result.map((r) => r.totalHits)).toEqual([1, 1, 2, 3]);
  const next = await counters.increment('test:a', 60_000);
  expect(next.totalHits).toBe(4);
  expect(Number((await t.db('rate_limits').where({ key: 'test:a' }).first()).hits)).toBe(4);
  expect(result[0].resetTime?.getTime()).toBe(next.resetTime?.getTime());
});

test('a submission over HTTP still answers 201, and the limiters still count each request', async () => {
  const remaining = (res: request.Response) => [...String(res.headers['ratelimit']).matchAll(/r=(\d+)/g)].map((m) => Number(m[1]));
  const item = await newTestimony();
  const res = await request(t.app)
    .post('/api/survivor/cases')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ envelope: item.envelope, keysetVersion: item.keysetVersion, pow: item.pow });
  expect(res.status).toBe(201);
  const again = await request(t.app).post('/api/pow').send({});
  // the general limiter's count went down by one between the two; the sensitive one by one too
  expect(remaining(again)).toEqual(remaining(res).map((r) => r - 1));
});
