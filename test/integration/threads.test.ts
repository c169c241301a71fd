/**
 * Staff workspace through the API with the real protocol: threads between a moderator and
 * the survivor, internal notes, status and assignee, re-wrap grants for a newer moderator,
 * and removal erasing the keys wrapped to a removed member.
 */
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  envelopeHash,
  fromBase64url,
  keyId,
  makeGrant,
  rewrapKey,
  signGrantBatch,
  openEnvelope,
  readersOf,
  sealEnvelope,
  signKeyset,
  keysetHash,
  utcDay,
  verifyThread,
  type Envelope,
} from '../../protocol';
import type { EnvelopeItem, PendingGrants, StaffCaseDetail } from '../../protocol/api';
import { foundInDatabase } from '../support/database-files';
import {
  addStaff,
  currentKeyset,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  snapshot,
  submitTestimony,
  unchanged,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { interleave } from '../support/interleave';
import { expectError } from './expect-error';

let t: TestServer;
let admin: StaffActor;
let mod: StaffActor;
let survivor: SurvivorActor;
let caseId: string;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t, ['admin']);
  mod = await addStaff(t, admin, 'mod.one');
  survivor = await registerSurvivor(t);
  const { res, envelope } = await submitTestimony(t, survivor, 'the testimony');
  expect(res.status).toBe(201);
  caseId = envelope.caseId;
});
afterAll(() => t.close());
afterEach(() => jest.restoreAllMocks());

