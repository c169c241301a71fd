/**
 * Publishing with consent through the API, with the real protocol, a real SQLite file and
 * real signatures: sharing choices, drafts, the survivor's signed consent over the exact
 * story, publication on the wall and in the feed, revocation (410 Gone), and the refusals the
 * issue lists: a story whose hash differs, a consent for another case or draft, a forged
 * signature, a consent replayed after revocation.
 */
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  keyId,
  makeGrant,
  openEnvelope,
  rewrapKey,
  signGrantBatch,
  randomId,
  readersOf,
  sealEnvelope,
  signStatement,
  storyHash,
  toBase64url,
  utcDay,
  type ConsentStatement,
  type Envelope,
  type PublicStory,
  type RevocationStatement,
  type SignedKeyset,
} from '../../protocol';
import type { DraftItem, PendingGrants, PublishingCase, SurvivorCase } from '../../protocol/api';
import { suppressSmallCounts } from '../../server/routes/public';
import { foundInDatabase, storedBytes } from '../support/database-files';
import { expectError } from './expect-error';
import { newAlias } from '../../server/services/pseudonyms';
import { isPostgres } from '../../server/db/database';
import {
  addStaff,
  currentKeyset,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  snapshot,
  submitTestimony,
  unchanged,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { interleave, someoneWaitsOnALock } from '../support/interleave';

let t: TestServer;
let admin: StaffActor;
let mod: StaffActor;
let advocate: StaffActor;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t, ['admin']);
  mod = await addStaff(t, admin, 'mod.one');
  advocate = await addStaff(t, admin, 'adv.one', 'advocate');
});
afterAll(() => t.close());

const STORY: PublicStory = {
  title: 'At the office',
  text: 'My manager kept touching my shoulder.\n\nI reported it and nothing happened.',
  context: 'workplace',
};

function testimony(survivor: SurvivorActor, ks: SignedKeyset, what: string, opts: { advocates: boolean }): Envelope {
  const readers = [...readersOf(ks.keyset), ...(opts.advocates ? readersOf(ks.keyset, 'advocate') : [])];
  return sealEnvelope({
    kind: 'testimony',
    caseId: randomId(),
    body: { testimony: { what, when: '2018', context: 'workplace', wantsReplies: true } },
    recipients: [survivor.keys.box.publicKey, ...readers],
    signer: survivor.keys.sign,
  });
}

async function submit(survivor: SurvivorActor, what: string, sharing?: unknown, opts = { advocates: true }) {
  const ks = await currentKeyset(t);
  const envelope = testimony(survivor, ks, what, opts);
  const res = await request(t.app)
    .post('/api/survivor/cases')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ envelope, keysetVersion: ks.keyset.version, pow: await pow(t), ...(sharing === undefined ? {} : { sharing }) });
  return { res, caseId: envelope.caseId, envelope };
}

function draftEnvelope(
  author: StaffActor,
  ks: SignedKeyset,
  caseId: string,
  survivor: SurvivorActor,
  draftId: string,
  story: PublicStory,
): Envelope {
  return sealEnvelope({
    kind: 'draft',
    caseId,
    body: { draft: { draftId, ...story } },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')],
    signer: author.sign,
  });
}

async function propose(author: StaffActor, caseId: string, survivor: SurvivorActor, story = STORY) {
  const ks = await currentKeyset(t);
  const draftId = randomId();
  const res = await author.agent
    .post(`/api/staff/cases/${caseId}/drafts`)
    .send({ draftId, envelope: draftEnvelope(author, ks, caseId, survivor, draftId, story), keysetVersion: ks.keyset.version });
  return { res, draftId };
}

/** The survivor's request for changes to a draft, sealed to themselves, the moderators and (extra) the draft's author. */
async function changesRequest(survivor: SurvivorActor, caseId: string, draftId: string, text: string, extra: Uint8Array[] = []) {
  const ks = await currentKeyset(t);
  const readers = new Map([survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...extra].map((pk) => [keyId(pk), pk]));
  const envelope = sealEnvelope({
    kind: 'changes',
    caseId,
    body: { changes: { draftId, text } },
    recipients: [...readers.values()],
    signer: survivor.keys.sign,
  });
  return { envelope, keysetVersion: ks.keyset.version };
}

const survivorPost = (survivor: SurvivorActor, url: string, body: unknown) =>
  request(t.app)
    .post(url)
    .set('Authorization', `Bearer ${survivor.token}`)
    .send(body as object);

async function consentOf(survivor: SurvivorActor, caseId: string, draftId: string, story = STORY, signer = survivor.keys.sign) {
  const statement: ConsentStatement = { v: 1, type: 'publish', caseId, draftId, textHash: await storyHash(story), issuedDay: utcDay() };
  return { statement, sig: signStatement(statement, signer.secretKey) };
}
function revocationOf(survivor: SurvivorActor, caseId: string, draftId: string, issuedDay = utcDay()) {
  const statement: RevocationStatement = { v: 1, type: 'revoke', caseId, draftId, issuedDay };
  return { statement, sig: signStatement(statement, survivor.keys.sign.secretKey) };
}

async function survivorCases(survivor: SurvivorActor): Promise<SurvivorCase[]> {
  const res = await request(t.app).get('/api/survivor/cases').set('Authorization', `Bearer ${survivor.token}`);
  expect(res.status).toBe(200);
  return res.body.cases;
}

