/**
 * Issue 15, publishing side, through the API with the real protocol and a real database:
 *
 * - A survivor's request for changes reaches the draft's author: it is an envelope (kind
 *   'changes') sealed to the survivor, the moderators and the author, which an advocate who
 *   wrote the draft opens from the Publishing panel's answer; the server refuses a request the
 *   author could not read, one not signed by the survivor, or of another kind, and writes nothing.
 * - An admin or advocate takes a published story down with a reason: its address answers 410
 *   showing the reason (escaped), the wall and the feed drop it, its words leave the database,
 *   the survivor's case shows the draft taken down and why, and it is audited. A moderator may
 *   not; bad input, an unknown address or a story already gone is refused and writes nothing.
 */
import request from 'supertest';
import {
  keyId,
  openEnvelope,
  randomId,
  readersOf,
  sealEnvelope,
  signStatement,
  storyHash,
  utcDay,
  type ConsentStatement,
  type PublicStory,
} from '../../protocol';
import type { PublishingCase, PublishingCaseSummary, SurvivorCase } from '../../protocol/api';
import { foundInDatabase } from '../support/database-files';
import {
  addStaff,
  currentKeyset,
  removedMidRequest,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  unchanged,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { escapeHtml } from '../../server/http/html';
import { expectError, MARKER } from './expect-error';

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

const asSurvivor = (survivor: SurvivorActor) => ({
  post: (url: string, body: object) => request(t.app).post(url).set('Authorization', `Bearer ${survivor.token}`).send(body),
  cases: async (): Promise<SurvivorCase[]> => {
    const res = await request(t.app).get('/api/survivor/cases').set('Authorization', `Bearer ${survivor.token}`);
    expect(res.status).toBe(200);
    return res.body.cases;
  },
});

/** A case whose survivor lets advocates read it. */
async function openCase(survivor: SurvivorActor): Promise<string> {
  const ks = await currentKeyset(t);
  const envelope = sealEnvelope({
    kind: 'testimony',
    caseId: randomId(),
    body: { testimony: { what: 'what happened', when: '2018', context: 'workplace', wantsReplies: true } },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')],
    signer: survivor.keys.sign,
  });
  const res = await asSurvivor(survivor).post('/api/survivor/cases', {
    envelope,
    keysetVersion: ks.keyset.version,
    pow: await pow(t),
    sharing: { advocatesMayRead: true, statistics: null },
  });
  expect(res.status).toBe(201);
  return envelope.caseId;
}

async function propose(author: StaffActor, survivor: SurvivorActor, caseId: string, story: PublicStory): Promise<string> {
  const ks = await currentKeyset(t);
  const draftId = randomId();
  const envelope = sealEnvelope({
    kind: 'draft',
    caseId,
    body: { draft: { draftId, ...story } },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')],
    signer: author.sign,
  });
  const res = await author.agent.post(`/api/staff/cases/${caseId}/drafts`).send({ draftId, envelope, keysetVersion: ks.keyset.version });
  expect(res.status).toBe(201);
  return draftId;
}

/** The survivor's request for changes, sealed to themselves, the moderators and `also`. */
async function changesRequest(survivor: SurvivorActor, caseId: string, draftId: string, text: string, also: Uint8Array[]) {
  const ks = await currentKeyset(t);
  const readers = new Map([survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...also].map((pk) => [keyId(pk), pk]));
  const envelope = sealEnvelope({
    kind: 'changes',
    caseId,
    body: { changes: { draftId, text } },
    recipients: [...readers.values()],
    signer: survivor.keys.sign,
  });
  return { envelope, keysetVersion: ks.keyset.version };
}

/** A story proposed by the advocate, approved by the survivor and published: its address. */
async function published(survivor: SurvivorActor, story: PublicStory): Promise<{ caseId: string; draftId: string; alias: string }> {
  const caseId = await openCase(survivor);
  const draftId = await propose(advocate, survivor, caseId, story);
  const statement: ConsentStatement = { v: 1, type: 'publish', caseId, draftId, textHash: await storyHash(story), issuedDay: utcDay() };
  const consent = await asSurvivor(survivor).post(`/api/survivor/cases/${caseId}/drafts/${draftId}/consent`, {
    statement,
    sig: signStatement(statement, survivor.keys.sign.secretKey),
  });
  expect(consent.status).toBe(201);
  const res = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story });
  expect(res.status).toBe(201);
  return { caseId, draftId, alias: res.body.alias };
}

