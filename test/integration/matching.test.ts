/**
 * The matching escrow end to end through the API, with real OPRF evaluations, real sealing and
 * a real SQLite file (or PostgreSQL): two survivors naming one number written two ways match;
 * one survivor naming it twice matches nobody; a withdrawn identifier stops matching; a key
 * rotation is followed by re-derivation; a forged entry is refused by the counselor's check;
 * evaluations are limited per survivor and overall per day; bad input is refused and writes
 * nothing.
 */
import fs from 'node:fs';
import request from 'supertest';
import nacl from 'tweetnacl';
import { DELETE_EVERYTHING_CONFIRMATION, fromBase64url, keyId, randomId, readersOf, toBase64url } from '../../protocol';
import { MAX_MATCH_ENTRIES, type StaffMatch, type SurvivorMatching } from '../../protocol/api';
import {
  checkMatch,
  matchTag,
  normalizeIdentifier,
  openMatchEntry,
  oprfInput,
  sealMatchEntry,
  type Identifier,
  type IdentifierType,
} from '../../protocol/matching';
import { oprfBlind, oprfFinalize } from '../../protocol/oprf';
import { createApp } from '../../server/app';
import { clockFrom } from '../../server/clock';
import { sweepExpired } from '../../server/sweeper';
import {
  addStaff,
  asSurvivor,
  CLIENT_DIR,
  currentKeyset,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  statementsOf,
  submitTestimony,
  unchanged,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { interleave, someoneWaitsOnALock } from '../support/interleave';
import { isPostgres } from '../../server/db/database';
import { smtpSender } from '../../server/mailer';
import { deliverAlerts } from '../../server/services/alerts';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server';
import { expectError, MARKER } from './expect-error';

type App = Parameters<typeof request>[0];

/** What a survivor's browser does: blind, ask for the evaluation, finalize, derive the tag. */
async function deriveTag(app: App, survivor: SurvivorActor, identifier: Identifier): Promise<{ tag: string; keyVersion: number }> {
  const input = oprfInput(identifier);
  const { blind, blinded } = oprfBlind(input);
  const res = await request(app)
    .post('/api/survivor/matching/evaluate')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ blinded: [toBase64url(blinded)] });
  if (res.status !== 200) throw new Error(`evaluate: ${res.status} ${res.text}`);
  return { tag: matchTag(oprfFinalize(input, blind, fromBase64url(res.body.evaluated[0]))), keyVersion: res.body.keyVersion };
}

async function counselorKeys(t: TestServer): Promise<Uint8Array[]> {
  return readersOf((await currentKeyset(t)).keyset, 'matching_counselor');
}

/** The survivor names an identifier for a case: the entry sealed to the counselors and herself. */
async function nameIdentifier(
  t: TestServer,
  survivor: SurvivorActor,
  caseId: string,
  type: IdentifierType,
  raw: string,
  opts: { app?: App; sealAs?: Identifier } = {},
) {
  const app = opts.app ?? t.app;
  const { tag, keyVersion, sealed } = await entryBody(t, app, survivor, caseId, normalizeIdentifier(type, raw), opts.sealAs);
  const res = await request(app)
    .post('/api/survivor/matching/entries')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({ tag, keyVersion, sealed });
  return { res, tag, keyVersion, sealed };
}

/** What her browser sends to add (or replace) an entry: the tag under `app`'s key, and the entry sealed. */
async function entryBody(t: TestServer, app: App, survivor: SurvivorActor, caseId: string, identifier: Identifier, sealAs?: Identifier) {
  const { tag, keyVersion } = await deriveTag(app, survivor, identifier);
  const sealed = sealMatchEntry({
    identifier: sealAs ?? identifier,
    caseId,
    tag,
    keyVersion,
    recipients: [...(await counselorKeys(t)), survivor.keys.box.publicKey],
  });
  return { tag, keyVersion, sealed };
}

async function matches(agent: StaffActor['agent']): Promise<StaffMatch[]> {
  const res = await agent.get('/api/staff/matches');
  expect(res.status).toBe(200);
  return res.body.matches;
}

async function newCase(t: TestServer, survivor: SurvivorActor, what: string): Promise<string> {
  const { res, envelope } = await submitTestimony(t, survivor, what);
  expect(res.status).toBe(201);
  return envelope.caseId;
}

