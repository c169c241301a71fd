/**
 * A member's removal racing a write that wraps a key to them (a review found it): the write's
 * recipients were checked against the keyset before the removal, and it lands after. Whatever
 * the order, the removed member must end with no wrapped key and no grant: the write either
 * commits first and its key is erased with the others, or it is refused with 409.
 *
 * Each interleaving is made exact as in publishing.test.ts: a repository call that sits in the
 * gap runs the removal through the real API before it returns. Where the gap is inside the
 * write's transaction ("under way"), the removal runs alongside on PostgreSQL (another
 * connection; the test waits until it blocks on a lock) and those tests fail there without
 * the keyset lock; on SQLite the one connection runs it after the write, and the same end
 * state is checked.
 */
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  envelopeHash,
  keyId,
  makeGrant,
  randomId,
  readersOf,
  rewrapKey,
  sealEnvelope,
  signGrantBatch,
  STAFF_KDF,
  staffSecrets,
  toBase64url,
  wrapPrivateKeys,
  type Argon2Params,
  type Envelope,
  type SignedKeyset,
  type StaffRole,
} from '../../protocol';
import type { PendingGrants, StaffCaseDetail } from '../../protocol/api';
import { isPostgres } from '../../server/db/database';
import { base32Decode } from '../../server/http/totp';
import { foundInDatabase } from '../support/database-files';
import {
  addStaff,
  currentKeyset,
  keysetWithout,
  removedMidRequest,
  loginBody,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  testimonyEnvelope,
  totpCode,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { interleave, someoneWaitsOnALock } from '../support/interleave';
import { expectError } from './expect-error';

let t: TestServer;
let admin: StaffActor;
let mod: StaffActor;
let survivor: SurvivorActor;
let caseId: string;
let testimony: Envelope;
/** a case whose survivor lets advocates read it: drafts are proposed there */
let openCaseId: string;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t, ['admin']);
  mod = await addStaff(t, admin, 'mod.stays');
  survivor = await registerSurvivor(t);
  const submitted = await submitTestimony(t, survivor, 'the testimony');
  expect(submitted.res.status).toBe(201);
  caseId = submitted.envelope.caseId;
  testimony = submitted.envelope;
  const ks = await currentKeyset(t);
  const open = testimonyEnvelope(survivor, ks, 'a testimony advocates may read');
  const opened = await request(t.app)
    .post('/api/survivor/cases')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ envelope: open, keysetVersion: ks.keyset.version, pow: await pow(t), sharing: { advocatesMayRead: true, statistics: null } });
  expect(opened.status).toBe(201);
  openCaseId = open.caseId;
});
afterAll(() => t.close());
afterEach(() => jest.restoreAllMocks());

const publish = (signed: SignedKeyset) => admin.agent.post('/api/staff/keysets').send({ signed });

/** Every wrapped key and grant the database still holds for this member. */
async function keysLeftTo(member: StaffActor): Promise<unknown[]> {
  const kid = keyId(member.box.publicKey);
  return [
    ...(await t.db('envelope_keys').where({ kid }).whereNotNull('wrapped').pluck('envelope_id')),
    ...(await t.db('envelope_grants').where({ kid }).pluck('envelope_id')),
  ];
}

async function threadHead(): Promise<string> {
  const d: StaffCaseDetail = (await mod.agent.get(`/api/staff/cases/${caseId}`)).body;
  return envelopeHash(d.thread[d.thread.length - 1].envelope);
}

/** A draft of the case open to advocates, sealed to the survivor and the moderators, by `mod`. */
function draft(ks: SignedKeyset): { draftId: string; envelope: Envelope } {
  const draftId = randomId();
  const envelope = sealEnvelope({
    kind: 'draft',
    caseId: openCaseId,
    body: { draft: { draftId, title: 'A title', text: 'The story, redacted.', context: 'workplace' } },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
    signer: mod.sign,
  });
  return { draftId, envelope };
}

const envelopeCount = async () => Number((await t.db('envelopes').count({ n: '*' }))[0].n);

