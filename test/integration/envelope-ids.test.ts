/**
 * Envelope ids are drawn at random (server/db/envelope-repo.ts), so they no longer tell in which
 * order envelopes of different cases were written (SECURITY.md, "the order of messages across
 * cases"). A taken id is drawn again, alone or inside a batch of testimonies, and fails nobody;
 * a case's notes and drafts still come back in the order written; pending grants still page
 * through every envelope.
 */
import request from 'supertest';
import { envelopeHash, fromBase64url, randomId, readersOf, sealEnvelope, verifyEnvelope, type Envelope } from '../../protocol';
import type { PendingGrants, StaffCaseDetail, SurvivorCase } from '../../protocol/api';
import { nodeBackend } from '../../server/crypto/node-backend';
import { MAX_ENVELOPE_ID, randomEnvelopeId } from '../../server/db/envelope-repo';
import type { NewTestimony } from '../../server/services/survivors';
import {
  addStaff,
  currentKeyset,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  statementsOf,
  submitTestimony,
  testimonyEnvelope,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';

/** Ids the next draws return, in order, before the random source takes over again. */
const planned: number[] = [];
let t: TestServer;
let admin: StaffActor;
let mod: StaffActor;
let alice: SurvivorActor;
let bea: SurvivorActor;
let caseA: string;
let caseB: string;
/** The hash of every envelope written, in the order written. */
const written: string[] = [];
/** Case B's notes, in the order written. */
const notesOfB: string[] = [];

beforeAll(async () => {
  t = await makeTestServer({}, { drawEnvelopeId: () => planned.shift() ?? randomEnvelopeId() });
  admin = await setupAdmin(t, ['admin']);
  mod = await addStaff(t, admin, 'mod.one');
  alice = await registerSurvivor(t);
  bea = await registerSurvivor(t);
});
afterAll(() => t.close());

async function testify(survivor: SurvivorActor): Promise<string> {
  const { res, envelope } = await submitTestimony(t, survivor, 'what happened');
  expect(res.status).toBe(201);
  written.push(envelopeHash(envelope));
  return envelope.caseId;
}

async function threadOf(caseId: string): Promise<StaffCaseDetail> {
  const res = await mod.agent.get(`/api/staff/cases/${caseId}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** A message in the case's thread, from the moderator or its survivor, after the last one. */
async function message(caseId: string, from: StaffActor | SurvivorActor): Promise<Envelope> {
  const ks = await currentKeyset(t);
  const thread = (await threadOf(caseId)).thread;
  const survivor = caseId === caseA ? alice : bea;
  const envelope = sealEnvelope({
    kind: 'message',
    caseId,
    prev: envelopeHash(thread[thread.length - 1].envelope),
    body: { text: 'a message' },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
    signer: 'keys' in from ? from.keys.sign : from.sign,
  });
  const sent =
    'keys' in from
      ? await request(t.app)
          .post(`/api/survivor/cases/${caseId}/messages`)
          .set('Authorization', `Bearer ${from.token}`)
          .send({ envelope, keysetVersion: ks.keyset.version })
      : await from.agent.post(`/api/staff/cases/${caseId}/messages`).send({ envelope, keysetVersion: ks.keyset.version });
  expect(sent.status).toBe(201);
  written.push(envelopeHash(envelope));
  return envelope;
}

async function note(caseId: string): Promise<void> {
  const ks = await currentKeyset(t);
  const envelope = sealEnvelope({ kind: 'note', caseId, body: { text: 'a note' }, recipients: readersOf(ks.keyset), signer: mod.sign });
  expect((await mod.agent.post(`/api/staff/cases/${caseId}/notes`).send({ envelope, keysetVersion: ks.keyset.version })).status).toBe(201);
  written.push(envelopeHash(envelope));
  if (caseId === caseB) notesOfB.push(envelopeHash(envelope));
}

async function idOf(hash: string): Promise<number> {
  return Number((await t.db('envelopes').where({ hash }).first('id')).id);
}

test('envelopes written in turn across two cases do not get increasing ids', async () => {
  caseA = await testify(alice);
  caseB = await testify(bea);
  // A staff reply, the survivor's answer, a note in the other case...: 42 envelopes in all.
  for (let round = 0; round < 10; round++) {
    await message(caseA, mod);
    await message(caseA, alice);
    await note(caseB);
    await message(caseB, round % 2 ? bea : mod);
  }
  const ids = await Promise.all(written.map(idOf));
  expect(ids).toHaveLength(42);
  expect(new Set(ids).size).toBe(42);
  for (const id of ids) expect(id >= 1 && id <= MAX_ENVELOPE_ID).toBe(true);
  // Ids that counted up would be sorted; 42 random ones are, once in 42! (about 10^51).
  expect(ids).not.toEqual([...ids].sort((x, y) => x - y));
  // The API sends these ids, and the threads are still in order.
  const a = await threadOf(caseA);
  expect(a.thread.map((item) => item.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i));
  expect(a.thread.map((item) => item.id)).toEqual(await Promise.all(a.thread.map((item) => idOf(envelopeHash(item.envelope)))));
});

test("a case's notes and drafts come back in the order written", async () => {
  const b = await threadOf(caseB);
  expect(b.notes.map((item) => envelopeHash(item.envelope))).toEqual(notesOfB);
  // position_in_case counts every envelope of the case in the order written.
  const positions = await t.db('envelopes').where({ case_id: caseB }).select('hash', 'position_in_case');
  const positionOf = new Map(positions.map((r: { hash: string; position_in_case: number }) => [r.hash, Number(r.position_in_case)]));
  const ofB = written.filter((h) => positionOf.has(h));
  expect(ofB.map((h) => positionOf.get(h))).toEqual(ofB.map((_, i) => i));

  const ks = await currentKeyset(t);
  // Drafts need a case open to advocates (there are none to grant the testimony to).
  const opened = await request(t.app)
    .post(`/api/survivor/cases/${caseA}/sharing`)
    .set('Authorization', `Bearer ${alice.token}`)
    .send({ sharing: { advocatesMayRead: true, statistics: null }, keysetVersion: ks.keyset.version });
  expect(opened.status).toBe(200);
  const drafts: string[] = [];
  for (let n = 0; n < 4; n++) {
    const draftId = randomId();
    const envelope = sealEnvelope({
      kind: 'draft',
      caseId: caseA,
      body: { draft: { draftId, title: `draft ${n}`, text: 'the story', context: 'workplace' } },
      recipients: [alice.keys.box.publicKey, ...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')],
      signer: mod.sign,
    });
    const res = await mod.agent.post(`/api/staff/cases/${caseA}/drafts`).send({ draftId, envelope, keysetVersion: ks.keyset.version });
    expect(res.status).toBe(201);
    drafts.push(envelopeHash(envelope));
  }
  const mine = await request(t.app).get('/api/survivor/cases').set('Authorization', `Bearer ${alice.token}`);
  expect(mine.status).toBe(200);
  const shown = (mine.body.cases as SurvivorCase[]).find((c) => c.caseId === caseA)!;
  expect(shown.drafts.map((d) => d.version)).toEqual([1, 2, 3, 4]);
  expect(shown.drafts.map((d) => envelopeHash(d.item.envelope))).toEqual(drafts);
});

test('a message whose drawn id is taken gets the next draw, and is stored', async () => {
  const taken = await idOf(written[0]);
  const free = MAX_ENVELOPE_ID;
  expect(await t.db('envelopes').where({ id: free }).first()).toBeUndefined();
  planned.push(taken, free);
  const envelope = await message(caseA, alice);
  expect(planned).toEqual([]);
  expect(await idOf(envelopeHash(envelope))).toBe(free);
  // The envelope that held the id is untouched, and the new one has its keys.
  expect(await idOf(written[0])).toBe(taken);
  expect(await t.db('envelope_keys').where({ envelope_id: free })).toHaveLength(envelope.keys.length);
});

test('the draws are bounded: an insert that finds every drawn id taken fails alone and writes nothing', async () => {
  const count = async () => Number((await t.db('envelopes').count({ n: '*' }))[0].n);
  const before = await count();
  planned.push(...Array(8).fill(await idOf(written[0])));
  const ks = await currentKeyset(t);
  const envelope = sealEnvelope({ kind: 'note', caseId: caseB, body: { text: 'x' }, recipients: readersOf(ks.keyset), signer: mod.sign });
  const res = await mod.agent.post(`/api/staff/cases/${caseB}/notes`).send({ envelope, keysetVersion: ks.keyset.version });
  expect(res.status).toBe(500);
  expect(planned).toEqual([]);
  expect(await count()).toBe(before);
  // The next note, with a random id, is stored.
  await note(caseB);
  expect(await count()).toBe(before + 1);
});

test('inside a batch of testimonies, a taken id and an id drawn twice are drawn again, with one more statement, and every testimony is stored', async () => {
  const ks = await currentKeyset(t);
  const survivor = (await t.ctx.repos.survivors.byId((await t.db('survivors').where({ handle: alice.handle }).first()).id))!;
  const batch: NewTestimony[] = [];
  for (let n = 0; n < 3; n++) {
    const envelope = testimonyEnvelope(alice, ks, `testimony ${n}`);
    batch.push({
      survivor,
      envelope,
      verified: verifyEnvelope(envelope, [fromBase64url(survivor.signPk)], nodeBackend),
      keysetVersion: ks.keyset.version,
      pow: await pow(t),
      sharing: { advocatesMayRead: false, statistics: null },
      attachments: [],
      day: t.ctx.clock.today(),
    });
  }
  const fresh = [MAX_ENVELOPE_ID - 1, MAX_ENVELOPE_ID - 2, MAX_ENVELOPE_ID - 3];
  expect(await t.db('envelopes').whereIn('id', fresh)).toEqual([]);
  // The first statement draws a taken id, then the same fresh one twice: one row goes in.
  planned.push(await idOf(written[1]), fresh[0], fresh[0], fresh[1], fresh[2]);
  const { result, sqls } = await statementsOf(t.db, () => Promise.allSettled(batch.map((item) => t.ctx.testimonies.run(item))));
  expect(result.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
  expect(planned).toEqual([]);
  expect(sqls.filter((q) => /^insert into .envelopes./i.test(q))).toHaveLength(2);
  const ids = await Promise.all(batch.map((item) => idOf(item.verified.hash)));
  expect([...ids].sort()).toEqual([...fresh].sort());
  for (const [n, item] of batch.entries()) {
    const [row] = await t.ctx.repos.envelopes.threadsOfCases([item.envelope.caseId]);
    expect(row).toMatchObject({ id: ids[n], seq: 0 });
    expect(row.envelope.keys).toEqual(item.envelope.keys);
  }
});

test('several envelopes of one case in one insertMany (as bench seeding writes them) keep their order, even when a taken id sends one to a later statement', async () => {
  const ks = await currentKeyset(t);
  const survivorId = (await t.db('survivors').where({ handle: bea.handle }).first()).id;
  const testimony = testimonyEnvelope(bea, ks, 'seeded');
  const caseId = testimony.caseId;
  const recipients = [bea.keys.box.publicKey, ...readersOf(ks.keyset)];
  const first = sealEnvelope({ kind: 'message', caseId, prev: envelopeHash(testimony), body: { text: '1' }, recipients, signer: mod.sign });
  const aside = sealEnvelope({ kind: 'note', caseId, body: { text: 'aside' }, recipients: readersOf(ks.keyset), signer: mod.sign });
  const second = sealEnvelope({ kind: 'message', caseId, prev: envelopeHash(first), body: { text: '2' }, recipients, signer: mod.sign });
  const list = [
    { envelope: testimony, signer: bea.keys.sign.publicKey, seq: 0, fromStaff: false },
    { envelope: first, signer: mod.sign.publicKey, seq: 1, fromStaff: true },
    { envelope: aside, signer: mod.sign.publicKey, seq: null, fromStaff: true },
    { envelope: second, signer: mod.sign.publicKey, seq: 2, fromStaff: true },
  ].map(({ envelope, signer, seq, fromStaff }) => ({
    envelope,
    verified: verifyEnvelope(envelope, [signer], nodeBackend),
    seq,
    fromStaff,
    day: t.ctx.clock.today(),
  }));
  const fresh = [MAX_ENVELOPE_ID - 4, MAX_ENVELOPE_ID - 5, MAX_ENVELOPE_ID - 6, MAX_ENVELOPE_ID - 7];
  planned.push(fresh[0], await idOf(written[0]), fresh[1], fresh[2], fresh[3]);
  const ids = await t.db.transaction(async (trx) => {
    await t.ctx.repos.cases.insertMany(trx, [{ id: caseId, survivorId, advocatesMayRead: false, day: t.ctx.clock.today() }]);
    return t.ctx.repos.envelopes.insertMany(trx, list);
  });
  expect(planned).toEqual([]);
  expect(ids).toEqual([fresh[0], fresh[3], fresh[1], fresh[2]]);
  const rows = await t.db('envelopes').where({ case_id: caseId }).select('hash', 'position_in_case');
  const positionOf = new Map(rows.map((r: { hash: string; position_in_case: number }) => [r.hash, Number(r.position_in_case)]));
  expect(list.map((e) => positionOf.get(e.verified.hash))).toEqual([0, 1, 2, 3]);
  expect((await threadOf(caseId)).notes.map((item) => envelopeHash(item.envelope))).toEqual([envelopeHash(aside)]);
});

test('pending grants page through every envelope, each once', async () => {
  const late = await addStaff(t, admin, 'mod.late');
  const all = (await t.db('envelopes').pluck('id')).map(Number);
  const seen: number[] = [];
  let total: number | undefined;
  for (let after = 0; ;) {
    const page = await t.ctx.repos.envelopes.unreadableHashes(late.box.publicKey, after, 7, 'all', after === 0);
    total ??= page.total;
    if (page.items.length === 0) break;
    seen.push(...page.items.map((item) => item.id));
    after = page.items[page.items.length - 1].id;
  }
  expect(total).toBe(all.length);
  expect(seen).toHaveLength(all.length);
  expect([...seen].sort((x, y) => x - y)).toEqual([...all].sort((x, y) => x - y));
  // The route pages the same way.
  const res = await mod.agent.get(`/api/staff/grants/pending?staffId=${late.staffId}&after=0`);
  expect(res.status).toBe(200);
  const body: PendingGrants = res.body;
  expect(body.total).toBe(all.length);
  expect(body.items.map((item) => item.id)).toEqual([...all].sort((x, y) => x - y));
});