describe('matching escrow', () => {
  let t: TestServer;
  let admin: StaffActor;
  let counselor: StaffActor;
  let moderator: StaffActor;
  const survivors: SurvivorActor[] = [];
  const cases: string[] = [];

  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t, ['admin', 'moderator']);
    counselor = await addStaff(t, admin, 'counsel.one', ['moderator', 'matching_counselor']);
    moderator = await addStaff(t, admin, 'mod.only');
    for (let i = 0; i < 3; i++) {
      const s = await registerSurvivor(t);
      survivors.push(s);
      cases.push(await newCase(t, s, `testimony ${i}`));
    }
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const box = () => counselor.box;

  test('two survivors name one number written two ways: one match, whose entries the counselor opens and confirms', async () => {
    const [a, b, c] = survivors;
    expect((await nameIdentifier(t, a, cases[0], 'phone', '0300-1234567')).res.status).toBe(201);
    expect((await nameIdentifier(t, b, cases[1], 'phone', '+92 300 1234567')).res.status).toBe(201);
    expect((await nameIdentifier(t, c, cases[2], 'phone', '0321-7654321')).res.status).toBe(201);

    const found = await matches(counselor.agent);
    expect(found).toHaveLength(1);
    const [m] = found;
    expect(m.entries.map((e) => e.handle).sort()).toEqual([a.handle, b.handle].sort());
    const check = checkMatch(m.tag, m.keyVersion, m.entries, box());
    expect(check.isMatch).toBe(true);
    expect(check.refused).toEqual([]);
    expect(check.confirmed.map((c) => c.body.identifier.value)).toEqual(['+923001234567', '+923001234567']);
    expect(check.confirmed.map((c) => c.body.caseId).sort()).toEqual([cases[0], cases[1]].sort());

    // The counselor (a moderator too) reads both cases.
    for (const e of m.entries) {
      const caseId = check.confirmed.find((c) => c.index === m.entries.indexOf(e))!.body.caseId;
      const detail = await counselor.agent.get(`/api/staff/cases/${caseId}`);
      expect(detail.status).toBe(200);
      expect(detail.body.handle).toBe(e.handle);
    }

    // Looking is logged: who, and how many matches.
    const logged = await t.db('audit_log').where({ action: 'matching.listed', actor_id: counselor.staffId }).orderBy('seq', 'desc').first();
    expect(JSON.parse(logged.detail)).toEqual({ matches: 1 });

    // A moderator without the role, or no session, is refused.
    expectError(await moderator.agent.get('/api/staff/matches'), 403, 'forbidden', 'matching_counselor');
    expectError(await request(t.app).get('/api/staff/matches'), 401);
  });

  test('the database holds no identifier and no case reference in the clear', async () => {
    const rows = await t.db('matching_entries').select();
    const text = JSON.stringify(rows);
    for (const secret of ['923001234567', '3001234567', '7654321', cases[0], cases[1]]) expect(text).not.toContain(secret);
    if (t.dbFile) {
      await t.db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
      const bytes = fs.readFileSync(t.dbFile);
      for (const secret of ['923001234567', '3001234567', '0300-1234567']) expect(bytes.includes(Buffer.from(secret))).toBe(false);
    }
  });

  test('the survivor lists her own entries and opens them with her own key', async () => {
    const res = await asSurvivor(t, survivors[0]).get('/api/survivor/matching');
    expect(res.status).toBe(200);
    const status = res.body as SurvivorMatching;
    expect(status.counselors).toBe(true);
    expect(status.keyVersion).toBe(1);
    expect(status.entries).toHaveLength(1);
    const e = status.entries[0];
    expect(openMatchEntry(e.sealed, survivors[0].keys.box, e).identifier.value).toBe('+923001234567');
    expect(status.evaluationsLeftToday).toBe(t.ctx.config.matchingEvaluationsPerSurvivorPerDay - 1);
  });

  test('one survivor naming the same person twice matches nobody', async () => {
    const s = await registerSurvivor(t);
    const first = await newCase(t, s, 'first');
    const second = await newCase(t, s, 'second');
    const one = await nameIdentifier(t, s, first, 'email', 'Repeat.Person@Example.com');
    const two = await nameIdentifier(t, s, second, 'email', 'repeat.person@example.com');
    expect([one.res.status, two.res.status]).toEqual([201, 201]);
    expect(one.tag).toBe(two.tag);
    expect((await matches(counselor.agent)).map((m) => m.tag)).not.toContain(one.tag);
  });

  test('a withdrawn identifier no longer matches, and its row is gone', async () => {
    const x = await registerSurvivor(t);
    const y = await registerSurvivor(t);
    const named = await nameIdentifier(t, x, await newCase(t, x, 'x'), 'social', 'https://www.instagram.com/Same.Person/?igshid=abc');
    await nameIdentifier(t, y, await newCase(t, y, 'y'), 'social', 'instagram.com/same.person');
    expect((await matches(counselor.agent)).map((m) => m.tag)).toContain(named.tag);

    const id = named.res.body.id as string;
    expectError(await asSurvivor(t, y).post(`/api/survivor/matching/entries/${id}/withdraw`), 404, 'not_found');
    const res = await asSurvivor(t, x).post(`/api/survivor/matching/entries/${id}/withdraw`);
    expect(res.status).toBe(204);
    expect(await t.db('matching_entries').where({ id }).first()).toBeUndefined();
    expect((await matches(counselor.agent)).map((m) => m.tag)).not.toContain(named.tag);
  });

  test('"delete everything" erases her entries with her account', async () => {
    const s = await registerSurvivor(t);
    const named = await nameIdentifier(t, s, await newCase(t, s, 'to delete'), 'email', 'gone@example.org');
    expect(named.res.status).toBe(201);
    const res = await asSurvivor(t, s).post('/api/survivor/delete-everything', { confirm: DELETE_EVERYTHING_CONFIRMATION });
    expect(res.status).toBe(204);
    expect(await t.db('matching_entries').where({ id: named.res.body.id }).first()).toBeUndefined();
  });

  test('after "delete everything", her still-valid token gets 401 on every matching route, and nothing is written', async () => {
    const s = await registerSurvivor(t);
    const named = await nameIdentifier(t, s, await newCase(t, s, 'then deleted'), 'email', 'deleted.after@example.org');
    expect(named.res.status).toBe(201);
    const entryId = named.res.body.id as string;
    expect((await asSurvivor(t, s).post('/api/survivor/delete-everything', { confirm: DELETE_EVERYTHING_CONFIRMATION })).status).toBe(204);
    const { blinded } = oprfBlind(oprfInput(normalizeIdentifier('email', 'deleted.after@example.org')));
    const entry = { tag: named.tag, keyVersion: named.keyVersion, sealed: named.sealed };
    const as = asSurvivor(t, s);
    await unchanged(t, async () => {
      for (const res of [
        await as.get('/api/survivor/matching'),
        await as.post('/api/survivor/matching/evaluate', { blinded: [toBase64url(blinded)] }),
        await as.post('/api/survivor/matching/entries', entry),
        await as.post(`/api/survivor/matching/entries/${entryId}/replace`, entry),
        await as.post(`/api/survivor/matching/entries/${entryId}/withdraw`),
      ]) {
        expectError(res, 401, 'unauthorized');
        expect(res.body.error.message).toMatch(/no longer exists/);
      }
    });
  });

  test('a forged entry (another identifier sealed under a tag its maker obtained) is refused by the counselor check', async () => {
    const forger = await registerSurvivor(t);
    const forged = await nameIdentifier(t, forger, await newCase(t, forger, 'f'), 'phone', '0300-1234567', {
      sealAs: normalizeIdentifier('phone', '0311-0000000'),
    });
    expect(forged.res.status).toBe(201);
    const m = (await matches(counselor.agent)).find((x) => x.tag === forged.tag)!;
    expect(m.entries).toHaveLength(3);
    const check = checkMatch(m.tag, m.keyVersion, m.entries, box());
    expect(check.isMatch).toBe(true); // the two genuine entries still match
    expect(check.confirmed).toHaveLength(2);
    const forgedIndex = m.entries.findIndex((e) => e.handle === forger.handle);
    expect(check.refused).toEqual([{ index: forgedIndex, reason: expect.stringMatching(/another identifier/) }]);

    // An entry moved under another tag (sealed naming another), or altered, is refused too.
    const genuine = m.entries.filter((e) => e.handle !== forger.handle);
    const elsewhere = sealMatchEntry({
      identifier: normalizeIdentifier('phone', '0300-1234567'),
      caseId: randomId(),
      tag: matchTag(new Uint8Array(64).fill(9)),
      keyVersion: 1,
      recipients: await counselorKeys(t),
    });
    const moved = checkMatch(m.tag, m.keyVersion, [genuine[0], { ...genuine[1], sealed: elsewhere }], box());
    expect(moved.isMatch).toBe(false);
    expect(moved.refused.find((r) => r.index === 1)!.reason).toMatch(/another tag/);
    const altered = {
      ...genuine[0].sealed,
      ciphertext: toBase64url(fromBase64url(genuine[0].sealed.ciphertext).map((b, i) => (i === 40 ? b ^ 1 : b))),
    };
    const broken = checkMatch(m.tag, m.keyVersion, [{ ...genuine[0], sealed: altered }, genuine[1]], box());
    expect(broken.isMatch).toBe(false);
    expect(broken.refused[0].reason).toMatch(/does not decrypt/);

    expect((await asSurvivor(t, forger).post(`/api/survivor/matching/entries/${forged.res.body.id}/withdraw`)).status).toBe(204);
  });

  test('the cap on identifiers holds for additions that count at once: the last place is taken once, the other is refused', async () => {
    const s = await registerSurvivor(t);
    const caseId = await newCase(t, s, 'many names');
    const survivorId: string = (await t.db('survivors').where({ handle: s.handle }).first('id')).id;
    const keyVersion = t.ctx.matching.keyVersion;
    const recipients = [...(await counselorKeys(t)), s.keys.box.publicKey];
    const body = (n: number) => {
      const tag = matchTag(nacl.randomBytes(64));
      const identifier = normalizeIdentifier('email', `person.${n}@example.com`);
      return { tag, keyVersion, sealed: sealMatchEntry({ identifier, caseId, tag, keyVersion, recipients }) };
    };
    // All places but one taken already (written straight to the table: the evaluations a
    // survivor may ask for in a day would not reach that many).
    await t.db.transaction(async (trx) => {
      for (let n = 0; n < MAX_MATCH_ENTRIES - 1; n++)
        await t.ctx.repos.matching.insert(trx, { id: randomId(), survivorId, ...body(n), createdDay: t.ctx.clock.today() });
    });
    const add = (b: object) => asSurvivor(t, s).post('/api/survivor/matching/entries', b);
    // Her first addition has counted her entries, not yet inserted: the second one counts now.
    // On PostgreSQL it must wait for the first; on SQLite the one connection runs it after.
    let second: Promise<request.Response> | undefined;
    const counted = interleave(t.ctx.repos.matching, 'countOfSurvivor', async () => {
      second = add(body(100)).then((r) => r);
      if (isPostgres(t.db)) await Promise.race([second, someoneWaitsOnALock(t.db)]);
    });
    const first = await add(body(99));
    expect(counted).toHaveBeenCalled();
    expect(first.status).toBe(201);
    expectError(await second!, 409, 'too_many_identifiers', String(MAX_MATCH_ENTRIES));
    expect(await t.db('matching_entries').where({ survivor_id: survivorId })).toHaveLength(MAX_MATCH_ENTRIES);
  });

  test('after a key rotation, tags are re-derived under the new key; old and new tags do not meet until then', async () => {
    const early = await registerSurvivor(t);
    const earlyCase = await newCase(t, early, 'early');
    const before = await nameIdentifier(t, early, earlyCase, 'phone', '0345 1112223');
    expect(before.keyVersion).toBe(1);

    // A second instance on the same database with the rotated key (as after a restart).
    const { app: rotated } = await createApp({
      db: t.db,
      config: t.ctx.config,
      clientDir: CLIENT_DIR,
      log: () => undefined,
      clock: clockFrom(() => t.clock.now()),
      matchingKey: { version: 2, seed: nacl.randomBytes(32) },
    });
    const late = await registerSurvivor(t);
    const lateNamed = await nameIdentifier(t, late, await newCase(t, late, 'late'), 'phone', '+923451112223', { app: rotated });
    expect(lateNamed.res.status).toBe(201);
    expect(lateNamed.keyVersion).toBe(2);
    expect(lateNamed.tag).not.toBe(before.tag);
    expect((await matches(counselor.agent)).map((m) => m.tag)).not.toContain(lateNamed.tag);

    // An entry made under the old key is refused by the rotated server.
    const stale = await request(rotated)
      .post('/api/survivor/matching/entries')
      .set('Authorization', `Bearer ${early.token}`)
      .send({ tag: before.tag, keyVersion: 1, sealed: before.sealed });
    expectError(stale, 409, 'stale_key', 'keyVersion');

    // The early survivor's next visit: her browser sees a stale entry, opens it with her key, re-derives.
    const status = (await request(rotated).get('/api/survivor/matching').set('Authorization', `Bearer ${early.token}`))
      .body as SurvivorMatching;
    expect(status.keyVersion).toBe(2);
    const old = status.entries.find((e) => e.keyVersion < status.keyVersion)!;
    const mine = openMatchEntry(old.sealed, early.keys.box, old);
    const again = await deriveTag(rotated, early, mine.identifier);
    expect(again.tag).toBe(lateNamed.tag);
    const sealed = sealMatchEntry({ ...mine, ...again, recipients: [...(await counselorKeys(t)), early.keys.box.publicKey] });
    const replaced = await request(rotated)
      .post(`/api/survivor/matching/entries/${old.id}/replace`)
      .set('Authorization', `Bearer ${early.token}`)
      .send({ ...again, sealed });
    expect(replaced.status).toBe(204);
    const m = (await matches(counselor.agent)).find((x) => x.tag === lateNamed.tag)!;
    expect(m.keyVersion).toBe(2);
    expect(checkMatch(m.tag, m.keyVersion, m.entries, box()).isMatch).toBe(true);

    // Replacing an entry already under the current key is refused.
    expectError(
      await request(rotated)
        .post(`/api/survivor/matching/entries/${old.id}/replace`)
        .set('Authorization', `Bearer ${early.token}`)
        .send({ ...again, sealed }),
      409,
      'not_stale',
    );
  });

  describe('bad input on every route: 4xx naming the problem, nothing written', () => {
    let s: SurvivorActor;
    let caseId: string;
    let own: string;
    let good: { tag: string; keyVersion: number; sealed: ReturnType<typeof sealMatchEntry> };
    beforeAll(async () => {
      s = await registerSurvivor(t);
      caseId = await newCase(t, s, 'bad input');
      const named = await nameIdentifier(t, s, caseId, 'phone', '0333 9998887');
      own = named.res.body.id;
      good = { tag: named.tag, keyVersion: named.keyVersion, sealed: named.sealed };
    });

    test('evaluate', async () => {
      const as = asSurvivor(t, s);
      await unchanged(t, async () => {
        expectError(await request(t.app).post('/api/survivor/matching/evaluate').send({ blinded: [] }), 401);
        expectError(await as.post('/api/survivor/matching/evaluate', {}), 400, 'invalid_request', 'blinded');
        expectError(await as.post('/api/survivor/matching/evaluate', { blinded: [] }), 400, 'invalid_request', 'blinded');
        expectError(
          await as.post('/api/survivor/matching/evaluate', { blinded: Array(6).fill(toBase64url(new Uint8Array(32))) }),
          400,
          'invalid_request',
          'blinded',
        );
        expectError(await as.post('/api/survivor/matching/evaluate', { blinded: [MARKER] }), 400, 'invalid_request', 'blinded');
        expectError(
          await as.post('/api/survivor/matching/evaluate', { blinded: [toBase64url(new Uint8Array(31))] }),
          400,
          'invalid_request',
          'blinded',
        );
        expectError(
          await as.post('/api/survivor/matching/evaluate', { blinded: [toBase64url(new Uint8Array(32).fill(0xff))] }),
          400,
          'invalid_request',
          'blinded[0]',
          'ristretto255',
        );
        expectError(
          await as.post('/api/survivor/matching/evaluate', { blinded: [toBase64url(oprfBlind(new Uint8Array(1)).blinded)], extra: 1 }),
          400,
          'invalid_request',
          'extra',
        );
      });
      // A refused evaluation counted nothing.
      const status = (await as.get('/api/survivor/matching')).body as SurvivorMatching;
      expect(status.evaluationsLeftToday).toBe(t.ctx.config.matchingEvaluationsPerSurvivorPerDay - 1);
    });

    test('entries', async () => {
      const as = asSurvivor(t, s);
      const stranger = nacl.box.keyPair();
      const counselors = await counselorKeys(t);
      const reseal = (recipients: Uint8Array[]) =>
        sealMatchEntry({ identifier: normalizeIdentifier('phone', '0333 9998887'), caseId, tag: good.tag, keyVersion: 1, recipients });
      await unchanged(t, async () => {
        expectError(await request(t.app).post('/api/survivor/matching/entries').send(good), 401);
        expectError(await as.post('/api/survivor/matching/entries', { ...good, tag: MARKER }), 400, 'invalid_request', 'tag');
        expectError(await as.post('/api/survivor/matching/entries', { ...good, keyVersion: 0 }), 400, 'invalid_request', 'keyVersion');
        expectError(await as.post('/api/survivor/matching/entries', { tag: good.tag, keyVersion: 1 }), 400, 'invalid_request', 'sealed');
        expectError(
          await as.post('/api/survivor/matching/entries', { ...good, sealed: { ...good.sealed, v: 2 } }),
          400,
          'invalid_request',
          'sealed.v',
        );
        expectError(
          await as.post('/api/survivor/matching/entries', { ...good, sealed: { ...good.sealed, keys: [] } }),
          400,
          'invalid_request',
          'sealed.keys',
        );
        expectError(
          await as.post('/api/survivor/matching/entries', { ...good, identifier: '0333 9998887' }),
          400,
          'invalid_request',
          'identifier',
        );
        expectError(await as.post('/api/survivor/matching/entries', { ...good, keyVersion: 7 }), 409, 'stale_key', 'keyVersion');
        const strangers = expectError(
          await as.post('/api/survivor/matching/entries', {
            ...good,
            sealed: reseal([...counselors, s.keys.box.publicKey, stranger.publicKey]),
          }),
          400,
          'bad_recipients',
          /^sealed\.keys\[\d+\] is neither a matching counselor nor you$/,
        );
        // Named by its place: the message does not repeat what was sent.
        expect(strangers.message).not.toContain(keyId(stranger.publicKey));
        expectError(
          await as.post('/api/survivor/matching/entries', { ...good, sealed: reseal([s.keys.box.publicKey]) }),
          400,
          'bad_recipients',
          'every matching counselor',
        );
        const dup = good.sealed.keys[0];
        expectError(
          await as.post('/api/survivor/matching/entries', { ...good, sealed: { ...good.sealed, keys: [dup, dup] } }),
          400,
          'bad_recipients',
          'twice',
        );
      });
    });

    test('replace and withdraw', async () => {
      const as = asSurvivor(t, s);
      const other = await registerSurvivor(t);
      await unchanged(t, async () => {
        expectError(await as.post(`/api/survivor/matching/entries/${MARKER}/withdraw`), 400, 'invalid_request', 'entryId');
        expectError(await as.post(`/api/survivor/matching/entries/${randomId()}/withdraw`), 404, 'not_found');
        expectError(await asSurvivor(t, other).post(`/api/survivor/matching/entries/${own}/withdraw`), 404, 'not_found');
        expectError(await as.post(`/api/survivor/matching/entries/${own}/withdraw`, { now: true }), 400, 'invalid_request', 'now');
        expectError(await request(t.app).post(`/api/survivor/matching/entries/${own}/withdraw`).send({}), 401);
        expectError(await as.post(`/api/survivor/matching/entries/${own}/replace`, { ...good, tag: 'x' }), 400, 'invalid_request', 'tag');
        expectError(await as.post(`/api/survivor/matching/entries/${own}/replace`, good), 409, 'not_stale');
        expectError(await asSurvivor(t, other).post(`/api/survivor/matching/entries/${own}/replace`, good), 404, 'not_found');
        // Someone else's entry answers 404 whatever the body says (looked up before the body is read).
        expectError(await asSurvivor(t, other).post(`/api/survivor/matching/entries/${own}/replace`, { typo: 1 }), 404, 'not_found');
        expectError(await asSurvivor(t, other).post(`/api/survivor/matching/entries/${own}/withdraw`, { typo: 1 }), 404, 'not_found');
        expectError(await as.get('/api/survivor/matching/nothing'), 404);
      });
    });
  });
});