describe("a survivor's request for changes reaches the draft's author", () => {
  test('an advocate who wrote the draft opens the request from the Publishing panel, and the draft waits on it', async () => {
    const survivor = await registerSurvivor(t);
    const caseId = await openCase(survivor);
    const draftId = await propose(advocate, survivor, caseId, { title: 'A title', text: 'first wording', context: 'workplace' });
    const url = `/api/survivor/cases/${caseId}/drafts/${draftId}/changes`;
    const wanted = `Please say colleague, not manager. ${randomId()}`;
    const advocateBox = advocate.box.publicKey;

    await unchanged(t, async () => {
      // Sealed to the moderators only: the advocate who wrote the draft could not read it.
      expectError(
        await asSurvivor(survivor).post(url, await changesRequest(survivor, caseId, draftId, wanted, [])),
        400,
        'missing_recipient',
        "draft's author",
      );
      // Signed by someone else than the survivor.
      const forged = await changesRequest(survivor, caseId, draftId, wanted, [advocateBox]);
      const byOther = sealEnvelope({
        kind: 'changes',
        caseId,
        body: { changes: { draftId, text: wanted } },
        recipients: [survivor.keys.box.publicKey, advocateBox, ...readersOf((await currentKeyset(t)).keyset)],
        signer: mod.sign,
      });
      expectError(await asSurvivor(survivor).post(url, { ...forged, envelope: byOther }), 400, 'untrusted_signer', 'envelope.signer');
      // Of another kind: a thread message cannot stand for a change request.
      const message = sealEnvelope({
        kind: 'note',
        caseId,
        body: { text: wanted },
        recipients: [...readersOf((await currentKeyset(t)).keyset)],
        signer: survivor.keys.sign,
      });
      expectError(await asSurvivor(survivor).post(url, { ...forged, envelope: message }), 400, 'wrong_kind', 'changes');
      expectError(await asSurvivor(survivor).post(url, { envelope: `${MARKER}` }), 400, 'invalid_request', 'envelope');
    });

    const sent = await asSurvivor(survivor).post(url, await changesRequest(survivor, caseId, draftId, wanted, [advocateBox]));
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ status: 'changes_requested' });

    // The list marks the draft as waiting on a change; the case answer carries the request, which the advocate opens.
    const list = await advocate.agent.get('/api/staff/publishing');
    const summary = (list.body.cases as PublishingCaseSummary[]).find((c) => c.caseId === caseId)!;
    expect(summary.drafts.map((d) => d.status)).toEqual(['changes_requested']);
    const detail: PublishingCase = (await advocate.agent.get(`/api/staff/publishing/${caseId}`)).body;
    const changes = detail.drafts[0].changes!;
    expect(changes).not.toBeNull();
    const opened = openEnvelope<{ changes: { draftId: string; text: string } }>(changes.envelope, {
      box: advocate.box,
      expectedKind: 'changes',
      expectedCaseId: caseId,
      trustedSigners: [survivor.keys.sign.publicKey],
    });
    expect(opened.body.changes).toEqual({ draftId, text: wanted });
    // The moderators can read it too, and so can the survivor, on their own page.
    const forMod: PublishingCase = (await mod.agent.get(`/api/staff/publishing/${caseId}`)).body;
    expect(
      openEnvelope<{ changes: { text: string } }>(forMod.drafts[0].changes!.envelope, {
        box: mod.box,
        expectedKind: 'changes',
        expectedCaseId: caseId,
        trustedSigners: [survivor.keys.sign.publicKey],
      }).body.changes.text,
    ).toBe(wanted);
    const [mine] = await asSurvivor(survivor).cases();
    expect(mine.drafts[0].changes?.envelope.kind).toBe('changes');
    // The request is not a thread message: the conversation is unchanged by it.
    expect(mine.thread.map((i) => i.envelope.kind)).toEqual(['testimony']);
    // Its words are not in the database.
    expect(await foundInDatabase(t, [wanted])).toEqual([]);
  });
});