async function detail(actor: StaffActor, id = caseId): Promise<StaffCaseDetail> {
  const res = await actor.agent.get(`/api/staff/cases/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

function openAs(box: nacl.BoxKeyPair, item: EnvelopeItem, signers: Uint8Array[], granters: Uint8Array[] = []) {
  return openEnvelope<{ text?: string }>(item.envelope, {
    box,
    expectedKind: item.envelope.kind,
    expectedCaseId: item.envelope.caseId,
    trustedSigners: signers,
    grants: item.grants,
    trustedGranters: granters,
  });
}

async function staffMessage(
  actor: StaffActor,
  text: string,
  thread: EnvelopeItem[],
  opts: { prev?: string; recipients?: Uint8Array[] } = {},
): Promise<Envelope> {
  const ks = await currentKeyset(t);
  return sealEnvelope({
    kind: 'message',
    caseId,
    prev: opts.prev ?? envelopeHash(thread[thread.length - 1].envelope),
    body: { text },
    recipients: opts.recipients ?? [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
    signer: actor.sign,
  });
}

function survivorMessage(text: string, prev: string, recipients: Uint8Array[]): Envelope {
  return sealEnvelope({
    kind: 'message',
    caseId,
    prev,
    body: { text },
    recipients: [survivor.keys.box.publicKey, ...recipients],
    signer: survivor.keys.sign,
  });
}

const post = (actor: StaffActor, path: string, body: object) => actor.agent.post(path).send(body);
const asSurvivor = (method: 'get' | 'post', path: string) => request(t.app)[method](path).set('Authorization', `Bearer ${survivor.token}`);

test('a moderator replies, the survivor sees it unread, answers, and the moderator reads the whole thread in order', async () => {
  const ks = await currentKeyset(t);
  const first = await detail(mod);
  const reply = await staffMessage(mod, 'we are reading you', first.thread);
  const sent = await post(mod, `/api/staff/cases/${caseId}/messages`, {
    envelope: reply,
    keysetVersion: ks.keyset.version,
    status: 'waiting_for_survivor',
  });
  expect(sent.status).toBe(201);
  expect(sent.body.seq).toBe(1);

  const mine = await asSurvivor('get', '/api/survivor/cases');
  const c = mine.body.cases[0];
  expect(c.status).toBe('waiting_for_survivor');
  expect(c.unread).toBe(1);
  expect(c.thread.map((i: EnvelopeItem) => i.seq)).toEqual([0, 1]);
  verifyThread(
    c.thread.map((i: EnvelopeItem) => i.envelope),
    caseId,
  );
  expect(openAs(survivor.keys.box, c.thread[1], [mod.sign.publicKey]).body.text).toBe('we are reading you');
  expect((await asSurvivor('post', `/api/survivor/cases/${caseId}/seen`).send({ seq: 1 })).status).toBe(204);
  expect((await asSurvivor('get', '/api/survivor/cases')).body.cases[0].unread).toBe(0);
  expect((await asSurvivor('post', `/api/survivor/cases/${caseId}/seen`).send({ seq: 5 })).status).toBe(400);

  const answer = survivorMessage('thank you', envelopeHash(c.thread[1].envelope), readersOf(ks.keyset));
  const answered = await asSurvivor('post', `/api/survivor/cases/${caseId}/messages`).send({
    envelope: answer,
    keysetVersion: ks.keyset.version,
  });
  expect(answered.status).toBe(201);

  const after = await detail(mod);
  expect(after.status).toBe('in_review');
  expect(after.awaitingStaff).toBe(true);
  verifyThread(
    after.thread.map((i) => i.envelope),
    caseId,
  );
  expect(openAs(mod.box, after.thread[2], [survivor.keys.sign.publicKey]).body.text).toBe('thank you');
});

test('the server refuses a message that does not follow the thread head, is signed by someone else, or is addressed wrongly, and writes nothing', async () => {
  const ks = await currentKeyset(t);
  const d = await detail(mod);
  const before = await snapshot(t.db);
  const stale = await staffMessage(mod, 'stale', d.thread, { prev: envelopeHash(d.thread[0].envelope) });
  expect(
    (await post(mod, `/api/staff/cases/${caseId}/messages`, { envelope: stale, keysetVersion: ks.keyset.version })).body.error.code,
  ).toBe('thread_moved');
  const byAdmin = await staffMessage(admin, 'not mine', d.thread);
  expect(
    (await post(mod, `/api/staff/cases/${caseId}/messages`, { envelope: byAdmin, keysetVersion: ks.keyset.version })).body.error.code,
  ).toBe('untrusted_signer');
  const noSurvivor = await staffMessage(mod, 'x', d.thread, { recipients: readersOf(ks.keyset) });
  expect(
    (await post(mod, `/api/staff/cases/${caseId}/messages`, { envelope: noSurvivor, keysetVersion: ks.keyset.version })).body.error.code,
  ).toBe('missing_recipient');
  const stranger = await staffMessage(mod, 'x', d.thread, {
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset), nacl.box.keyPair().publicKey],
  });
  expect(
    (await post(mod, `/api/staff/cases/${caseId}/messages`, { envelope: stranger, keysetVersion: ks.keyset.version })).body.error.code,
  ).toBe('unknown_recipient');
  const noteToSurvivor = sealEnvelope({
    kind: 'note',
    caseId,
    body: { text: 'x' },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
    signer: mod.sign,
  });
  expect(
    (await post(mod, `/api/staff/cases/${caseId}/notes`, { envelope: noteToSurvivor, keysetVersion: ks.keyset.version })).body.error.code,
  ).toBe('forbidden_recipient');
  expect(
    (
      await post(mod, `/api/staff/cases/${caseId}/notes`, {
        envelope: await staffMessage(mod, 'x', d.thread),
        keysetVersion: ks.keyset.version,
      })
    ).body.error.code,
  ).toBe('wrong_kind');
  // A survivor cannot write into a case that is not theirs.
  const other = await registerSurvivor(t);
  const intrusion = sealEnvelope({
    kind: 'message',
    caseId,
    prev: envelopeHash(d.thread[d.thread.length - 1].envelope),
    body: { text: 'x' },
    recipients: [other.keys.box.publicKey, ...readersOf(ks.keyset)],
    signer: other.keys.sign,
  });
  const res = await request(t.app)
    .post(`/api/survivor/cases/${caseId}/messages`)
    .set('Authorization', `Bearer ${other.token}`)
    .send({ envelope: intrusion, keysetVersion: ks.keyset.version });
  expect(res.status).toBe(404);
  const now = await snapshot(t.db);
  expect({ ...now, survivors: [], challenges: [] }).toEqual({ ...before, survivors: [], challenges: [] });
});

test('a reader detects messages that the server reordered or moved to another case', async () => {
  const d = await detail(mod);
  expect(d.thread.length).toBe(3);
  // The server swaps the order of the two messages.
  await t.db('envelopes').where({ case_id: caseId, seq: 1 }).update({ seq: 99 });
  await t.db('envelopes').where({ case_id: caseId, seq: 2 }).update({ seq: 1 });
  await t.db('envelopes').where({ case_id: caseId, seq: 99 }).update({ seq: 2 });
  const swapped = await detail(mod);
  expect(() =>
    verifyThread(
      swapped.thread.map((i) => i.envelope),
      caseId,
    ),
  ).toThrow(/reordered, removed or swapped/);
  await t.db('envelopes').where({ case_id: caseId, seq: 1 }).update({ seq: 99 });
  await t.db('envelopes').where({ case_id: caseId, seq: 2 }).update({ seq: 1 });
  await t.db('envelopes').where({ case_id: caseId, seq: 99 }).update({ seq: 2 });
  verifyThread(
    (await detail(mod)).thread.map((i) => i.envelope),
    caseId,
  );

  // The server moves a message into another case's thread.
  const second = await submitTestimony(t, survivor, 'a second testimony');
  const moved = d.thread[1];
  const secondThread = (await detail(mod, second.envelope.caseId)).thread;
  expect(() => verifyThread([...secondThread.map((i) => i.envelope), moved.envelope], second.envelope.caseId)).toThrow(/another case/);
});

test('notes reach moderators only; status, assignee and the inbox filters work', async () => {
  const ks = await currentKeyset(t);
  const note = sealEnvelope({ kind: 'note', caseId, body: { text: 'internal' }, recipients: readersOf(ks.keyset), signer: mod.sign });
  expect((await post(mod, `/api/staff/cases/${caseId}/notes`, { envelope: note, keysetVersion: ks.keyset.version })).status).toBe(201);
  const d = await detail(mod);
  expect(d.notes).toHaveLength(1);
  expect(openAs(mod.box, d.notes[0], [mod.sign.publicKey]).body.text).toBe('internal');
  const survivorView = await asSurvivor('get', '/api/survivor/cases');
  expect(JSON.stringify(survivorView.body)).not.toContain(note.ciphertext);

  expect((await post(mod, `/api/staff/cases/${caseId}/assignee`, { staffId: mod.staffId })).status).toBe(200);
  expect((await post(mod, `/api/staff/cases/${caseId}/assignee`, { staffId: admin.staffId })).body.error.code).toBe('not_a_moderator');
  expect((await post(mod, `/api/staff/cases/${caseId}/status`, { status: 'closed' })).status).toBe(200);
  expect((await post(mod, `/api/staff/cases/${caseId}/status`, { status: 'archived' })).status).toBe(400);

  const mine = await mod.agent.get('/api/staff/cases?assignee=me');
  expect(mine.body.cases.map((c: { caseId: string }) => c.caseId)).toEqual([caseId]);
  expect(mine.body.cases[0].assignee).toEqual({ id: mod.staffId, username: 'mod.one' });
  const closed = await mod.agent.get('/api/staff/cases?status=closed');
  expect(closed.body.total).toBe(1);
  const unassigned = await mod.agent.get('/api/staff/cases?assignee=none');
  expect(unassigned.body.cases.map((c: { caseId: string }) => c.caseId)).not.toContain(caseId);
  const today = utcDay();
  expect((await mod.agent.get(`/api/staff/cases?from=${today}&to=${today}&sort=oldest`)).body.total).toBe(2);
  expect((await mod.agent.get('/api/staff/cases?from=2001-01-01&to=2001-12-31')).body.total).toBe(0);
  expect((await mod.agent.get('/api/staff/cases?sort=sideways')).status).toBe(400);
});

describe('a newer moderator', () => {
  let late: StaffActor;
  beforeAll(async () => {
    late = await addStaff(t, admin, 'mod.late');
  });

  test('cannot read older cases until a moderator re-wraps them; forged grants are refused', async () => {
    const d = await detail(late);
    expect(() => openAs(late.box, d.thread[0], [survivor.keys.sign.publicKey])).toThrow(/not addressed/);

    const pending = await mod.agent.get(`/api/staff/grants/pending?staffId=${late.staffId}`);
    expect(pending.status).toBe(200);
    expect(pending.body.total).toBeGreaterThanOrEqual(5); // 2 testimonies, 2 messages, 1 note
    const items: PendingGrants['items'] = pending.body.items;
    // Later pages leave the total out: counting scans every envelope, and the client keeps the first page's.
    const later = await mod.agent.get(`/api/staff/grants/pending?staffId=${late.staffId}&after=${items[0].id}`);
    expect(later.status).toBe(200);
    expect(later.body.total).toBeUndefined();
    expect(later.body.items.map((i: { id: number }) => i.id)).toEqual(items.slice(1).map((i) => i.id));

    // Each item is the stored hash and the moderator's own key entry: no ciphertext.
    const envelopes = new Map<number, Envelope>();
    for (const id of new Set(items.map((i) => i.caseId))) {
      const d = await detail(mod, id);
      for (const e of [...d.thread, ...d.notes]) envelopes.set(e.id, e.envelope);
    }
    for (const i of items) {
      expect(Object.keys(i).sort()).toEqual(['caseId', 'grants', 'hash', 'id', 'key', 'kind']);
      expect(i.hash).toBe(envelopeHash(envelopes.get(i.id)!));
      expect(i.key).toEqual(envelopes.get(i.id)!.keys.find((k) => k.kid === keyId(mod.box.publicKey)));
    }
    expect(JSON.stringify(pending.body)).not.toContain(envelopes.get(items[0].id)!.ciphertext.slice(0, 40));

    const before = await snapshot(t.db);
    // v1 grants (pages loaded before v2) are still checked one by one.
    const v1 = {
      envelopeId: items[0].id,
      grant: makeGrant(envelopes.get(items[0].id)!, { box: mod.box, recipient: late.box.publicKey, granter: mod.sign }),
    };
    const forged = {
      ...v1,
      grant: {
        ...v1.grant,
        wrapped: makeGrant(envelopes.get(items[1].id)!, { box: mod.box, recipient: late.box.publicKey, granter: mod.sign }).wrapped,
      },
    };
    expect((await post(mod, '/api/staff/grants', { staffId: late.staffId, grants: [forged] })).body.error.code).toBe('bad_signature');
    const wrongTarget = makeGrant(envelopes.get(items[0].id)!, {
      box: mod.box,
      recipient: nacl.box.keyPair().publicKey,
      granter: mod.sign,
    });
    expect(
      (await post(mod, '/api/staff/grants', { staffId: late.staffId, grants: [{ envelopeId: items[0].id, grant: wrongTarget }] })).status,
    ).toBe(400);
    // Only the signed-in moderator's own signature may sign what they post.
    const signedByOther = makeGrant(envelopes.get(items[0].id)!, { box: mod.box, recipient: mod.box.publicKey, granter: mod.sign });
    expect(
      (await post(late, '/api/staff/grants', { staffId: mod.staffId, grants: [{ envelopeId: items[0].id, grant: signedByOther }] })).body
        .error.code,
    ).toBe('untrusted_signer');

    // v2: the rest as one batch, re-wrapped from the hashes and key entries alone, signed once.
    const rest = items.slice(1);
    const rewrap = { box: mod.box, recipient: late.box.publicKey, trustedGranters: [] };
    const leaves = rest.map((i) => rewrapKey({ envelopeHash: i.hash, key: i.key, grants: i.grants }, rewrap));
    const { sig } = signGrantBatch(leaves, mod.sign);
    const batch = {
      staffId: late.staffId,
      sig,
      grants: leaves.map((l, k) => ({ envelopeId: rest[k].id, epk: l.epk, wrapped: l.wrapped })),
    };
    const refusals: [string, object, StaffActor, number, string][] = [
      ['reordered', { ...batch, grants: [batch.grants[1], batch.grants[0], ...batch.grants.slice(2)] }, mod, 400, 'bad_signature'],
      ['one grant left out', { ...batch, grants: batch.grants.slice(1) }, mod, 400, 'bad_signature'],
      [
        'a grant moved to another envelope',
        { ...batch, grants: [{ ...batch.grants[0], envelopeId: items[0].id }, ...batch.grants.slice(1)] },
        mod,
        400,
        'bad_signature',
      ],
      [
        'another wrapped key',
        { ...batch, grants: [{ ...batch.grants[0], wrapped: batch.grants[1].wrapped }, ...batch.grants.slice(1)] },
        mod,
        400,
        'bad_signature',
      ],
      ['for someone who reads no cases', { ...batch, staffId: admin.staffId }, mod, 400, 'not_a_reader'],
      ['posted by another member', { ...batch, staffId: mod.staffId }, late, 400, 'bad_signature'],
      ['signed by another key', { ...batch, sig: signGrantBatch(leaves, admin.sign).sig }, mod, 400, 'bad_signature'],
      ['an envelope named twice', { ...batch, grants: [...batch.grants, batch.grants[0]] }, mod, 400, 'invalid_request'],
      [
        'an unknown envelope',
        { ...batch, grants: [{ ...batch.grants[0], envelopeId: 999999 }, ...batch.grants.slice(1)] },
        mod,
        400,
        'invalid_request',
      ],
      ['to themselves', { ...batch, staffId: mod.staffId }, mod, 400, 'invalid_request'],
    ];
    for (const [what, body, actor, status, code] of refusals) {
      const res = await post(actor, '/api/staff/grants/batch', body);
      expect([what, res.status, res.body.error?.code]).toEqual([what, status, code]);
    }
    expect(await snapshot(t.db)).toEqual(before);

    expect((await post(mod, '/api/staff/grants', { staffId: late.staffId, grants: [v1] })).status).toBe(201);
    const granted = await post(mod, '/api/staff/grants/batch', batch);
    expect(granted.status).toBe(201);
    expect(granted.body).toEqual({ granted: rest.length });
    const again = await post(mod, '/api/staff/grants/batch', batch);
    expect([again.status, again.body.error.code]).toEqual([409, 'already_granted']);
    expect((await mod.agent.get(`/api/staff/grants/pending?staffId=${late.staffId}`)).body.total).toBe(0);
    const stored = (
      (await t
        .db('envelope_grants')
        .where({ kid: keyId(late.box.publicKey) })
        .pluck('body')) as string[]
    ).map((b) => JSON.parse(b));
    expect(stored.map((g) => g.v).sort()).toEqual([1, ...rest.map(() => 2)]);
    expect(new Set(stored.filter((g) => g.v === 2).map((g) => g.sig)).size).toBe(1);

    // The newer moderator opens everything: the v1 grant, and each v2 grant alone.
    const granters = [mod.sign.publicKey];
    for (const id of new Set(items.map((i) => i.caseId))) {
      const now = await detail(late, id);
      const survivorPk = envelopes.get(now.thread[0].id)!.signer;
      for (const e of [...now.thread, ...now.notes]) {
        const signers = [fromBase64url(survivorPk), mod.sign.publicKey, admin.sign.publicKey];
        expect(openAs(late.box, e, signers, granters).body).toBeDefined();
      }
    }
    const now = await detail(late);
    expect(openAs(late.box, now.thread[0], [survivor.keys.sign.publicKey], granters).body.kind).toBe('testimony');
    expect(now.thread[0].grants[0].v).toBe(items[0].caseId === caseId && now.thread[0].id === items[0].id ? 1 : 2);
    expect(openAs(late.box, now.notes[0], [mod.sign.publicKey], granters).body.text).toBe('internal');
  });

  test('v1 grants too come only from a member who holds a key to each envelope: 403 and nothing stored; a grant received may be passed on', async () => {
    // The server cannot tell a genuine wrapped key from any other bytes, and a colleague gets
    // the first grant stored for them: one from a member who cannot open the envelope would
    // block every genuine one after it.
    const third = await addStaff(t, admin, 'mod.third');
    const ks = await currentKeyset(t);
    const note = sealEnvelope({
      kind: 'note',
      caseId,
      body: { text: 'for mod.one alone' },
      recipients: [mod.box.publicKey],
      signer: mod.sign,
    });
    const added = await post(mod, `/api/staff/cases/${caseId}/notes`, { envelope: note, keysetVersion: ks.keyset.version });
    expect(added.status).toBe(201);
    const noteId: number = added.body.id;

    // The newer moderator holds the testimony through the grant of the test above, and no key
    // to the note. Their grant of the note is signed by them and even wraps the right key
    // (made here with the holder's box key): the server refuses it for what it knows they
    // hold, not for the bytes, which it cannot check.
    const testimony = (await detail(late)).thread[0];
    expect(testimony.grants).toHaveLength(1);
    const passedOn = {
      envelopeId: testimony.id,
      grant: makeGrant(testimony.envelope, {
        box: late.box,
        grants: testimony.grants,
        trustedGranters: [mod.sign.publicKey],
        recipient: third.box.publicKey,
        granter: late.sign,
      }),
    };
    const ofNote = {
      envelopeId: noteId,
      grant: makeGrant(note, { box: mod.box, recipient: third.box.publicKey, granter: late.sign }),
    };
    const refused = await unchanged(t, () => post(late, '/api/staff/grants', { staffId: third.staffId, grants: [passedOn, ofNote] }));
    expectError(refused, 403, 'forbidden', 'grants[1]', 'no key');
    // All or nothing: the grant they may pass on is not stored either.
    expect(await t.db('envelope_grants').where({ kid: keyId(third.box.publicKey) })).toEqual([]);

    // What they hold through a grant, they may pass on; the third moderator opens it through that grant.
    expect(await post(late, '/api/staff/grants', { staffId: third.staffId, grants: [passedOn] })).toMatchObject({
      status: 201,
      body: { granted: 1 },
    });
    const opened = (await detail(third)).thread[0];
    expect(opened.grants.map((g) => g.granter)).toEqual([passedOn.grant.granter]);
    expect(openAs(third.box, opened, [survivor.keys.sign.publicKey], [late.sign.publicKey]).body).toMatchObject({
      kind: 'testimony',
      testimony: { what: 'the testimony' },
    });

    // The note stays pending for the third moderator, for the member who holds its key.
    const pending = (await mod.agent.get(`/api/staff/grants/pending?staffId=${third.staffId}`)).body as PendingGrants;
    expect(pending.items.map((i) => i.id)).toContain(noteId);
    expect(await t.db('envelope_grants').where({ envelope_id: noteId })).toEqual([]);
  });

  test('once removed, they are signed out, unassigned, and every key wrapped or granted to them is erased', async () => {
    await post(mod, `/api/staff/cases/${caseId}/assignee`, { staffId: late.staffId });
    // Every key wrapped or granted to them, as the database files hold it before the removal.
    const lateKid = keyId(late.box.publicKey);
    const wrappedToLate: string[] = [
      ...(await t.db('envelope_keys').where({ kid: lateKid }).whereNotNull('wrapped').pluck('wrapped')),
      ...((await t.db('envelope_grants').where({ kid: lateKid }).pluck('body')) as string[]).map(
        (body) => JSON.parse(body).wrapped as string,
      ),
    ];
    expect(wrappedToLate.length).toBeGreaterThanOrEqual(5);
    expect(await foundInDatabase(t, wrappedToLate)).toEqual(wrappedToLate);
    const current = await currentKeyset(t);
    const next = signKeyset(
      {
        v: 1,
        instanceId: t.ctx.instanceId,
        version: current.keyset.version + 1,
        prev: keysetHash(current.keyset),
        issuedDay: utcDay(),
        members: current.keyset.members.filter((m) => m.staffId !== late.staffId),
      },
      admin.instance!,
    );
    const res = await post(admin, '/api/staff/keysets', { signed: next });
    expect(res.status).toBe(201);
    expect(res.body.removed).toBe(1);
    // Once the removal has answered, no copy of those keys is left in the main file or the WAL.
    expect(await foundInDatabase(t, wrappedToLate)).toEqual([]);

    expect((await late.agent.get('/api/staff/cases')).status).toBe(401);
    const kid = keyId(late.box.publicKey);
    expect(await t.db('envelope_grants').where({ kid })).toEqual([]);
    expect(await t.db('envelope_keys').where({ kid }).whereNotNull('wrapped')).toEqual([]);
    expect((await t.db('cases').where({ id: caseId }).first()).assignee_id).toBeNull();

    // The remaining moderator still reads everything, signatures intact.
    const d = await detail(mod);
    verifyThread(
      d.thread.map((i) => i.envelope),
      caseId,
    );
    for (const i of d.thread) expect(() => openAs(mod.box, i, [survivor.keys.sign.publicKey, mod.sign.publicKey])).not.toThrow();

    // New envelopes cannot be addressed to the removed member.
    const ks = await currentKeyset(t);
    expect(readersOf(ks.keyset).map(keyId)).not.toContain(kid);
    const toRemoved = survivorMessage('x', envelopeHash(d.thread[d.thread.length - 1].envelope), [
      ...readersOf(ks.keyset),
      late.box.publicKey,
    ]);
    const refused = await asSurvivor('post', `/api/survivor/cases/${caseId}/messages`).send({
      envelope: toRemoved,
      keysetVersion: ks.keyset.version,
    });
    expect(refused.body.error.code).toBe('unknown_recipient');
  });
});

test('case actions are in the audit log, naming the case and the staff member, never the survivor', async () => {
  const rows: { actor_id: string; action: string; subject: string; detail: string | null }[] = await t
    .db('audit_log')
    .whereLike('action', 'case.%')
    .orderBy('seq');
  const actions = rows.map((r) => r.action);
  for (const a of ['case.replied', 'case.note_added', 'case.status_changed', 'case.assigned', 'case.keys_granted'])
    expect(actions).toContain(a);
  // A reply that carries a status records the change too (the first entry); then the status route's.
  const changes = rows.filter((r) => r.action === 'case.status_changed');
  for (const change of changes) expect(change).toMatchObject({ actor_id: mod.staffId, subject: caseId });
  expect(changes.map((r) => JSON.parse(r.detail!))).toEqual([
    { from: 'new', to: 'waiting_for_survivor' },
    { from: expect.any(String), to: 'closed' },
  ]);
  const everything = JSON.stringify(rows);
  expect(everything).not.toContain(survivor.handle);
  expect(everything).not.toContain((await t.db('survivors').first()).id);
});

test("a survivor's answer reopens a case that a moderator closed after her request had read it", async () => {
  expect((await post(mod, `/api/staff/cases/${caseId}/status`, { status: 'in_review' })).status).toBe(200);
  const ks = await currentKeyset(t);
  const { thread } = await detail(mod);
  const answer = survivorMessage('one more thing', envelopeHash(thread[thread.length - 1].envelope), readersOf(ks.keyset));
  let closed: request.Response | undefined;
  // Her request has read the case (in review, so nothing to reopen) when the moderator closes it.
  const read = interleave(t.ctx.repos.cases, 'detail', async () => {
    closed = await post(mod, `/api/staff/cases/${caseId}/status`, { status: 'closed' });
  });
  const answered = await asSurvivor('post', `/api/survivor/cases/${caseId}/messages`).send({
    envelope: answer,
    keysetVersion: ks.keyset.version,
  });
  expect(read).toHaveBeenCalled();
  expect(closed?.status).toBe(200);
  expect(answered.status).toBe(201);
  // Her answer is waiting in an open case, and retention does not count from the closing.
  const row = await t.db('cases').where({ id: caseId }).first();
  expect({ status: row.status, closedDay: row.closed_day }).toEqual({ status: 'in_review', closedDay: null });
});
