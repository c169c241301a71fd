/**
 * How many SQL statements one survivor submission runs (issue 14): each one is a round trip to
 * the database thread (SQLite) or server (PostgreSQL), so a statement that creeps back shows
 * here. A count, not a time. Every statement knex sends is counted, BEGIN and COMMIT included.
 * A lone submission; test/integration/group-commit.test.ts counts those of a batch.
 */
import request from 'supertest';
import { randomId } from '../../protocol';
import {
  currentKeyset,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  statementsOf,
  TEST_ENGINE,
  testimonyEnvelope,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';

let t: TestServer;
let survivor: SurvivorActor;
beforeAll(async () => {
  t = await makeTestServer();
  await setupAdmin(t);
  survivor = await registerSurvivor(t);
});
afterAll(() => t.close());

/** Submits one testimony with everything prepared beforehand, and returns the statements it ran. */
async function submissionStatements(sharing?: object): Promise<string[]> {
  const keyset = await currentKeyset(t);
  const envelope = testimonyEnvelope(survivor, keyset, 'it happened at the office', randomId());
  const body = { envelope, keysetVersion: keyset.keyset.version, pow: await pow(t), ...(sharing ? { sharing } : {}) };
  const { sqls } = await statementsOf(t.db, async () => {
    const res = await request(t.app).post('/api/survivor/cases').set('Authorization', `Bearer ${survivor.token}`).send(body);
    expect(res.status).toBe(201);
  });
  // the case is really there, with what was asked
  expect(await t.db('cases').where({ id: envelope.caseId }).first()).toBeDefined();
  return sqls;
}

/**
 * The rate-limit counters' upserts: two on PostgreSQL, where the counters are rows; none on
 * SQLite, where they are in the server's memory (server/db/rate-limit-store.ts).
 */
const COUNTER_STATEMENTS = TEST_ENGINE === 'pg' ? 2 : 0;
/**
 * PostgreSQL: the batch's shared lock against a keyset publication (a removal) in flight,
 * before its keyset version is read (server/db/keyset-repo.ts `holdOffPublications`); SQLite's
 * one connection needs none.
 */
const LOCK_STATEMENTS = TEST_ENGINE === 'pg' ? 1 : 0;
const EXTRA = COUNTER_STATEMENTS + LOCK_STATEMENTS;

test(`a testimony without statistics runs ${10 + EXTRA} statements the first time, ${8 + EXTRA} once its keyset and survivor have been read`, async () => {
  const first = await submissionStatements();
  expect(first).toHaveLength(10 + EXTRA);
  expect(first.filter((sql) => /rate_limits/.test(sql))).toHaveLength(COUNTER_STATEMENTS);
  expect(first.filter((sql) => /pg_advisory_xact_lock_shared/.test(sql))).toHaveLength(LOCK_STATEMENTS);
  expect(first.filter((sql) => /keysets/.test(sql) && !/max\(/.test(sql))).toHaveLength(1);
  const second = await submissionStatements();
  // the rate-limit counters (PostgreSQL), then BEGIN, the survivor still there, the lock
  // against a keyset publication (PostgreSQL), the keyset's version, the case, the challenge,
  // the envelope, its keys and COMMIT
  expect(second).toHaveLength(8 + EXTRA);
  const keysetReads = second.filter((sql) => /keysets/.test(sql));
  expect(keysetReads).toHaveLength(1);
  expect(keysetReads[0]).toMatch(/max\(/);
});

test('sharing statistics adds one insert', async () => {
  expect(await submissionStatements({ advocatesMayRead: false, statistics: { context: 'workplace', year: 2019 } })).toHaveLength(9 + EXTRA);
});