describe('a write sealed to a member whose removal is published between its checks and its transaction', () => {
  type Send = () => Promise<request.Response>;
  interface Race {
    /** the member removed: a moderator, or an advocate for the survivor's grants */
    role: StaffRole;
    /** Before the race: seals the write for this keyset (which names `leaving`) and returns how to send it. */
    prepare: (ks: SignedKeyset, leaving: StaffActor) => Send | Promise<Send>;
  }
  const asSurvivor = (path: string, body: object) => request(t.app).post(path).set('Authorization', `Bearer ${survivor.token}`).send(body);
  const races: [string, Race][] = [
    [
      "the survivor's message",
      {
        role: 'moderator',
        prepare: async (ks) => {
          const envelope = sealEnvelope({
            kind: 'message',
            caseId,
            prev: await threadHead(),
            body: { text: 'are you there?' },
            recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
            signer: survivor.keys.sign,
          });
          return () => asSurvivor(`/api/survivor/cases/${caseId}/messages`, { envelope, keysetVersion: ks.keyset.version });
        },
      },
    ],
    [
      "a moderator's reply",
      {
        role: 'moderator',
        prepare: async (ks) => {
          const envelope = sealEnvelope({
            kind: 'message',
            caseId,
            prev: await threadHead(),
            body: { text: 'we are reading you' },
            recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
            signer: mod.sign,
          });
          return () => mod.agent.post(`/api/staff/cases/${caseId}/messages`).send({ envelope, keysetVersion: ks.keyset.version });
        },
      },
    ],
    [
      "a moderator's internal note",
      {
        role: 'moderator',
        prepare: (ks) => {
          const envelope = sealEnvelope({
            kind: 'note',
            caseId,
            body: { text: 'internal' },
            recipients: readersOf(ks.keyset),
            signer: mod.sign,
          });
          return () => mod.agent.post(`/api/staff/cases/${caseId}/notes`).send({ envelope, keysetVersion: ks.keyset.version });
        },
      },
    ],
    [
      'a proposed draft',
      {
        role: 'moderator',
        prepare: (ks) => {
          const { draftId, envelope } = draft(ks);
          return () =>
            mod.agent.post(`/api/staff/cases/${openCaseId}/drafts`).send({ draftId, envelope, keysetVersion: ks.keyset.version });
        },
      },
    ],
    [
      "the survivor's request for changes to a draft",
      {
        role: 'moderator',
        prepare: async (ks) => {
          const proposed = draft(ks);
          const res = await mod.agent
            .post(`/api/staff/cases/${openCaseId}/drafts`)
            .send({ draftId: proposed.draftId, envelope: proposed.envelope, keysetVersion: ks.keyset.version });
          expect(res.status).toBe(201);
          const envelope = sealEnvelope({
            kind: 'changes',
            caseId: openCaseId,
            body: { changes: { draftId: proposed.draftId, text: 'leave out the street' } },
            recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
            signer: survivor.keys.sign,
          });
          return () =>
            asSurvivor(`/api/survivor/cases/${openCaseId}/drafts/${proposed.draftId}/changes`, {
              envelope,
              keysetVersion: ks.keyset.version,
            });
        },
      },
    ],
    [
      'the survivor letting advocates read, with her grants to them',
      {
        role: 'advocate',
        prepare: async (ks, leaving) => {
          const submitted = await submitTestimony(t, survivor, 'shared later');
          expect(submitted.res.status).toBe(201);
          const grants = [
            makeGrant(submitted.envelope, { box: survivor.keys.box, recipient: leaving.box.publicKey, granter: survivor.keys.sign }),
          ];
          return () =>
            asSurvivor(`/api/survivor/cases/${submitted.envelope.caseId}/sharing`, {
              sharing: { advocatesMayRead: true, statistics: null },
              keysetVersion: ks.keyset.version,
              grants,
            });
        },
      },
    ],
  ];

  test.each(races)('%s: 409 keyset_changed, nothing stored, and the removed member holds no key', async (name, { role, prepare }) => {
    const leaving = await addStaff(t, admin, `${role}.leaving.${races.findIndex(([n]) => n === name)}`, role);
    const ks = await currentKeyset(t);
    const send = await prepare(ks, leaving);
    const removal = await keysetWithout(t, admin, leaving);
    const before = await envelopeCount();
    let removed: request.Response | undefined;
    // The write has read the keyset (the one naming `leaving`) and checked its recipients against it.
    const check = interleave(t.ctx.repos.keysets, 'current', async () => {
      removed = await publish(removal);
    });
    const written = await send();
    expect(check).toHaveBeenCalled();
    expect(removed?.status).toBe(201);
    expect(removed?.body.removed).toBe(1);
    expect(await keysLeftTo(leaving)).toEqual([]);
    expectError(written, 409, 'keyset_changed');
    expect(written.body.error.message).toContain(`version ${removal.keyset.version}`);
    expect(await envelopeCount()).toBe(before);
  });
});