describe('taking a published story down', () => {
  test('an admin takes a story down: 410 with the reason, gone from wall, feed and database, the survivor sees why, audited', async () => {
    const survivor = await registerSurvivor(t);
    const words = `The words of the story ${randomId()}`;
    const story: PublicStory = { title: `A story ${randomId()}`, text: words, context: 'workplace' };
    const { draftId, alias } = await published(survivor, story);
    expect((await request(t.app).get(`/stories/${alias}`)).status).toBe(200);
    expect((await request(t.app).get('/stories/feed.atom')).text).toContain(words);

    const reason = 'On legal advice: a court order of <b>March</b> & a complaint';
    const res = await admin.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason: `  ${reason} ` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ alias, status: 'taken_down' });

    const page = await request(t.app).get(`/stories/${alias}`);
    expect(page.status).toBe(410);
    expect(page.text).toContain('This story was taken down');
    expect(page.text).toContain('On legal advice: a court order of &lt;b&gt;March&lt;/b&gt; &amp; a complaint');
    expect(page.text).not.toContain('<b>March</b>');
    expect(page.text).not.toContain(words);
    expect((await request(t.app).get('/stories/feed.atom')).text).not.toContain(words);
    expect((await request(t.app).get('/stories')).text).not.toContain(story.title);

    const row = await t.db('publications').where({ alias }).first();
    expect(row).toMatchObject({ title: null, text: null, context: null, case_id: null, draft_id: draftId, takedown_reason: reason });
    expect(await foundInDatabase(t, [words, story.title])).toEqual([]);

    const [mine] = await asSurvivor(survivor).cases();
    expect(mine.drafts[0]).toMatchObject({
      status: 'taken_down',
      publication: null,
      takedown: { alias, reason, day: utcDay() },
    });

    const audit = await admin.agent.get('/api/staff/audit?limit=500');
    expect(audit.body.entries.filter((e: { action: string }) => e.action === 'story.taken_down')).toEqual([
      expect.objectContaining({ actorId: admin.staffId, detail: { alias, reason } }),
    ]);

    // Gone already: a second takedown, or the advocate publishing that draft again, changes nothing.
    await unchanged(t, async () => {
      expectError(await admin.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason: 'again' }), 409, 'story_gone');
      expectError(await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story }), 409, 'not_approved');
    });
  });

  test('an advocate may take a story down; a moderator may not; bad input and unknown addresses write nothing', async () => {
    const survivor = await registerSurvivor(t);
    const { alias } = await published(survivor, { title: 'Another', text: 'Another story', context: 'education' });
    await unchanged(t, async () => {
      expectError(
        await mod.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason: 'no' }),
        403,
        'forbidden',
        'admin or advocate',
      );
      expectError(await request(t.app).post(`/api/staff/stories/${alias}/takedown`).send({ reason: 'no' }), 401, 'unauthorized');
      expectError(await advocate.agent.post(`/api/staff/stories/${alias}/takedown`).send({}), 400, 'invalid_request', 'reason');
      expectError(
        await advocate.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason: ' ' }),
        400,
        'invalid_request',
        'reason',
      );
      expectError(
        await advocate.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason: `${MARKER}${'x'.repeat(500)}` }),
        400,
        'invalid_request',
        'reason',
        '500',
      );
      expectError(await advocate.agent.post('/api/staff/stories/abcdefghjk/takedown').send({ reason: 'x' }), 404, 'not_found', 'story');
      expectError(
        await advocate.agent.post(`/api/staff/stories/${MARKER}/takedown`).send({ reason: 'x' }),
        400,
        'invalid_request',
        'alias',
      );
    });
    // The longest reason: the page shows it whole, the audit log (whose strings are shorter) its start.
    const reason = `The survivor is at risk. ${'x'.repeat(475)}`;
    expect(reason).toHaveLength(500);
    const res = await advocate.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason });
    expect(res.status).toBe(200);
    expect((await request(t.app).get(`/stories/${alias}`)).text).toContain(reason);
    const audit = await admin.agent.get('/api/staff/audit?limit=500');
    const entry = audit.body.entries.find(
      (e: { action: string; detail: { alias?: string } }) => e.action === 'story.taken_down' && e.detail.alias === alias,
    );
    expect(entry).toMatchObject({ actorId: advocate.staffId, detail: { alias, reason: `${reason.slice(0, 199)}…` } });
  });

  test('an advocate removed after their request passed the guard takes nothing down: 409 member_removed, the story stays', async () => {
    const survivor = await registerSurvivor(t);
    const { alias } = await published(survivor, { title: 'Kept up', text: 'A story that stays', context: 'workplace' });
    const leaving = await addStaff(t, admin, 'adv.leaving', 'advocate');
    const taken = await removedMidRequest(t, admin, leaving, () =>
      leaving.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason: 'on my way out' }),
    );
    expectError(taken, 409, 'member_removed', 'removed');
    const page = await request(t.app).get(`/stories/${alias}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('A story that stays');
  });

  test('a story its survivor withdrew answers 410 as withdrawn, and cannot be taken down', async () => {
    const survivor = await registerSurvivor(t);
    const { caseId, draftId, alias } = await published(survivor, { title: 'Withdrawn', text: 'Withdrawn story', context: 'online' });
    const statement = { v: 1 as const, type: 'revoke' as const, caseId, draftId, issuedDay: utcDay() };
    const revoked = await asSurvivor(survivor).post(`/api/survivor/cases/${caseId}/drafts/${draftId}/revoke`, {
      statement,
      sig: signStatement(statement, survivor.keys.sign.secretKey),
    });
    expect(revoked.status).toBe(200);
    await unchanged(t, async () => {
      expectError(await admin.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason: 'late' }), 409, 'story_gone');
    });
    const page = await request(t.app).get(`/stories/${alias}`);
    expect(page.status).toBe(410);
    expect(page.text).toContain('This story was withdrawn');
  });
});

describe("the public pages show the survivor's words exactly", () => {
  // String.prototype.replace reads $&, $`, $' and $$ in a replacement string as patterns: a
  // page frame filled that way put the frame itself, or nothing, where these characters were.
  const dollars = 'He said "pay 100$" and left. $$ $& $` $\' <b>$1</b> & 100$\'s worth';

  test('a story with dollar signs: the page, the wall and a takedown reason show them as written', async () => {
    const survivor = await registerSurvivor(t);
    const story = { title: `Title $' $& "$"`, text: dollars, context: 'online' as const };
    const { alias } = await published(survivor, story);
    const page = await request(t.app).get(`/stories/${alias}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(escapeHtml(dollars));
    expect(page.text).toContain(escapeHtml(story.title));
    expect(page.text.match(/<!DOCTYPE html>/gi)).toHaveLength(1);
    const wall = await request(t.app).get('/stories');
    expect(wall.text).toContain(escapeHtml(story.title));

    const reason = `Taken down: $' $& $\` $$ "100$"`;
    expect((await advocate.agent.post(`/api/staff/stories/${alias}/takedown`).send({ reason })).status).toBe(200);
    const gone = await request(t.app).get(`/stories/${alias}`);
    expect(gone.status).toBe(410);
    expect(gone.text).toContain(escapeHtml(reason));
  });
});