describe('sharing choices at submission', () => {
  test('advocates may read: the testimony must be wrapped to every advocate', async () => {
    const survivor = await registerSurvivor(t);
    const without = await submit(survivor, 'no advocate keys', { advocatesMayRead: true, statistics: null }, { advocates: false });
    expect(without.res.status).toBe(400);
    expect(without.res.body.error.code).toBe('missing_recipient');
    expect(without.res.body.error.message).toMatch(/every advocate/);
    const ok = await submit(survivor, 'with advocate keys', {
      advocatesMayRead: true,
      statistics: { context: 'workplace', province: 'sindh' },
    });
    expect(ok.res.status).toBe(201);
    const [c] = await survivorCases(survivor);
    expect(c.sharing).toEqual({ advocatesMayRead: true, statistics: { context: 'workplace', province: 'sindh' } });
  });

  test('advocates may not read: an advocate key among the recipients is refused, and nothing is written', async () => {
    const survivor = await registerSurvivor(t);
    const before = await snapshot(t.db);
    const res = await submit(survivor, 'advocate slipped in', { advocatesMayRead: false, statistics: null });
    expect(res.res.status).toBe(400);
    expect(res.res.body.error.code).toBe('forbidden_recipient');
    const after = await snapshot(t.db);
    expect({ ...after, challenges: [] }).toEqual({ ...before, challenges: [] });
  });

  test('no sharing field: advocates may not read and nothing is counted', async () => {
    const survivor = await registerSurvivor(t);
    const ok = await submit(survivor, 'private', undefined, { advocates: false });
    expect(ok.res.status).toBe(201);
    const [c] = await survivorCases(survivor);
    expect(c.sharing).toEqual({ advocatesMayRead: false, statistics: null });
    expect(await t.db('case_statistics').where({ case_id: ok.caseId }).first()).toBeUndefined();
  });

  test('an advocate sees only cases open to advocates, and never their threads', async () => {
    const survivor = await registerSurvivor(t);
    const closed = await submit(survivor, 'closed to advocates', undefined, { advocates: false });
    const open = await submit(survivor, 'open to advocates', { advocatesMayRead: true, statistics: null });
    const list = await advocate.agent.get('/api/staff/publishing');
    expect(list.status).toBe(200);
    const ids = list.body.cases.map((c: { caseId: string }) => c.caseId);
    expect(ids).toContain(open.caseId);
    expect(ids).not.toContain(closed.caseId);
    expect((await advocate.agent.get(`/api/staff/publishing/${closed.caseId}`)).status).toBe(404);
    // The moderators' case routes stay closed to an advocate.
    expect((await advocate.agent.get(`/api/staff/cases/${open.caseId}`)).status).toBe(403);
    const detail = await advocate.agent.get(`/api/staff/publishing/${open.caseId}`);
    expect(detail.status).toBe(200);
    const body: PublishingCase = detail.body;
    expect(body).not.toHaveProperty('thread');
    const opened = openEnvelope<{ testimony: { what: string } }>(body.testimony.envelope, {
      box: advocate.box,
      expectedKind: 'testimony',
      expectedCaseId: open.caseId,
      trustedSigners: [survivor.keys.sign.publicKey],
    });
    expect(opened.body.testimony.what).toBe('open to advocates');
  });
});