test.each(['v1', 'v2'])(
  'a grant (%s) to a colleague removed between its checks and its transaction: 409 reader_removed, and no grant is left to them',
  async (version) => {
    const leaving = await addStaff(t, admin, `mod.granted.${version}`);
    const pending: PendingGrants = (await mod.agent.get(`/api/staff/grants/pending?staffId=${leaving.staffId}`)).body;
    const item = pending.items.find((i) => i.caseId === caseId && i.kind === 'testimony')!;
    expect(item).toBeDefined();
    let route: string;
    let body: object;
    if (version === 'v1') {
      const grant = makeGrant(testimony, { box: mod.box, recipient: leaving.box.publicKey, granter: mod.sign });
      route = '/api/staff/grants';
      body = { staffId: leaving.staffId, grants: [{ envelopeId: item.id, grant }] };
    } else {
      const leaf = rewrapKey(
        { envelopeHash: item.hash, key: item.key, grants: item.grants },
        { box: mod.box, recipient: leaving.box.publicKey, trustedGranters: [] },
      );
      route = '/api/staff/grants/batch';
      body = {
        staffId: leaving.staffId,
        sig: signGrantBatch([leaf], mod.sign).sig,
        grants: [{ envelopeId: item.id, epk: leaf.epk, wrapped: leaf.wrapped }],
      };
    }
    const removal = await keysetWithout(t, admin, leaving);
    let removed: request.Response | undefined;
    // The last check before the grants' transaction: the granter holds a key to each envelope.
    const check = interleave(t.ctx.repos.envelopes, 'keysFor', async () => {
      removed = await publish(removal);
    });
    const granted = await mod.agent.post(route).send(body);
    expect(check).toHaveBeenCalled();
    expect(removed?.status).toBe(201);
    expect(await keysLeftTo(leaving)).toEqual([]);
    expectError(granted, 409, 'reader_removed');
  },
);

test('a testimony whose transaction is under way when a removal is published: its key to the removed member is erased too', async () => {
  const leaving = await addStaff(t, admin, 'mod.leaving.testimony');
  const ks = await currentKeyset(t);
  const envelope = testimonyEnvelope(survivor, ks, 'sent while a moderator is removed');
  expect(envelope.keys.map((k) => k.kid)).toContain(keyId(leaving.box.publicKey));
  const removal = await keysetWithout(t, admin, leaving);
  let removed: Promise<request.Response> | undefined;
  // Inside the submission's transaction, its keyset version checked and its case inserted, but
  // not committed: the admin publishes the removal now. On PostgreSQL it runs on another
  // connection, alongside, and must wait for the testimony rather than erase before its key
  // rows are visible; on SQLite the one connection runs it after the testimony's transaction.
  const inTransaction = interleave(t.ctx.repos.cases, 'insertMany', async () => {
    removed = publish(removal).then((r) => r);
    if (isPostgres(t.db)) await Promise.race([removed, someoneWaitsOnALock(t.db)]);
  });
  const submitted = await request(t.app)
    .post('/api/survivor/cases')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ envelope, keysetVersion: ks.keyset.version, pow: await pow(t) });
  expect(inTransaction).toHaveBeenCalled();
  expect((await removed!).status).toBe(201);
  expect(await keysLeftTo(leaving)).toEqual([]);
  // The testimony either committed first (201, its key then erased with the others, leaving no
  // copy in the files) or was refused.
  if (submitted.status === 201) {
    expect(await t.db('cases').where({ id: envelope.caseId }).first()).toBeDefined();
    const wrapped = envelope.keys.find((k) => k.kid === keyId(leaving.box.publicKey))!.wrapped!;
    expect(await foundInDatabase(t, [wrapped])).toEqual([]);
  } else expectError(submitted, 409, 'keyset_changed');
});