describe('a matching counselor who joins later (entries sealed before are sealed again by their survivors)', () => {
  let t: TestServer;
  let admin: StaffActor;
  let first: StaffActor;
  const survivors: SurvivorActor[] = [];
  const named: { id: string; caseId: string; tag: string; keyVersion: number }[] = [];

  beforeAll(async () => {
    t = await makeTestServer();
    admin = await setupAdmin(t, ['admin', 'moderator']);
    first = await addStaff(t, admin, 'counsel.first', ['moderator', 'matching_counselor']);
    for (const written of ['0300-2223334', '+923002223334']) {
      const s = await registerSurvivor(t);
      survivors.push(s);
      const caseId = await newCase(t, s, `testimony naming ${written}`);
      const { res, tag, keyVersion } = await nameIdentifier(t, s, caseId, 'phone', written);
      expect(res.status).toBe(201);
      named.push({ id: res.body.id, caseId, tag, keyVersion });
    }
  });
  afterAll(() => t.close());

  const status = async (s: SurvivorActor): Promise<SurvivorMatching> => (await asSurvivor(t, s).get('/api/survivor/matching')).body;

  test('the new counselor cannot open the earlier entries: neither confirmed nor refused, but not sealed to them yet', async () => {
    expect((await status(survivors[0])).entries.map((e) => e.reseal)).toEqual([false]);
    const second = await addStaff(t, admin, 'counsel.second', ['moderator', 'matching_counselor']);
    // The survivors' page learns that the counselors changed.
    for (const s of survivors) expect((await status(s)).entries.map((e) => e.reseal)).toEqual([true]);

    const [m] = await matches(second.agent);
    const check = checkMatch(m.tag, m.keyVersion, m.entries, second.box);
    expect(check).toEqual({ confirmed: [], refused: [], notForMe: [0, 1], undecided: [], isMatch: false, survivors: 0, forged: false });
    // The first counselor still confirms it.
    expect(checkMatch(m.tag, m.keyVersion, m.entries, first.box).isMatch).toBe(true);

    // One survivor visits and her browser seals her entry again: the other is still not sealed to the newcomer.
    const resealed = async (i: number, recipients: Uint8Array[]) => {
      const s = survivors[i];
      const [entry] = (await status(s)).entries;
      const mine = openMatchEntry(entry.sealed, s.keys.box, entry);
      const sealed = sealMatchEntry({
        identifier: mine.identifier,
        caseId: mine.caseId,
        tag: entry.tag,
        keyVersion: entry.keyVersion,
        recipients,
      });
      return asSurvivor(t, s).post(`/api/survivor/matching/entries/${entry.id}/replace`, {
        tag: entry.tag,
        keyVersion: entry.keyVersion,
        sealed,
      });
    };
    // Sealed again without the newcomer: refused, nothing written.
    await unchanged(t, async () => {
      expectError(await resealed(0, [first.box.publicKey, survivors[0].keys.box.publicKey]), 400, 'bad_recipients', 'missing');
    });
    const everyone = async (i: number) => [...(await counselorKeys(t)), survivors[i].keys.box.publicKey];
    expect((await resealed(0, await everyone(0))).status).toBe(204);
    expect((await status(survivors[0])).entries.map((e) => e.reseal)).toEqual([false]);
    const half = checkMatch(m.tag, m.keyVersion, (await matches(second.agent))[0].entries, second.box);
    expect({ notForMe: half.notForMe.length, undecided: half.undecided.length, refused: half.refused, isMatch: half.isMatch }).toEqual({
      notForMe: 1,
      undecided: 1,
      refused: [],
      isMatch: false,
    });
    // Nothing left to seal again: the same request is refused now.
    await unchanged(t, async () => {
      expectError(await resealed(0, await everyone(0)), 409, 'not_stale', 'current matching counselors');
    });

    // The other survivor visits: the newcomer confirms the match and both cases.
    expect((await resealed(1, await everyone(1))).status).toBe(204);
    const [after] = await matches(second.agent);
    expect(after.tag).toBe(named[0].tag);
    const confirmed = checkMatch(after.tag, after.keyVersion, after.entries, second.box);
    expect(confirmed.isMatch).toBe(true);
    expect(confirmed.confirmed.map((c) => c.body.caseId).sort()).toEqual(named.map((n) => n.caseId).sort());
  });

  test('a re-sealed entry must keep its tag: another tag under the current key is refused', async () => {
    const s = survivors[0];
    const third = await addStaff(t, admin, 'counsel.third', ['moderator', 'matching_counselor']);
    expect(third.username).toBe('counsel.third');
    const [entry] = (await status(s)).entries;
    expect(entry.reseal).toBe(true);
    const other = await deriveTag(t.app, s, normalizeIdentifier('phone', '0333-9998887'));
    const sealed = sealMatchEntry({
      identifier: normalizeIdentifier('phone', '0333-9998887'),
      caseId: named[0].caseId,
      ...other,
      recipients: [...(await counselorKeys(t)), s.keys.box.publicKey],
    });
    await unchanged(t, async () => {
      expectError(
        await asSurvivor(t, s).post(`/api/survivor/matching/entries/${entry.id}/replace`, { ...other, sealed }),
        409,
        'not_stale',
      );
    });
  });
});

