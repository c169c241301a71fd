/**
 * Sharing many older envelopes with a newer moderator through grants v2 (issue 17): pages of
 * 1,000 stored hashes and own key entries (no ciphertext), one signed batch of 1,000 grants in
 * one request inside the body limit, stored in a few statements, each grant opening its
 * envelope alone. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
 */
import {
  keyId,
  MAX_GRANT_BATCH,
  openEnvelope,
  cryptoProvider,
  rewrapKeyAsync,
  sealEnvelopeAsync,
  signGrantBatch,
  toBase64url,
  utcDay,
  verifyEnvelope,
  type BatchKeyGrant,
} from '../../protocol';
import nacl from 'tweetnacl';
import type { PendingGrants, StaffCaseDetail } from '../../protocol/api';
import { MAX_BODY_BYTES } from '../../server/http/json-body';
import { nodeBackend } from '../../server/crypto/node-backend';
import {
  addStaff,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  type StaffActor,
  type TestServer,
} from '../support/harness';
import { expectError } from './expect-error';

const NOTES = 1000;

let t: TestServer;
let admin: StaffActor;
let mod: StaffActor;
let late: StaffActor;
let caseId: string;
let survivorSignPk: Uint8Array;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t, ['admin']);
  mod = await addStaff(t, admin, 'mod.one');
  const survivor = await registerSurvivor(t);
  survivorSignPk = survivor.keys.sign.publicKey;
  const { res, envelope } = await submitTestimony(t, survivor, 'the testimony');
  expect(res.status).toBe(201);
  caseId = envelope.caseId;
  // Many internal notes, sealed to the moderator alone with WebCrypto (Node's, through the
  // provider: tweetnacl would take minutes here), written straight through the repository in
  // slices (the notes route would take as long per note and is tested elsewhere).
  const provider = await cryptoProvider();
  const notes = await Promise.all(
    Array.from({ length: NOTES }, async (_, i) => {
      const note = await sealEnvelopeAsync(
        { kind: 'note', caseId, body: { text: `note ${i}` }, recipients: [mod.box.publicKey], signer: mod.sign },
        provider,
      );
      return {
        envelope: note,
        verified: verifyEnvelope(note, [mod.sign.publicKey], nodeBackend),
        seq: null,
        fromStaff: true,
        day: utcDay(),
      };
    }),
  );
  for (let at = 0; at < notes.length; at += 200)
    await t.db.transaction((trx) => t.ctx.repos.envelopes.insertMany(trx, notes.slice(at, at + 200)));
  late = await addStaff(t, admin, 'mod.late');
}, 300_000);
afterAll(() => t.close());

const pendingPage = async (after: number) => {
  const res = await mod.agent.get(`/api/staff/grants/pending?staffId=${late.staffId}&after=${after}`);
  expect(res.status).toBe(200);
  return { body: res.body as PendingGrants, bytes: res.text.length };
};

test('1,000 grants go in one signed batch, and each opens its envelope alone', async () => {
  const first = await pendingPage(0);
  expect(first.body.total).toBe(NOTES + 1);
  expect(first.body.items.length).toBe(MAX_GRANT_BATCH);
  // Hashes and key entries only: a few hundred bytes an envelope, whatever the envelope holds.
  expect(first.bytes / MAX_GRANT_BATCH).toBeLessThan(400);

  const rewrap = { box: mod.box, recipient: late.box.publicKey, trustedGranters: [] };
  const provider = await cryptoProvider();
  const leaves = await Promise.all(
    first.body.items.map((i) => rewrapKeyAsync({ envelopeHash: i.hash, key: i.key, grants: i.grants }, rewrap, provider)),
  );
  const { sig } = signGrantBatch(leaves, mod.sign);
  const body = {
    staffId: late.staffId,
    sig,
    grants: leaves.map((l, k) => ({ envelopeId: first.body.items[k].id, epk: l.epk, wrapped: l.wrapped })),
  };
  expect(JSON.stringify(body).length).toBeLessThan(MAX_BODY_BYTES);
  const posted = await mod.agent.post('/api/staff/grants/batch').send(body);
  expect([posted.status, posted.body]).toEqual([201, { granted: MAX_GRANT_BATCH }]);

  const stored = await t.db('envelope_grants').where({ kid: keyId(late.box.publicKey) });
  expect(stored.length).toBe(MAX_GRANT_BATCH);
  const grants = stored.map((r: { body: string }) => JSON.parse(r.body) as BatchKeyGrant);
  expect(new Set(grants.map((g) => g.sig))).toEqual(new Set([sig]));
  expect(Math.max(...grants.map((g) => g.path.length))).toBe(10);

  // The rest is pending: the next page holds it, and the count starts again from it.
  const rest = await pendingPage(0);
  expect(rest.body.total).toBe(NOTES + 1 - MAX_GRANT_BATCH);
  expect(rest.body.items.map((i) => i.id)).toEqual(
    (await pendingPage(first.body.items[MAX_GRANT_BATCH - 1].id)).body.items.map((i) => i.id),
  );

  // The newer moderator opens envelopes anywhere in the batch through their grants.
  const detail: StaffCaseDetail = (await late.agent.get(`/api/staff/cases/${caseId}`)).body;
  const opened = [...detail.thread, ...detail.notes].filter((e) => e.grants.length > 0);
  expect(opened.length).toBe(MAX_GRANT_BATCH);
  for (const k of [0, 1, 511, 512, 998, 999]) {
    const item = opened.find((e) => (e.grants[0] as BatchKeyGrant).index === k)!;
    const body = openEnvelope<{ text?: string }>(item.envelope, {
      box: late.box,
      expectedKind: item.envelope.kind,
      expectedCaseId: caseId,
      trustedSigners: [mod.sign.publicKey, survivorSignPk],
      grants: item.grants,
      trustedGranters: [mod.sign.publicKey],
    }).body;
    expect(body.kind).toBe(item.envelope.kind);
  }
}, 300_000);

test('a member who holds no key to an envelope cannot grant it, even with a valid signature, and nothing is stored', async () => {
  // The server cannot tell a genuine wrapped key from random bytes, and a colleague gets the
  // first grant stored: one that does not open would block every genuine one after it.
  const third = await addStaff(t, admin, 'mod.third');
  const lateKid = keyId(late.box.publicKey);
  const note = await t
    .db('envelopes')
    .where({ case_id: caseId, kind: 'note' })
    .whereNotIn('id', t.db('envelope_grants').where({ kid: lateKid }).select('envelope_id'))
    .first();
  expect(note).toBeDefined();
  const leaf = {
    envelopeHash: note.hash,
    kid: keyId(third.box.publicKey),
    epk: toBase64url(nacl.randomBytes(32)),
    wrapped: toBase64url(nacl.randomBytes(72)),
  };
  const { sig } = signGrantBatch([leaf], late.sign);
  const body = { staffId: third.staffId, sig, grants: [{ envelopeId: note.id, epk: leaf.epk, wrapped: leaf.wrapped }] };
  expectError(await late.agent.post('/api/staff/grants/batch').send(body), 403, 'forbidden', 'grants[0]', 'no key');
  expect(await t.db('envelope_grants').where({ kid: leaf.kid })).toEqual([]);
  // The note stays pending for the member who holds its key, who can still share it.
  const pending = (await mod.agent.get(`/api/staff/grants/pending?staffId=${third.staffId}&after=${note.id - 1}`)).body as PendingGrants;
  expect(pending.items.map((i) => i.id)).toContain(note.id);
});