test.each(['a reply', 'a grant batch'])(
  '%s whose transaction is under way when a removal is published: its key to the removed member is erased too',
  async (kind) => {
    const leaving = await addStaff(t, admin, `mod.leaving.${kind === 'a reply' ? 'reply' : 'grants'}.concurrent`);
    let send: () => Promise<request.Response>;
    let inTransaction: jest.SpyInstance;
    let removed: Promise<request.Response> | undefined;
    const removal = await keysetWithout(t, admin, leaving);
    // Inside the write's transaction, after its recheck, its rows not yet committed: the admin
    // publishes the removal now (as for the testimony above).
    const meanwhile = async () => {
      removed = publish(removal).then((r) => r);
      if (isPostgres(t.db)) await Promise.race([removed, someoneWaitsOnALock(t.db)]);
    };
    if (kind === 'a reply') {
      const ks = await currentKeyset(t);
      const envelope = sealEnvelope({
        kind: 'message',
        caseId,
        prev: await threadHead(),
        body: { text: 'still here' },
        recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
        signer: mod.sign,
      });
      expect(envelope.keys.map((k) => k.kid)).toContain(keyId(leaving.box.publicKey));
      inTransaction = interleave(t.ctx.repos.envelopes, 'insert', meanwhile);
      send = () => mod.agent.post(`/api/staff/cases/${caseId}/messages`).send({ envelope, keysetVersion: ks.keyset.version });
    } else {
      const pending: PendingGrants = (await mod.agent.get(`/api/staff/grants/pending?staffId=${leaving.staffId}`)).body;
      const item = pending.items.find((i) => i.caseId === caseId && i.kind === 'testimony')!;
      const leaf = rewrapKey(
        { envelopeHash: item.hash, key: item.key, grants: item.grants },
        { box: mod.box, recipient: leaving.box.publicKey, trustedGranters: [] },
      );
      const body = {
        staffId: leaving.staffId,
        sig: signGrantBatch([leaf], mod.sign).sig,
        grants: [{ envelopeId: item.id, epk: leaf.epk, wrapped: leaf.wrapped }],
      };
      inTransaction = interleave(t.ctx.repos.envelopes, 'insertGrants', meanwhile);
      send = () => mod.agent.post('/api/staff/grants/batch').send(body);
    }
    const written = await send();
    expect(inTransaction).toHaveBeenCalled();
    expect((await removed!).status).toBe(201);
    expect(await keysLeftTo(leaving)).toEqual([]);
    // The write committed first (the removal waited for it), or was refused.
    if (written.status !== 201) expectError(written, 409, kind === 'a reply' ? 'keyset_changed' : 'reader_removed');
  },
);

test('an assignment to a moderator removed between its check and its transaction: 409 reader_removed, the case stays unassigned', async () => {
  const leaving = await addStaff(t, admin, 'mod.assigned');
  const removal = await keysetWithout(t, admin, leaving);
  let removed: request.Response | undefined;
  // The route has opened the case; its next read of a member is the check that the assignee is
  // an active moderator: the removal is published right after that check.
  const opened = interleave(t.ctx.repos.cases, 'detail', () => {
    interleave(t.ctx.repos.staff, 'byId', async () => {
      removed = await publish(removal);
    });
    return Promise.resolve();
  });
  const assigned = await mod.agent.post(`/api/staff/cases/${caseId}/assignee`).send({ staffId: leaving.staffId });
  expect(opened).toHaveBeenCalled();
  expect(removed?.status).toBe(201);
  expect(removed?.body.removed).toBe(1);
  expectError(assigned, 409, 'reader_removed', leaving.username);
  expect(await t.db('cases').where({ assignee_id: leaving.staffId })).toEqual([]);
});