describe('matching limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await makeTestServer({ MATCHING_EVALUATIONS_PER_SURVIVOR_PER_DAY: '3', MATCHING_EVALUATIONS_PER_DAY: '5' });
    await setupAdmin(t, ['admin', 'moderator']);
  });
  afterAll(() => t.close());

  const evaluate = (s: SurvivorActor, n: number) =>
    asSurvivor(t, s).post('/api/survivor/matching/evaluate', {
      blinded: Array.from({ length: n }, () => toBase64url(oprfBlind(nacl.randomBytes(8)).blinded)),
    });

  test('per survivor per day, and overall per day; a refused request counts nothing; the next day starts afresh', async () => {
    const f = await registerSurvivor(t);
    const g = await registerSurvivor(t);
    expect((await evaluate(f, 2)).status).toBe(200);
    expectError(await evaluate(f, 2), 429, 'matching_limit', '3');
    expect((await evaluate(f, 1)).status).toBe(200); // the refused two were not counted
    expectError(await evaluate(f, 1), 429, 'matching_limit');
    expect((await evaluate(g, 2)).status).toBe(200); // 5 in all
    expectError(await evaluate(g, 1), 429, 'matching_busy');
    expect(((await asSurvivor(t, f).get('/api/survivor/matching')).body as SurvivorMatching).evaluationsLeftToday).toBe(0);

    // The counters hold no survivor id: a daily-salted hash, and 'all'.
    const counters = await t.db('matching_evaluations').select();
    expect(JSON.stringify(counters)).not.toContain(f.handle);
    expect(counters.map((c: { counter: string }) => c.counter).sort()).toHaveLength(3);

    // The next day (a survivor token lasts minutes: a new survivor asks), the overall count starts afresh too.
    t.clock.advance(24 * 3600 * 1000);
    // The sweeper erases yesterday's counts.
    expect((await sweepExpired(t.ctx)).matchingCounts).toBe(3);
    expect(await t.db('matching_evaluations').select()).toEqual([]);
    expect((await evaluate(await registerSurvivor(t), 3)).status).toBe(200);
    expect((await t.db('matching_evaluations').select()).every((c: { day: string }) => c.day === t.ctx.clock.today())).toBe(true);
  });

  test('without any matching counselor, no entry is kept', async () => {
    const s = await registerSurvivor(t);
    const { tag } = { tag: matchTag(new Uint8Array(64)) };
    const sealed = sealMatchEntry({
      identifier: normalizeIdentifier('phone', '0300 1231231'),
      caseId: randomId(),
      tag,
      keyVersion: 1,
      recipients: [s.keys.box.publicKey],
    });
    expect(((await asSurvivor(t, s).get('/api/survivor/matching')).body as SurvivorMatching).counselors).toBe(false);
    await unchanged(t, async () => {
      expectError(await asSurvivor(t, s).post('/api/survivor/matching/entries', { tag, keyVersion: 1, sealed }), 409, 'no_counselors');
    });
  });
});