describe('turning advocates on later, and off again', () => {
  test('the survivor re-wraps the testimony key to each advocate; turning off erases those keys', async () => {
    const survivor = await registerSurvivor(t);
    const { caseId, envelope } = await submit(survivor, 'decided later', undefined, { advocates: false });
    const ks = await currentKeyset(t);
    const url = `/api/survivor/cases/${caseId}/sharing`;
    const sharing = { advocatesMayRead: true, statistics: null };

    const missing = await survivorPost(survivor, url, { sharing, keysetVersion: ks.keyset.version, grants: [] });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('missing_recipient');

    const grant = makeGrant(envelope, { box: survivor.keys.box, recipient: advocate.box.publicKey, granter: survivor.keys.sign });
    const forged = makeGrant(envelope, { box: survivor.keys.box, recipient: advocate.box.publicKey, granter: nacl.sign.keyPair() });
    const bad = await survivorPost(survivor, url, { sharing, keysetVersion: ks.keyset.version, grants: [forged] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('untrusted_signer');

    const ok = await survivorPost(survivor, url, { sharing, keysetVersion: ks.keyset.version, grants: [grant] });
    expect(ok.status).toBe(200);
    const detail: PublishingCase = (await advocate.agent.get(`/api/staff/publishing/${caseId}`)).body;
    expect(detail.testimony.grants).toHaveLength(1);
    const opened = openEnvelope<{ testimony: { what: string } }>(detail.testimony.envelope, {
      box: advocate.box,
      expectedKind: 'testimony',
      expectedCaseId: caseId,
      trustedSigners: [survivor.keys.sign.publicKey],
      grants: detail.testimony.grants,
      trustedGranters: [survivor.keys.sign.publicKey],
    });
    expect(opened.body.testimony.what).toBe('decided later');

    // The advocate's re-wrapped key is in the database files until the survivor turns advocates off.
    expect(await foundInDatabase(t, [grant.wrapped])).toEqual([grant.wrapped]);
    const off = await survivorPost(survivor, url, {
      sharing: { advocatesMayRead: false, statistics: null },
      keysetVersion: ks.keyset.version,
    });
    expect(off.status).toBe(200);
    expect(await foundInDatabase(t, [grant.wrapped])).toEqual([]);
    expect((await advocate.agent.get(`/api/staff/publishing/${caseId}`)).status).toBe(404);
    expect(
      await t
        .db('envelope_grants')
        .where({ kid: keyId(advocate.box.publicKey) })
        .whereIn('envelope_id', t.db('envelopes').where({ case_id: caseId }).select('id')),
    ).toEqual([]);
  });
});

describe('draft, consent, publish, revoke', () => {
  let survivor: SurvivorActor;
  let caseId: string;
  let draftId: string;

  beforeAll(async () => {
    survivor = await registerSurvivor(t);
    ({ caseId } = await submit(survivor, 'the original testimony', { advocatesMayRead: true, statistics: null }));
  });

  test('a moderator proposes a draft the survivor can decrypt; asking for changes and a newer draft supersede it', async () => {
    const first = await propose(mod, caseId, survivor, { ...STORY, text: 'first wording' });
    expect(first.res.status).toBe(201);
    expect(first.res.body).toEqual({ draftId: first.draftId, version: 1, status: 'proposed' });
    const request = await changesRequest(survivor, caseId, first.draftId, 'please change the wording');
    const changes = await survivorPost(survivor, `/api/survivor/cases/${caseId}/drafts/${first.draftId}/changes`, request);
    expect(changes.status).toBe(200);
    expect((await survivorPost(survivor, `/api/survivor/cases/${caseId}/drafts/${first.draftId}/changes`, request)).status).toBe(409);

    const second = await propose(advocate, caseId, survivor);
    expect(second.res.status).toBe(201);
    expect(second.res.body.version).toBe(2);
    draftId = second.draftId;

    const [c] = (await survivorCases(survivor)).filter((x) => x.caseId === caseId);
    expect(c.drafts.map((d: DraftItem) => [d.version, d.status])).toEqual([
      [1, 'superseded'],
      [2, 'proposed'],
    ]);
    // Drafts are not thread messages.
    expect(c.thread.map((i) => i.envelope.kind)).toEqual(['testimony']);
    const opened = openEnvelope<{ draft: PublicStory & { draftId: string } }>(c.drafts[1].item.envelope, {
      box: survivor.keys.box,
      expectedKind: 'draft',
      expectedCaseId: caseId,
      trustedSigners: [advocate.sign.publicKey],
    });
    expect(opened.body.draft).toEqual({ draftId, ...STORY });
  });

  test('a superseded draft cannot be approved', async () => {
    const [c] = (await survivorCases(survivor)).filter((x) => x.caseId === caseId);
    const old = c.drafts[0].draftId;
    const res = await survivorPost(survivor, `/api/survivor/cases/${caseId}/drafts/${old}/consent`, await consentOf(survivor, caseId, old));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('draft_not_open');
  });

  test('the server refuses a consent for another case or draft, a forged one, or a stale one, and writes nothing', async () => {
    const other = await registerSurvivor(t);
    const { caseId: otherCase } = await submit(other, 'another case', { advocatesMayRead: true, statistics: null });
    const url = `/api/survivor/cases/${caseId}/drafts/${draftId}/consent`;
    const before = await snapshot(t.db);
    const cases: [unknown, string][] = [
      [await consentOf(survivor, otherCase, draftId), 'wrong_case'],
      [await consentOf(survivor, caseId, randomId()), 'wrong_draft'],
      [await consentOf(survivor, caseId, draftId, STORY, nacl.sign.keyPair()), 'bad_signature'],
      [
        await (async () => {
          const c = await consentOf(survivor, caseId, draftId);
          return { ...c, statement: { ...c.statement, textHash: await storyHash({ ...STORY, text: 'altered after signing' }) } };
        })(),
        'bad_signature',
      ],
      [
        await (async () => {
          const statement: ConsentStatement = {
            v: 1,
            type: 'publish',
            caseId,
            draftId,
            textHash: await storyHash(STORY),
            issuedDay: '2020-01-01',
          };
          return { statement, sig: signStatement(statement, survivor.keys.sign.secretKey) };
        })(),
        'stale_statement',
      ],
    ];
    for (const [body, code] of cases) {
      const res = await survivorPost(survivor, url, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
    }
    // Another survivor cannot approve this survivor's draft, even with their own valid signature.
    const foreign = await survivorPost(other, url, await consentOf(other, caseId, draftId));
    expect(foreign.status).toBe(404);
    expect(await snapshot(t.db)).toEqual(before);
  });

  test('publishing before consent is refused', async () => {
    const res = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_approved');
  });

  test('the survivor approves; only an advocate publishes, and only the exact words', async () => {
    const res = await survivorPost(
      survivor,
      `/api/survivor/cases/${caseId}/drafts/${draftId}/consent`,
      await consentOf(survivor, caseId, draftId),
    );
    expect(res.status).toBe(201);
    expect(
      (await survivorPost(survivor, `/api/survivor/cases/${caseId}/drafts/${draftId}/consent`, await consentOf(survivor, caseId, draftId)))
        .status,
    ).toBe(409);

    const byModerator = await mod.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(byModerator.status).toBe(403);
    for (const altered of [
      { ...STORY, text: STORY.text + ' ' },
      { ...STORY, title: 'Another title' },
      { ...STORY, context: 'online' },
    ]) {
      const res2 = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: altered });
      expect(res2.status).toBe(400);
      expect(res2.body.error.code).toBe('text_mismatch');
    }
    expect(await t.db('publications').select()).toEqual([]);

    const ok = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(ok.status).toBe(201);
    expect(ok.body.alias).toMatch(/^[a-z2-9]{10}$/);
    expect(ok.body.url).toBe(`${t.ctx.config.publicUrl}/stories/${ok.body.alias}`);
    expect((await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY })).body.error.code).toBe(
      'already_published',
    );
  });

  test('the story is on the wall, on its own page and in the feed, under an alias that is not the handle', async () => {
    const [c] = (await survivorCases(survivor)).filter((x) => x.caseId === caseId);
    const alias = c.drafts[1].publication!.alias;
    expect(alias).not.toContain(survivor.handle);

    const wall = await request(t.app).get('/stories');
    expect(wall.status).toBe(200);
    expect(wall.text).toContain('At the office');
    expect(wall.text).toContain(`/stories/${alias}`);
    expect(wall.text).not.toContain(survivor.handle);
    expect(wall.headers['cache-control']).toBe('no-store');
    expect((await request(t.app).get('/stories?context=workplace')).text).toContain('At the office');
    expect((await request(t.app).get('/stories?context=online')).text).not.toContain('At the office');

    const page = await request(t.app).get(`/stories/${alias}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('My manager kept touching my shoulder.');
    expect(page.text).toContain(utcDay().slice(0, 7));
    expect(page.text).not.toContain(utcDay()); // the month only
    expect(page.headers['x-robots-tag']).toMatch(/noarchive/);

    const feed = await request(t.app).get('/stories/feed.atom');
    expect(feed.status).toBe(200);
    expect(feed.headers['content-type']).toMatch(/^application\/atom\+xml/);
    expect(feed.text).toContain(`<id>${t.ctx.config.publicUrl}/stories/${alias}</id>`);
    expect(feed.text).toContain('<title>At the office</title>');
  });

  test('revocation: the story leaves the wall and the feed, its address answers 410, its words leave the database', async () => {
    const [c] = (await survivorCases(survivor)).filter((x) => x.caseId === caseId);
    const alias = c.drafts[1].publication!.alias;
    const url = `/api/survivor/cases/${caseId}/drafts/${draftId}/revoke`;
    const forged = revocationOf(survivor, caseId, draftId);
    forged.sig = signStatement(forged.statement, nacl.sign.keyPair().secretKey);
    expect((await survivorPost(survivor, url, forged)).body.error.code).toBe('bad_signature');
    expect((await request(t.app).get(`/stories/${alias}`)).status).toBe(200);
    // The story's words are in the database files while it is published (the scan can find them)...
    const words = [STORY.title, STORY.text.split('\n')[0], STORY.text.split('\n')[2]];
    expect(await foundInDatabase(t, words)).toEqual(words);

    const res = await survivorPost(survivor, url, revocationOf(survivor, caseId, draftId));
    expect(res.status).toBe(200);
    // ...and, as soon as the revocation has answered, in neither the main file nor the WAL.
    expect(await foundInDatabase(t, words)).toEqual([]);
    const gone = await request(t.app).get(`/stories/${alias}`);
    expect(gone.status).toBe(410);
    expect(gone.headers['cache-control']).toBe('no-store');
    expect(gone.text).not.toContain('My manager');
    expect((await request(t.app).get('/stories')).text).not.toContain('At the office');
    expect((await request(t.app).get('/stories/feed.atom')).text).not.toContain('At the office');
    const row = await t.db('publications').where({ alias }).first();
    expect(row).toMatchObject({ title: null, text: null, context: null, case_id: null });
    expect((await survivorPost(survivor, url, revocationOf(survivor, caseId, draftId))).body.error.code).toBe('already_revoked');
  });

  test('a consent replayed after revocation is refused, and the draft cannot be published again', async () => {
    const replay = await survivorPost(
      survivor,
      `/api/survivor/cases/${caseId}/drafts/${draftId}/consent`,
      await consentOf(survivor, caseId, draftId),
    );
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe('consent_revoked');
    const publish = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(publish.status).toBe(409);
    expect(publish.body.error.code).toBe('consent_revoked');
  });

  test('a consent row written into the database for another draft does not publish anything', async () => {
    const { draftId: fresh } = await propose(mod, caseId, survivor);
    // Someone with write access to the database copies this survivor's consent to draft 2 onto draft 3.
    const stolen = await t.db('consents').where({ draft_id: draftId }).first();
    await t.db('consents').insert({ ...stolen, draft_id: fresh, revocation: null, revoked_day: null });
    await t.db('drafts').where({ id: fresh }).update({ status: 'approved' });
    const res = await advocate.agent.post(`/api/staff/drafts/${fresh}/publish`).send({ story: STORY });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('consent_mismatch');
    // And a consent row whose signature was made by another key fails its check.
    const other = await consentOf(survivor, caseId, fresh, STORY, nacl.sign.keyPair());
    await t
      .db('consents')
      .where({ draft_id: fresh })
      .update({ statement: JSON.stringify(other.statement), sig: other.sig });
    const forged = await advocate.agent.post(`/api/staff/drafts/${fresh}/publish`).send({ story: STORY });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('bad_signature');
    expect(await t.db('publications').whereNotNull('title')).toEqual([]);
  });
});

describe('an advocate who joins later', () => {
  test('gets only what advocates may read re-wrapped by a moderator: open testimonies and drafts, never the thread', async () => {
    const survivor = await registerSurvivor(t);
    const open = await submit(survivor, 'open before the newcomer', { advocatesMayRead: true, statistics: null });
    const closed = await submit(survivor, 'closed to advocates', undefined, { advocates: false });
    await propose(mod, open.caseId, survivor);
    const late = await addStaff(t, admin, `adv.late${Date.now() % 1000}`, 'advocate');

    const pending = await mod.agent.get(`/api/staff/grants/pending?staffId=${late.staffId}`);
    expect(pending.status).toBe(200);
    const items: PendingGrants['items'] = pending.body.items;
    expect(items.every((i) => i.kind === 'draft' || (i.kind === 'testimony' && i.caseId !== closed.caseId))).toBe(true);
    const testimonyItem = items.find((i) => i.caseId === open.caseId && i.kind === 'testimony')!;
    expect(testimonyItem).toBeDefined();
    expect(items.some((i) => i.caseId === closed.caseId)).toBe(false);

    // A grant of the closed testimony to the advocate is refused, alone (v1) or in a batch (v2).
    const closedRow = await t.db('envelopes').where({ case_id: closed.caseId, kind: 'testimony' }).first();
    const refused = await mod.agent.post('/api/staff/grants').send({
      staffId: late.staffId,
      grants: [
        { envelopeId: closedRow.id, grant: makeGrant(closed.envelope, { box: mod.box, recipient: late.box.publicKey, granter: mod.sign }) },
      ],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('forbidden_recipient');
    const rewrap = { box: mod.box, recipient: late.box.publicKey, trustedGranters: [] };
    const keyRows: { envelope_id: number; kid: string; epk: string; wrapped: string }[] = await t
      .db('envelope_keys')
      .where({ kid: keyId(mod.box.publicKey) });
    const ownKey = (id: number) => keyRows.find((k) => k.envelope_id === id)!;

    const batchOf = (rows: { id: number; hash: string }[]) => {
      const leaves = rows.map((r) => rewrapKey({ envelopeHash: r.hash, key: ownKey(r.id) }, rewrap));
      const { sig } = signGrantBatch(leaves, mod.sign);
      return { staffId: late.staffId, sig, grants: leaves.map((l, i) => ({ envelopeId: rows[i].id, epk: l.epk, wrapped: l.wrapped })) };
    };
    const refusedBatch = await mod.agent.post('/api/staff/grants/batch').send(batchOf([testimonyItem, closedRow]));
    expect(refusedBatch.status).toBe(400);
    expect(refusedBatch.body.error.code).toBe('forbidden_recipient');
    expect(refusedBatch.body.error.message).toMatch(/grants\[1\]/);

    const granted = await mod.agent.post('/api/staff/grants/batch').send(batchOf([testimonyItem]));
    expect(granted.status).toBe(201);
    const detail: PublishingCase = (await late.agent.get(`/api/staff/publishing/${open.caseId}`)).body;
    const opened = openEnvelope<{ testimony: { what: string } }>(detail.testimony.envelope, {
      box: late.box,
      expectedKind: 'testimony',
      expectedCaseId: open.caseId,
      trustedSigners: [survivor.keys.sign.publicKey],
      grants: detail.testimony.grants,
      trustedGranters: [mod.sign.publicKey],
    });
    expect(opened.body.testimony.what).toBe('open before the newcomer');
  });
});

describe('drafts need a case open to advocates and a proper envelope', () => {
  test('refusals', async () => {
    const survivor = await registerSurvivor(t);
    const { caseId: closed } = await submit(survivor, 'closed', undefined, { advocates: false });
    expect((await propose(mod, closed, survivor)).res.status).toBe(404);
    const { caseId } = await submit(survivor, 'open', { advocatesMayRead: true, statistics: null });
    const ks = await currentKeyset(t);
    const draftId = randomId();
    const noSurvivor = sealEnvelope({
      kind: 'draft',
      caseId,
      body: { draft: { draftId, ...STORY } },
      recipients: readersOf(ks.keyset),
      signer: mod.sign,
    });
    const res = await mod.agent
      .post(`/api/staff/cases/${caseId}/drafts`)
      .send({ draftId, envelope: noSurvivor, keysetVersion: ks.keyset.version });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('missing_recipient');
    const signedByOther = draftEnvelope(advocate, ks, caseId, survivor, draftId, STORY);
    const res2 = await mod.agent
      .post(`/api/staff/cases/${caseId}/drafts`)
      .send({ draftId, envelope: signedByOther, keysetVersion: ks.keyset.version });
    expect(res2.status).toBe(400);
    expect(res2.body.error.code).toBe('untrusted_signer');
    const asMessage = sealEnvelope({
      kind: 'message',
      caseId,
      body: { text: 'x' },
      recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
      signer: mod.sign,
    });
    const res3 = await mod.agent
      .post(`/api/staff/cases/${caseId}/drafts`)
      .send({ draftId, envelope: asMessage, keysetVersion: ks.keyset.version });
    expect(res3.status).toBe(400);
    expect(res3.body.error.code).toBe('wrong_kind');
    expect(await t.db('drafts').where({ case_id: caseId })).toEqual([]);
  });
});

describe('delete everything', () => {
  test('erases the survivor, their cases, keys, drafts, consents, stories and evidence; the file holds none of it', async () => {
    const survivor = await registerSurvivor(t);
    const unique = `delete-me-${toBase64url(nacl.randomBytes(6))}`;
    const { caseId, envelope } = await submit(survivor, unique, { advocatesMayRead: true, statistics: { context: 'family' } });
    const story = { title: `Title ${unique}`, text: `Story ${unique}`, context: 'family' };
    const { draftId } = await propose(advocate, caseId, survivor, story);
    expect(
      (
        await survivorPost(
          survivor,
          `/api/survivor/cases/${caseId}/drafts/${draftId}/consent`,
          await consentOf(survivor, caseId, draftId, story),
        )
      ).status,
    ).toBe(201);
    const published = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story });
    expect(published.status).toBe(201);
    // and an evidence file with a second testimony
    const evidence = await uploadFile(t, survivor, nacl.randomBytes(70_000));
    expect((await submitTestimony(t, survivor, `evidence ${unique}`, [evidence.manifest])).res.status).toBe(201);
    const sealedRecord = (await t.db('attachment_records').where({ attachment_id: evidence.id, idx: 1 }).first()).data as Buffer;
    const draftCipher = (await t.db('envelopes').where({ kind: 'draft', case_id: caseId }).first()).body as string;
    const wrapped = (
      await t
        .db('envelope_keys')
        .whereIn('envelope_id', t.db('envelopes').where({ case_id: caseId }).select('id'))
        .first()
    ).wrapped as string;

    const needles = [
      envelope.ciphertext.slice(0, 40),
      JSON.parse(draftCipher).ciphertext.slice(0, 40),
      wrapped,
      survivor.handle,
      toBase64url(survivor.keys.sign.publicKey),
      unique,
    ];
    // SQLite: the file and its WAL as raw bytes; PostgreSQL: every table and a pg_dump (test/support/database-files.ts).
    const found = async () => {
      const bytes = await storedBytes(t);
      return [
        ...needles.filter((n) => bytes.includes(Buffer.from(n))),
        ...(bytes.includes(sealedRecord.subarray(100, 148)) ? ['sealed evidence record'] : []),
      ];
    };
    // The scan finds them while they are there...
    expect(await found()).toEqual([...needles, 'sealed evidence record']);

    const bad = await survivorPost(survivor, '/api/survivor/delete-everything', { confirm: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/delete everything/);
    expect((await request(t.app).post('/api/survivor/delete-everything').send({ confirm: 'delete everything' })).status).toBe(401);

    const res = await survivorPost(survivor, '/api/survivor/delete-everything', { confirm: 'delete everything' });
    expect(res.status).toBe(204);
    expect((await request(t.app).get(`/stories/${published.body.alias}`)).status).toBe(410);
    expect((await request(t.app).get('/api/survivor/cases').set('Authorization', `Bearer ${survivor.token}`)).body.cases).toEqual([]);
    for (const table of ['survivors', 'cases', 'drafts', 'consents', 'case_statistics', 'attachments']) {
      const rows = await t.db(table).select();
      expect(JSON.stringify(rows)).not.toContain(caseId);
      expect(JSON.stringify(rows)).not.toContain(survivor.handle);
    }

    // ...and after: the file itself and its write-ahead log (on PostgreSQL: the tables and a dump) hold no ciphertext, key, handle or story text.
    expect(await found()).toEqual([]);
  });
});

describe('statistics: no figure under 5', () => {
  test('suppression: categories under 5 are left out, and one more where a single missing one could be worked out from a total', () => {
    expect(suppressSmallCounts({ a: 4, b: 5, c: 9 })).toEqual([{ key: 'c', count: 9 }]);
    expect(suppressSmallCounts({ a: 4, b: 1, c: 5 })).toEqual([{ key: 'c', count: 5 }]);
    expect(suppressSmallCounts({ a: 5, b: 6, z: 0 })).toEqual([
      { key: 'a', count: 5 },
      { key: 'b', count: 6 },
    ]);
    expect(suppressSmallCounts({ a: 3 })).toEqual([]);
  });

  /** Counts `n` testimonies, each disclosing `statistics`, on a server of their own. */
  async function counted(s: TestServer, statistics: Record<string, unknown>, n: number): Promise<void> {
    const ks = await currentKeyset(s);
    for (let i = 0; i < n; i++) {
      const survivor = await registerSurvivor(s);
      const envelope = testimony(survivor, ks, `counted ${i}`, { advocates: false });
      const res = await request(s.app)
        .post('/api/survivor/cases')
        .set('Authorization', `Bearer ${survivor.token}`)
        .send({ envelope, keysetVersion: ks.keyset.version, pow: await pow(s), sharing: { advocatesMayRead: false, statistics } });
      expect(res.status).toBe(201);
    }
  }

  test('4 testimonies in a category leave it out of the page, label and all; 5 are shown', async () => {
    const s = await makeTestServer();
    try {
      await setupAdmin(s, ['admin', 'moderator']);
      await counted(s, { context: 'workplace' }, 5);
      await counted(s, { context: 'family' }, 4);
      await counted(s, { context: 'education' }, 1);
      await counted(s, { context: 'online' }, 7);
      const page = await request(s.app).get('/stats');
      expect(page.status).toBe(200);
      const row = (context: string) => {
        const m = new RegExp(
          `<tr><th scope="row"><span data-i18n="context\\.${context}">[^<]*</span></th>[\\s\\S]*?<td class="count">([\\s\\S]*?)</td></tr>`,
        ).exec(page.text);
        return m?.[1];
      };
      expect(row('family')).toBeUndefined();
      expect(row('education')).toBeUndefined();
      expect(page.text).not.toContain('context.family');
      expect(page.text).not.toContain('context.education');
      expect(row('workplace')).toBe('5');
      expect(row('online')).toBe('7');
      // The month chart counts all 17 in one row.
      expect(page.text).toMatch(/<td class="count">17<\/td>/);
      // Every row shows its number, and none is under 5.
      const rows = page.text.match(/<tr>/g) ?? [];
      const counts = [...page.text.matchAll(/<td class="count">(\d+)<\/td>/g)].map((m) => Number(m[1]));
      expect(counts).toHaveLength(rows.length);
      expect(counts.every((n) => n >= 5)).toBe(true);
    } finally {
      await s.close();
    }
  });

  test('a single counted testimony shows none of its categories: no context, month, province or year', async () => {
    const s = await makeTestServer();
    try {
      await setupAdmin(s, ['admin', 'moderator']);
      await counted(s, { context: 'education', year: 2018, province: 'balochistan' }, 1);
      const month = (await s.db('case_statistics').first()).month as string;
      expect(month).toMatch(/^\d{4}-\d{2}$/);
      const page = await request(s.app).get('/stats');
      expect(page.status).toBe(200);
      expect(page.text).not.toMatch(/<tr>/);
      for (const shown of ['context.education', 'province.balochistan', '2018', month]) expect(page.text).not.toContain(shown);
      // Each chart says it has nothing to show, as it does before anyone is counted.
      expect(page.text.match(/data-i18n="stats\.noData"/g)).toHaveLength(4);
    } finally {
      await s.close();
    }
  });
});

/**
 * What stops an XML 1.0 parser in a document like the feed: a character outside XML's Char
 * production, an `&` that starts no reference, a stray `<`, or tags that do not nest.
 */
function xmlProblems(doc: string): string[] {
  const problems: string[] = [];
  // eslint-disable-next-line no-control-regex -- the characters XML 1.0 allows, control characters among them
  const bad = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.exec(doc);
  if (bad) problems.push(`U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${bad.index}`);
  const amp = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.exec(doc);
  if (amp) problems.push(`bare & at ${amp.index}`);
  const open: string[] = [];
  for (const m of doc.matchAll(/<(?:\?xml[^?<>]*\?>|(\/?)([A-Za-z][\w:.-]*)(?:\s+[\w:.-]+="[^"<]*")*\s*(\/?)>)|</g)) {
    if (m[0] === '<') problems.push(`stray < at ${m.index}`);
    else if (m[2] && m[1]) {
      if (open.pop() !== m[2]) problems.push(`</${m[2]}> at ${m.index} closes nothing open`);
    } else if (m[2] && !m[3]) open.push(m[2]);
  }
  if (open.length) problems.push(`unclosed: ${open.join(', ')}`);
  return problems;
}

describe('story text and XML', () => {
  /** A new case and a draft of `story` its survivor consented to: ready to publish. */
  async function approvedDraft(story: PublicStory): Promise<{ caseId: string; draftId: string }> {
    const survivor = await registerSurvivor(t);
    const { caseId } = await submit(survivor, 'a testimony whose story is checked', { advocatesMayRead: true, statistics: null });
    const { res, draftId } = await propose(advocate, caseId, survivor, story);
    expect(res.status).toBe(201);
    expect(
      (
        await survivorPost(
          survivor,
          `/api/survivor/cases/${caseId}/drafts/${draftId}/consent`,
          await consentOf(survivor, caseId, draftId, story),
        )
      ).status,
    ).toBe(201);
    return { caseId, draftId };
  }

  test('the XML check used below finds what a parser refuses', () => {
    expect(xmlProblems('<?xml version="1.0"?>\n<feed a="x &amp; y"><t>ok\tok</t><l href="u"/></feed>\n')).toEqual([]);
    expect(xmlProblems('<a>bell\u0007</a>')).toEqual(['U+0007 at 7']);
    expect(xmlProblems('<a>\uFFFF</a>')).toHaveLength(1);
    expect(xmlProblems('<a>\uD800</a>')).toHaveLength(1);
    expect(xmlProblems('<a>x & y</a>')).toEqual(['bare & at 5']);
    expect(xmlProblems('<a>x < y</a>')).toEqual(['stray < at 5']);
    expect(xmlProblems('<a><b></a></b>')).toHaveLength(2);
  });

  test.each([
    ['text', { ...STORY, text: 'It rang\u0007 all night.' }, 'U+0007 is at character 8'],
    ['title', { ...STORY, title: 'At the\u0000 office' }, 'U+0000 is at character 7'],
    ['text', { ...STORY, text: 'Windows line ends\r\nare not what the page sends.' }, 'U+000D is at character 18'],
    ['text', { ...STORY, text: 'A form feed\u000C here.' }, 'U+000C is at character 12'],
  ])(
    'a story whose %s holds a control character is refused with a 400 naming the field and the character, and nothing is written',
    async (field, story, where) => {
      const { draftId } = await approvedDraft(story);
      const res = await unchanged(t, () => advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story }));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toBe(
        `story.${field}: must not contain control characters; ${where} (only tab and line feed are allowed)`,
      );
    },
  );

  test('tabs and line feeds belong to the story: published as written, and the feed stays well-formed', async () => {
    const story = { ...STORY, title: 'Tabs\tand lines', text: 'Line one\n\tindented line two\n\nA second paragraph.' };
    const { draftId } = await approvedDraft(story);
    const res = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story });
    expect(res.status).toBe(201);
    const feed = (await request(t.app).get('/stories/feed.atom')).text;
    expect(feed).toContain('<title>Tabs\tand lines</title>');
    expect(xmlProblems(feed)).toEqual([]);
  });

  test('a story stored with characters XML forbids (a row from before the check) still gives a well-formed feed and pages', async () => {
    const { caseId, draftId } = await approvedDraft(STORY);
    const alias = newAlias();
    // PostgreSQL's text cannot hold U+0000, so no row there can carry one: U+0001 stands in.
    const nul = (t.db.client as { config: { client: string } }).config.client === 'pg' ? '\u0001' : '\u0000';
    const story = {
      title: 'Bell\u0007 title',
      text: `nul${nul} vt\u000B us\u001F noncharacter\uFFFF lone\uD800 surrogate\n\nkept: tab\t and emoji \u{1F600}`,
      context: 'workplace',
    };
    await t.ctx.repos.publishing.publish(t.db, { alias, draftId, caseId, story, month: utcDay().slice(0, 7), day: utcDay() });

    const feed = await request(t.app).get('/stories/feed.atom');
    expect(feed.status).toBe(200);
    expect(feed.text).toContain('<title>Bell\uFFFD title</title>');
    expect(feed.text).toContain('nul\uFFFD vt\uFFFD us\uFFFD noncharacter\uFFFD lone\uFFFD surrogate');
    expect(feed.text).toContain('tab\t and emoji \u{1F600}');
    expect(xmlProblems(feed.text)).toEqual([]);
    for (const url of [`/stories/${alias}`, '/stories']) {
      const page = await request(t.app).get(url);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Bell\uFFFD title');
      expect(xmlProblems(page.text).filter((p) => p.startsWith('U+'))).toEqual([]);
    }
  });
});

/**
 * What arrives between a route's checks and its transaction (reviews found each): the
 * repository call that sits in that gap runs the other request first, through the real API,
 * so the two interleave exactly there.
 */
describe('a revocation, an erasure, a newer draft or a withdrawn sharing arriving in the middle of a request', () => {
  afterEach(() => jest.restoreAllMocks());

  async function approved() {
    const survivor = await registerSurvivor(t);
    const { caseId } = await submit(survivor, 'a testimony', { advocatesMayRead: true, statistics: null });
    const { draftId } = await propose(mod, caseId, survivor);
    const consented = await survivorPost(
      survivor,
      `/api/survivor/cases/${caseId}/drafts/${draftId}/consent`,
      await consentOf(survivor, caseId, draftId),
    );
    expect(consented.status).toBe(201);
    return { survivor, caseId, draftId };
  }
  const draftStatus = async (draftId: string) => (await t.db('drafts').where({ id: draftId }).first())?.status;

  test('a revocation while the advocate publishes: nothing is published, and the draft stays revoked', async () => {
    const { survivor, caseId, draftId } = await approved();
    let revoked: request.Response | undefined;
    interleave(t.ctx.repos.publishing, 'aliasExists', async () => {
      revoked = await survivorPost(
        survivor,
        `/api/survivor/cases/${caseId}/drafts/${draftId}/revoke`,
        revocationOf(survivor, caseId, draftId),
      );
    });
    const published = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(revoked?.status).toBe(200);
    expect(published.status).toBe(409);
    expect(published.body.error.code).toBe('consent_revoked');
    expect(await draftStatus(draftId)).toBe('revoked');
    expect(await t.db('publications').where({ draft_id: draftId }).whereNull('revoked_day')).toEqual([]);
  });

  test('"delete everything" while the advocate publishes: 409, not 500, and nothing is published', async () => {
    const { survivor, draftId } = await approved();
    interleave(t.ctx.repos.publishing, 'aliasExists', () =>
      survivorPost(survivor, '/api/survivor/delete-everything', { confirm: 'delete everything' }),
    );
    const published = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(published.status).toBe(409);
    expect(await t.db('publications').where({ draft_id: draftId })).toEqual([]);
  });

  test('"delete everything" arriving while a publication commits: the new story is taken down too', async () => {
    const { survivor, draftId } = await approved();
    const liveStories = async () => Number((await t.db('publications').whereNull('revoked_day').count({ n: '*' }))[0].n);
    const liveBefore = await liveStories();
    let erased: Promise<request.Response> | undefined;
    // Inside the publication's transaction, its story inserted but not committed: the survivor
    // deletes everything now. On PostgreSQL her erasure runs alongside and must wait for the
    // publication rather than miss its story; on SQLite the one connection serializes them.
    interleave(t.ctx.repos.audit, 'record', async () => {
      erased = survivorPost(survivor, '/api/survivor/delete-everything', { confirm: 'delete everything' }).then((r) => r);
      if (isPostgres(t.db)) await someoneWaitsOnALock(t.db);
    });
    const published = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    const erasure = await erased!;
    expect(erasure.status).toBe(204);
    // The publication may answer 201 or 409, but her story is never left live with no account to withdraw it.
    if (published.status === 201) {
      expect((await request(t.app).get(`/stories/${published.body.alias}`)).status).toBe(410);
      expect(await t.db('publications').where({ alias: published.body.alias }).first()).toMatchObject({ text: null, title: null });
    } else expect(published.status).toBe(409);
    expect(await liveStories()).toBe(liveBefore);
  });

  test('a newer draft proposed while the survivor approves the older one: the older one stays superseded', async () => {
    const survivor = await registerSurvivor(t);
    const { caseId } = await submit(survivor, 'a testimony', { advocatesMayRead: true, statistics: null });
    const { draftId } = await propose(mod, caseId, survivor);
    let newer: { draftId: string } | undefined;
    interleave(t.ctx.repos.publishing, 'consent', async () => {
      newer = await propose(mod, caseId, survivor, { ...STORY, text: 'A newer version of the story.' });
    });
    const consented = await survivorPost(
      survivor,
      `/api/survivor/cases/${caseId}/drafts/${draftId}/consent`,
      await consentOf(survivor, caseId, draftId),
    );
    expect(consented.status).toBe(409);
    expect(consented.body.error.code).toBe('draft_not_open');
    expect(await draftStatus(draftId)).toBe('superseded');
    expect(await draftStatus(newer!.draftId)).toBe('proposed');
    expect(await t.db('consents').where({ draft_id: draftId })).toEqual([]);
  });

  test('a newer draft proposed while the survivor asks for changes to the older one: the older one stays superseded', async () => {
    const survivor = await registerSurvivor(t);
    const { caseId } = await submit(survivor, 'a testimony', { advocatesMayRead: true, statistics: null });
    const { draftId } = await propose(mod, caseId, survivor);
    const body = await changesRequest(survivor, caseId, draftId, 'please change the wording');
    let newer: { draftId: string } | undefined;
    // Between the request's status check and its transaction (the keyset is read in the gap).
    interleave(t.ctx.repos.keysets, 'current', async () => {
      newer = await propose(mod, caseId, survivor, { ...STORY, text: 'A newer version of the story.' });
    });
    const asked = await survivorPost(survivor, `/api/survivor/cases/${caseId}/drafts/${draftId}/changes`, body);
    expect(newer).toBeDefined();
    expect(asked.status).toBe(409);
    expect(asked.body.error.code).toBe('draft_not_open');
    expect(await draftStatus(draftId)).toBe('superseded');
    expect(await draftStatus(newer!.draftId)).toBe('proposed');
    // Refused whole: the request's envelope was not kept either.
    expect(await t.db('envelopes').where({ case_id: caseId, kind: 'changes' })).toEqual([]);
  });

  test('a revocation signed on a phone whose clock is days off still takes the story down', async () => {
    const { survivor, caseId, draftId } = await approved();
    const published = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(published.status).toBe(201);
    const longAgo = utcDay(new Date(Date.now() - 3 * 86_400_000));
    const res = await survivorPost(
      survivor,
      `/api/survivor/cases/${caseId}/drafts/${draftId}/revoke`,
      revocationOf(survivor, caseId, draftId, longAgo),
    );
    expect(res.status).toBe(200);
    expect((await request(t.app).get(`/stories/${published.body.alias}`)).status).toBe(410);
  });

  test('a revocation stored with its day cleared still stops a publication', async () => {
    const { survivor, caseId, draftId } = await approved();
    expect(
      (await survivorPost(survivor, `/api/survivor/cases/${caseId}/drafts/${draftId}/revoke`, revocationOf(survivor, caseId, draftId)))
        .status,
    ).toBe(200);
    // Someone with the database clears the day and sets the draft back.
    await t.db('consents').where({ draft_id: draftId }).update({ revoked_day: null });
    await t.db('drafts').where({ id: draftId }).update({ status: 'approved' });
    const published = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(published.status).toBe(409);
    expect(published.body.error.code).toBe('consent_revoked');
  });

  test('her other tab opens the case to advocates while this one keeps it closed: 409, and her opening stands whole', async () => {
    const survivor = await registerSurvivor(t);
    const { res, caseId, envelope } = await submit(
      survivor,
      'two tabs',
      { advocatesMayRead: false, statistics: null },
      { advocates: false },
    );
    expect(res.status).toBe(201);
    const ks = await currentKeyset(t);
    const url = `/api/survivor/cases/${caseId}/sharing`;
    const grants = readersOf(ks.keyset, 'advocate').map((pk) =>
      makeGrant(envelope, { box: survivor.keys.box, recipient: pk, granter: survivor.keys.sign }),
    );
    let opened: request.Response | undefined;
    // This tab read the sharing (closed) before its transaction; the other tab opens it in between.
    interleave(t.ctx.repos.publishing, 'sharingOf', async () => {
      opened = await survivorPost(survivor, url, {
        sharing: { advocatesMayRead: true, statistics: null },
        keysetVersion: ks.keyset.version,
        grants,
      });
    });
    const kept = await survivorPost(survivor, url, {
      sharing: { advocatesMayRead: false, statistics: { context: 'online' } },
      keysetVersion: ks.keyset.version,
    });
    expect(opened?.status).toBe(200);
    expectError(kept, 409, 'sharing_changed');
    // Not undone by the stale request: open, with a key for every advocate, and no statistics written.
    expect((await t.db('cases').where({ id: caseId }).first()).advocates_may_read).toBeTruthy();
    expect(
      await t.db('envelope_grants').where({ envelope_id: (await t.db('envelopes').where({ case_id: caseId, seq: 0 }).first()).id }),
    ).toHaveLength(grants.length);
    expect(await t.db('case_statistics').where({ case_id: caseId })).toEqual([]);
  });

  test('a withdrawal while an advocate joins and is granted the testimony: 409 keyset_changed, then the withdrawal erases their key too', async () => {
    const survivor = await registerSurvivor(t);
    const { caseId, envelope } = await submit(survivor, 'withdrawn as someone joins', { advocatesMayRead: true, statistics: null });
    const ks = await currentKeyset(t);
    const url = `/api/survivor/cases/${caseId}/sharing`;
    let late: StaffActor | undefined;
    interleave(t.ctx.repos.publishing, 'sharingOf', async () => {
      late = await addStaff(t, admin, 'adv.joins.meanwhile', 'advocate');
      const pending: PendingGrants = (await mod.agent.get(`/api/staff/grants/pending?staffId=${late.staffId}`)).body;
      const item = pending.items.find((i) => i.caseId === caseId && i.kind === 'testimony')!;
      const grant = makeGrant(envelope, { box: mod.box, recipient: late.box.publicKey, granter: mod.sign });
      expect(
        (await mod.agent.post('/api/staff/grants').send({ staffId: late.staffId, grants: [{ envelopeId: item.id, grant }] })).status,
      ).toBe(201);
    });
    const withdraw = (version: number) =>
      survivorPost(survivor, url, { sharing: { advocatesMayRead: false, statistics: null }, keysetVersion: version });
    expectError(await withdraw(ks.keyset.version), 409, 'keyset_changed');
    expect(await t.db('envelope_grants').where({ kid: keyId(late!.box.publicKey) })).toHaveLength(1);
    // Her page reads the keyset again and sends again: now the newcomer's key goes too.
    expect((await withdraw((await currentKeyset(t)).keyset.version)).status).toBe(200);
    expect(await t.db('envelope_grants').where({ kid: keyId(late!.box.publicKey) })).toEqual([]);
    expect((await late!.agent.get(`/api/staff/publishing/${caseId}`)).status).toBe(404);
  });

  test.each([
    ['v1', '/api/staff/grants'],
    ['v2', '/api/staff/grants/batch'],
  ])(
    'a withdrawal of sharing while a moderator grants the testimony to a newer advocate (%s): 409, the advocate holds no key, and she can open the case again',
    async (version, route) => {
      const survivor = await registerSurvivor(t);
      const { caseId, envelope } = await submit(survivor, 'open, then withdrawn', { advocatesMayRead: true, statistics: null });
      const late = await addStaff(t, admin, `adv.race.${version}`, 'advocate');
      const pending: PendingGrants = (await mod.agent.get(`/api/staff/grants/pending?staffId=${late.staffId}`)).body;
      const item = pending.items.find((i) => i.caseId === caseId && i.kind === 'testimony')!;
      expect(item).toBeDefined();
      const { body, wrapped } = (() => {
        if (version === 'v1') {
          const grant = makeGrant(envelope, { box: mod.box, recipient: late.box.publicKey, granter: mod.sign });
          return { body: { staffId: late.staffId, grants: [{ envelopeId: item.id, grant }] }, wrapped: grant.wrapped };
        }
        const leaf = rewrapKey(
          { envelopeHash: item.hash, key: item.key, grants: item.grants },
          { box: mod.box, recipient: late.box.publicKey, trustedGranters: [] },
        );
        const { sig } = signGrantBatch([leaf], mod.sign);
        return {
          body: { staffId: late.staffId, sig, grants: [{ envelopeId: item.id, epk: leaf.epk, wrapped: leaf.wrapped }] },
          wrapped: leaf.wrapped,
        };
      })();

      // The route's scope check passes (the case is still open to advocates); the survivor
      // withdraws right after it, before the grants' transaction.
      const ks = await currentKeyset(t);
      let withdrawn: request.Response | undefined;
      const scopeCheck = interleave(t.ctx.repos.envelopes, 'advocatesMayRead', async () => {
        withdrawn = await survivorPost(survivor, `/api/survivor/cases/${caseId}/sharing`, {
          sharing: { advocatesMayRead: false, statistics: null },
          keysetVersion: ks.keyset.version,
        });
      });
      const granted = await mod.agent.post(route).send(body);
      expect(scopeCheck).toHaveBeenCalled();
      expect(withdrawn?.status).toBe(200);
      expectError(granted, 409, 'sharing_withdrawn');
      expect(await t.db('envelope_grants').where({ kid: keyId(late.box.publicKey) })).toEqual([]);
      expect(await foundInDatabase(t, [wrapped])).toEqual([]);
      expect((await late.agent.get(`/api/staff/publishing/${caseId}`)).status).toBe(404);

      // When she opens the case to advocates again, her grants reach every advocate: no
      // moderator's grant stored after her withdrawal stands in the way of hers.
      const grants = readersOf(ks.keyset, 'advocate').map((pk) =>
        makeGrant(envelope, { box: survivor.keys.box, recipient: pk, granter: survivor.keys.sign }),
      );
      const reopened = await survivorPost(survivor, `/api/survivor/cases/${caseId}/sharing`, {
        sharing: { advocatesMayRead: true, statistics: null },
        keysetVersion: ks.keyset.version,
        grants,
      });
      expect(reopened.status).toBe(200);
      const detail: PublishingCase = (await late.agent.get(`/api/staff/publishing/${caseId}`)).body;
      const opened = openEnvelope<{ testimony: { what: string } }>(detail.testimony.envelope, {
        box: late.box,
        expectedKind: 'testimony',
        expectedCaseId: caseId,
        trustedSigners: [survivor.keys.sign.publicKey],
        grants: detail.testimony.grants,
        trustedGranters: [survivor.keys.sign.publicKey],
      });
      expect(opened.body.testimony.what).toBe('open, then withdrawn');
    },
  );
});