describe("a member's own write whose request passed the staff guard before their removal: 409 member_removed, nothing written", () => {
  type Send = () => Promise<request.Response>;
  /** The member signed in with the password alone after an admin reset their TOTP: a session that can only enrol. */
  async function enrolling(member: StaffActor): Promise<StaffActor> {
    expect((await admin.agent.post(`/api/staff/members/${member.staffId}/totp-reset`).send({})).status).toBe(200);
    const agent = request.agent(t.app);
    expect((await agent.post('/api/staff/login').send((await loginBody(t, member, {})).body)).status).toBe(200);
    return { ...member, agent };
  }
  /** What the browser sends to change the password (`password`: a new one) or re-key it (the same one, under STAFF_KDF). */
  async function rewrapped(m: StaffActor, password: string) {
    const { body } = await loginBody(t, m, {}); // authKey under the member's stored parameters
    const salt = nacl.randomBytes(16);
    const fresh = await staffSecrets(password, salt, STAFF_KDF);
    return {
      currentAuthKey: body.authKey,
      kdf: { params: STAFF_KDF, salt: toBase64url(salt) },
      authKey: toBase64url(fresh.authKey),
      wrappedKeys: wrapPrivateKeys({ boxSecretKey: m.box.secretKey, signSecretKey: m.sign.secretKey }, fresh.wrapKey),
    };
  }
  /** the staff default before issue 11, for a record the KDF upgrade re-keys */
  const OLD_KDF: Argon2Params = { alg: 'argon2id', m: 64 * 1024, t: 3, p: 1 };
  /** Each write, prepared for this member (signed in as it needs), ready to send; and the member's KDF parameters if not the default. */
  interface SelfWrite {
    route: string;
    prepare: (m: StaffActor) => Send | Promise<Send>;
    kdf?: Argon2Params;
  }
  const writes: SelfWrite[] = [
    {
      route: 'POST /api/staff/totp/setup',
      prepare: async (member) => {
        const m = await enrolling(member);
        return () => m.agent.post('/api/staff/totp/setup').send({});
      },
    },
    {
      route: 'POST /api/staff/totp/confirm',
      prepare: async (member) => {
        const m = await enrolling(member);
        const setup = await m.agent.post('/api/staff/totp/setup').send({});
        expect(setup.status).toBe(200);
        const code = totpCode(t, { totpSecret: base32Decode(setup.body.secret) });
        return () => m.agent.post('/api/staff/totp/confirm').send({ code });
      },
    },
    {
      route: 'POST /api/staff/recovery-codes',
      prepare: async (m) => {
        const { body } = await loginBody(t, m);
        return () => m.agent.post('/api/staff/recovery-codes').send({ currentAuthKey: body.authKey, totp: body.totp });
      },
    },
    {
      route: 'POST /api/staff/password',
      prepare: async (m) => {
        const change = await rewrapped(m, 'the password of someone removed meanwhile');
        return () => m.agent.post('/api/staff/password').send(change);
      },
    },
    {
      route: 'POST /api/staff/kdf',
      prepare: async (m) => {
        const upgrade = await rewrapped(m, m.password);
        return () => m.agent.post('/api/staff/kdf').send(upgrade);
      },
      kdf: OLD_KDF,
    },
    {
      route: 'POST /api/staff/cases/:caseId/status',
      prepare: (m) => () => m.agent.post(`/api/staff/cases/${caseId}/status`).send({ status: 'closed' }),
    },
    {
      route: 'POST /api/staff/cases/:caseId/read',
      prepare: (m) => () => m.agent.post(`/api/staff/cases/${caseId}/read`).send({ seq: 0 }),
    },
  ];
  /** All these writes could change: the member's row but its status, their codes and read marks, the cases, their audit entries. */
  async function traces(member: StaffActor) {
    const { status: _status, ...row } = await t.db('staff').where({ id: member.staffId }).first();
    return {
      row,
      codes: await t.db('staff_recovery_codes').where({ staff_id: member.staffId }).orderBy('code_hash'),
      reads: await t.db('case_reads').where({ staff_id: member.staffId }),
      cases: await t.db('cases').orderBy('id').select('id', 'status', 'closed_day', 'updated_day'),
      audit: await t.db('audit_log').where({ actor_id: member.staffId }).pluck('action'),
    };
  }
  test.each(writes)('$route', async ({ route, prepare, kdf }) => {
    const leaving = await addStaff(t, admin, `self.leaving.${writes.findIndex((w) => w.route === route)}`, 'moderator', kdf);
    const send = await prepare(leaving);
    const before = await traces(leaving);
    const written = await removedMidRequest(t, admin, leaving, send);
    expectError(written, 409, 'member_removed', 'removed');
    expect(await traces(leaving)).toEqual(before);
  });

  test('POST /api/staff/session/key needs no recheck: its key is stored on the session, which the removal deletes, so it answers 401 and stores nothing', async () => {
    const leaving = await addStaff(t, admin, 'self.leaving.reload');
    const asked = await removedMidRequest(t, admin, leaving, () => leaving.agent.post('/api/staff/session/key').send({}));
    expectError(asked, 401, 'unauthorized', 'session has ended');
    expect(await t.db('staff_sessions').where({ staff_id: leaving.staffId })).toEqual([]);
  });
});