describe('a new match alerts the matching counselors (issue 16, with the alerts of issue 15)', () => {
  let smtp: TestSmtpServer;
  let t: TestServer;
  let counselor: StaffActor;
  let moderator: StaffActor;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await makeTestServer(smtp.env({ PUBLIC_URL: 'https://helpline.example.org', COOKIE_SECURE: 'false' }));
    const admin = await setupAdmin(t, ['admin', 'moderator']);
    counselor = await addStaff(t, admin, 'counsel.alert', ['moderator', 'matching_counselor']);
    moderator = await addStaff(t, admin, 'mod.alert');
    for (const [who, email] of [
      [counselor, 'counselor@helpline.example.org'],
      [moderator, 'moderator@helpline.example.org'],
    ] as const)
      expect((await who.agent.post('/api/staff/me/alerts').send({ email, newCase: 'immediate', answer: 'off' })).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const matchRows = async () => t.db('alert_queue').where({ kind: 'match' }).select('staff_id');

  test('a second survivor naming the same number queues one match alert, for the counselor only, and the mail names nothing', async () => {
    const [a, b] = [await registerSurvivor(t), await registerSurvivor(t)];
    const [caseA, caseB] = [await newCase(t, a, 'alert match one'), await newCase(t, b, 'alert match two')];
    await t.db('alert_queue').delete(); // the new-case alerts of those two testimonies
    expect((await nameIdentifier(t, a, caseA, 'phone', '0333-5550123')).res.status).toBe(201);
    expect(await matchRows()).toEqual([]); // one survivor alone matches nothing
    const named = await nameIdentifier(t, b, caseB, 'phone', '+92 333 5550123');
    expect(named.res.status).toBe(201);
    expect(await matchRows()).toEqual([{ staff_id: counselor.staffId }]);

    const sender = smtpSender(t.ctx.config.smtp!);
    try {
      expect(await deliverAlerts(t.ctx, sender.send)).toEqual({ sent: 1, failed: 0 });
    } finally {
      sender.close();
    }
    const mail = smtp.inbox.at(-1)!;
    expect(mail.to).toEqual(['counselor@helpline.example.org']);
    expect(mail.text).toContain('a match is waiting in the workspace');
    for (const secret of [a.handle, b.handle, caseA, caseB, named.tag, '3335550123', '0333-5550123'])
      expect({ secret, inMail: mail.raw.includes(secret) }).toEqual({ secret, inMail: false });
  });

  /**
   * The timing side channel: a request whose database work differs when it makes a match would
   * tell a survivor, by its response time, whether someone else already named the same
   * identifier. A count and sequence of statements, not a time: the same for a matched and an
   * unmatched addition, and for a matched and an unmatched re-derivation after a key rotation.
   */
  test('adding or re-deriving an entry runs the same statements whether or not it makes a match', async () => {
    const [a, b, c, d] = [await registerSurvivor(t), await registerSurvivor(t), await registerSurvivor(t), await registerSurvivor(t)];
    const cases = [await newCase(t, a, 'side one'), await newCase(t, b, 'side two'), await newCase(t, c, 'side three')];
    const [person, nobody] = [normalizeIdentifier('phone', '0301-4440001'), normalizeIdentifier('phone', '0301-4440002')];
    /** The statements one add or replace request runs, its body prepared beforehand; and whether it queued a match alert. */
    const measured = async (app: App, s: SurvivorActor, path: string, body: object, status: number) => {
      await t.db('alert_queue').delete();
      const { sqls } = await statementsOf(t.db, async () => {
        const res = await request(app).post(path).set('Authorization', `Bearer ${s.token}`).send(body);
        expect(res.status).toBe(status);
      });
      // knex numbers its savepoints (SAVEPOINT trx182): a counter of this process, not data
      return { sqls: sqls.map((sql) => sql.replace(/\btrx\d+\b/g, 'trx')), alerted: (await matchRows()).length > 0 };
    };
    const add = async (s: SurvivorActor, caseId: string, identifier: Identifier, app: App = t.app) =>
      measured(app, s, '/api/survivor/matching/entries', await entryBody(t, app, s, caseId, identifier), 201);

    await add(a, cases[0], person); // the first to name the person (and the server's caches warm)
    const unmatched = await add(c, cases[2], nobody);
    const matched = await add(b, cases[1], person);
    expect([unmatched.alerted, matched.alerted]).toEqual([false, true]);
    expect(matched.sqls.some((sql) => /alert_queue/.test(sql))).toBe(true);
    expect(matched.sqls).toEqual(unmatched.sqls);

    // After a key rotation (a second app on the same database, as after a restart): a survivor
    // names the person under the new key; then two survivors' browsers derive their entries
    // again, one naming the person (now a match under the new key), one nobody.
    const { app: rotated } = await createApp({
      db: t.db,
      config: t.ctx.config,
      clientDir: CLIENT_DIR,
      log: () => undefined,
      clock: clockFrom(() => t.clock.now()),
      matchingKey: { version: 2, seed: nacl.randomBytes(32) },
    });
    expect((await add(d, await newCase(t, d, 'side four'), person, rotated)).alerted).toBe(false);
    const replace = async (s: SurvivorActor, caseId: string, identifier: Identifier) => {
      const [entry] = (await asSurvivor(t, s).get('/api/survivor/matching')).body.entries as SurvivorMatching['entries'];
      expect(entry.keyVersion).toBe(1);
      return measured(
        rotated,
        s,
        `/api/survivor/matching/entries/${entry.id}/replace`,
        await entryBody(t, rotated, s, caseId, identifier),
        204,
      );
    };
    await replace(b, cases[1], person); // the caches of the rotated app warm
    const unmatchedAgain = await replace(c, cases[2], nobody);
    const matchedAgain = await replace(a, cases[0], person);
    expect([unmatchedAgain.alerted, matchedAgain.alerted]).toEqual([false, true]);
    expect(matchedAgain.sqls).toEqual(unmatchedAgain.sqls);
  });

  test('two survivors naming the same number at the same moment still queue the match alert', async () => {
    const [a, b] = [await registerSurvivor(t), await registerSurvivor(t)];
    const [caseA, caseB] = [await newCase(t, a, 'same moment one'), await newCase(t, b, 'same moment two')];
    const person = normalizeIdentifier('phone', '0345-7770001');
    const [bodyA, bodyB] = [await entryBody(t, t.app, a, caseA, person), await entryBody(t, t.app, b, caseB, person)];
    await t.db('alert_queue').delete();
    // Her entry written and its alert statement run (finding no one), not yet committed: the
    // second survivor adds hers now. On PostgreSQL each would miss the other's uncommitted row;
    // the second must wait for the first. On SQLite the one connection serializes them.
    let second: Promise<request.Response> | undefined;
    const spy = interleave(t.ctx.repos.alerts, 'enqueueIf', async () => {
      second = request(t.app)
        .post('/api/survivor/matching/entries')
        .set('Authorization', `Bearer ${b.token}`)
        .send(bodyB)
        .then((r) => r);
      if (isPostgres(t.db)) await someoneWaitsOnALock(t.db);
    });
    const first = await request(t.app).post('/api/survivor/matching/entries').set('Authorization', `Bearer ${a.token}`).send(bodyA);
    expect(first.status).toBe(201);
    expect((await second!).status).toBe(201);
    spy.mockRestore();
    expect(await matchRows()).toEqual([{ staff_id: counselor.staffId }]);
  });

  test('an alert that cannot be queued is rolled back alone: her entry is kept, and the failure logged', async () => {
    const [a, b] = [await registerSurvivor(t), await registerSurvivor(t)];
    const [caseA, caseB] = [await newCase(t, a, 'broken queue one'), await newCase(t, b, 'broken queue two')];
    expect((await nameIdentifier(t, a, caseA, 'email', 'queue.breaker@example.com')).res.status).toBe(201);
    // The queue is out of reach: the alert's statement fails (on PostgreSQL, a failed statement
    // would otherwise abort the whole transaction).
    await t.db.schema.renameTable('alert_queue', 'alert_queue_away');
    let named: Awaited<ReturnType<typeof nameIdentifier>>;
    try {
      named = await nameIdentifier(t, b, caseB, 'email', 'Queue.Breaker@example.com');
    } finally {
      await t.db.schema.renameTable('alert_queue_away', 'alert_queue');
    }
    expect(named.res.status).toBe(201);
    expect(await t.db('matching_entries').where({ id: named.res.body.id }).first()).toBeDefined();
    expect((await matches(counselor.agent)).map((m) => m.tag)).toContain(named.tag);
    expect(t.logs).toContain('alerts: an alert could not be queued (what the survivor sent is saved)');
  });

  test('one survivor naming the same person twice alerts nobody', async () => {
    const s = await registerSurvivor(t);
    const [one, two] = [await newCase(t, s, 'repeat one'), await newCase(t, s, 'repeat two')];
    await t.db('alert_queue').delete();
    expect((await nameIdentifier(t, s, one, 'email', 'Same.Person@Example.com')).res.status).toBe(201);
    expect((await nameIdentifier(t, s, two, 'email', 'same.person@example.com')).res.status).toBe(201);
    expect(await matchRows()).toEqual([]);
  });
});
