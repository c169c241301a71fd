/**
 * Who stands behind a match, checked the way the counselor's browser does it
 * (client/lib/staff-matching.ts), through the real API and database: entries opened
 * (checkMatch), then each matched case read (GET /api/staff/cases/:caseId, moderators only) and
 * its testimony verified against its survivor's key (caseSurvivorKey), and the survivors
 * counted by key (checkSurvivorKeys). A hostile server is played by writing to the database:
 * it lists one survivor's two cases, each with its own genuine entry, under two handles.
 */
import { toBase64url } from '../../protocol';
import type { StaffMatch } from '../../protocol/api';
import { caseSurvivorKey, checkMatch, checkSurvivorKeys, normalizeIdentifier, type SurvivorKeyCheck } from '../../protocol/matching';
import {
  addStaff,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { namePhoneOverApi } from '../support/matching';

describe("a match's survivors, counted by the keys of their cases", () => {
  let t: TestServer;
  let counselor: StaffActor;
  let counselorOnly: StaffActor;
  let x: SurvivorActor;
  let y: SurvivorActor;
  let z: SurvivorActor;
  const casesOf = new Map<SurvivorActor, string[]>();

  async function newCase(s: SurvivorActor): Promise<string> {
    const { res, envelope } = await submitTestimony(t, s, 'what happened');
    expect(res.status).toBe(201);
    casesOf.set(s, [...(casesOf.get(s) ?? []), envelope.caseId]);
    return envelope.caseId;
  }

  const name = (s: SurvivorActor, caseId: string, phone: string) => namePhoneOverApi(t.app, s, caseId, phone);

  /** The match on this number, as the server lists it to the counselor. */
  async function matchOn(who: StaffActor, phone: string): Promise<StaffMatch> {
    const res = await who.agent.get('/api/staff/matches');
    expect(res.status).toBe(200);
    const value = normalizeIdentifier('phone', phone).value;
    const found = (res.body.matches as StaffMatch[]).filter(
      (m) => checkMatch(m.tag, m.keyVersion, m.entries, who.box).confirmed[0]?.body.identifier.value === value,
    );
    expect(found).toHaveLength(1);
    return found[0];
  }

  /** The counselor's browser: opens the entries, reads each matched case and verifies its testimony, counts the keys. */
  async function survivorsOf(who: StaffActor, match: StaffMatch): Promise<SurvivorKeyCheck & { problems: string[] }> {
    const check = checkMatch(match.tag, match.keyVersion, match.entries, who.box);
    const keys = new Map<string, string>();
    const problems: string[] = [];
    for (const { index, body } of check.confirmed) {
      const res = await who.agent.get(`/api/staff/cases/${body.caseId}`);
      if (res.status !== 200) {
        problems.push(`${res.status} ${res.body?.error?.code}`);
        continue;
      }
      try {
        keys.set(body.caseId, await caseSurvivorKey({ caseId: body.caseId, handle: match.entries[index].handle }, res.body));
      } catch (e) {
        problems.push((e as { code?: string }).code ?? String(e));
      }
    }
    return { ...checkSurvivorKeys(check, match.entries, keys), problems };
  }

  beforeAll(async () => {
    t = await makeTestServer();
    const admin = await setupAdmin(t, ['admin', 'moderator']);
    counselor = await addStaff(t, admin, 'counsel.mod', ['moderator', 'matching_counselor']);
    counselorOnly = await addStaff(t, admin, 'counsel.only', ['matching_counselor']);
    [x, y, z] = [await registerSurvivor(t), await registerSurvivor(t), await registerSurvivor(t)];
    // x has two cases (one account, one key); y and z one each.
    for (const s of [x, x, y, z]) await newCase(s);
  });
  afterAll(() => t.close());

  test('two survivors: confirmed by two keys; her two cases under her own handle count once, with no warning', async () => {
    const [a, b] = casesOf.get(x)!;
    await name(x, a, '0300-1111111');
    await name(x, b, '0300-1111111');
    await name(y, casesOf.get(y)![0], '+92 300 1111111');
    const match = await matchOn(counselor, '03001111111');
    expect(checkMatch(match.tag, match.keyVersion, match.entries, counselor.box)).toMatchObject({ isMatch: true, survivors: 2 });
    expect(await survivorsOf(counselor, match)).toEqual({ state: 'confirmed', survivors: 2, unchecked: [], sameKey: [], problems: [] });
  });

  test('a counselor who is not a moderator cannot read the cases: the match stays not confirmed', async () => {
    const match = await matchOn(counselorOnly, '03001111111');
    expect(checkMatch(match.tag, match.keyVersion, match.entries, counselorOnly.box).isMatch).toBe(true);
    const seen = await survivorsOf(counselorOnly, match);
    expect(seen).toMatchObject({ state: 'unchecked', survivors: 0, unchecked: [0, 1, 2] });
    expect(seen.problems).toEqual(['403 forbidden', '403 forbidden', '403 forbidden']);
  });

  test('the server lists her second entry under another handle, but not her case: that case is refused, nothing is confirmed', async () => {
    const [a, b] = casesOf.get(x)!;
    await name(x, a, '0300-2222222');
    const moved = await name(x, b, '0300-2222222');
    // Alone, her two entries make no match; the hostile server lists the second as y's.
    expect((await counselor.agent.get('/api/staff/matches')).body.matches).toHaveLength(1);
    await t
      .db('matching_entries')
      .where({ id: moved })
      .update({ survivor_id: await survivorIdOf(y) });
    const match = await matchOn(counselor, '03002222222');
    expect(checkMatch(match.tag, match.keyVersion, match.entries, counselor.box)).toMatchObject({ isMatch: true, survivors: 2 });
    const seen = await survivorsOf(counselor, match);
    expect(seen).toMatchObject({ state: 'unchecked', survivors: 1, sameKey: [] });
    expect(seen.unchecked).toHaveLength(1);
    expect(seen.problems).toEqual(['wrong_context']);
  });

  test('the server lists her second case and its entry under another handle, with her key: one survivor, named', async () => {
    const [a, b] = casesOf.get(x)!;
    await name(x, a, '0300-3333333');
    const moved = await name(x, b, '0300-3333333');
    // The most a hostile server can do: z's account given x's key, and x's second case and entry given to z.
    await t.db.schema.alterTable('survivors', (table) => table.dropUnique(['sign_pk']));
    await t
      .db('survivors')
      .where({ handle: z.handle })
      .update({ sign_pk: toBase64url(x.keys.sign.publicKey) });
    const zId = await survivorIdOf(z);
    await t.db('cases').where({ id: b }).update({ survivor_id: zId });
    await t.db('matching_entries').where({ id: moved }).update({ survivor_id: zId });

    const match = await matchOn(counselor, '03003333333');
    // The entries alone are fooled: two handles, two cases.
    expect(checkMatch(match.tag, match.keyVersion, match.entries, counselor.box)).toMatchObject({
      isMatch: true,
      survivors: 2,
      forged: false,
    });
    expect(await survivorsOf(counselor, match)).toEqual({
      state: 'one-survivor',
      survivors: 1,
      unchecked: [],
      sameKey: [[x.handle, z.handle].sort()],
      problems: [],
    });
    // The lie costs the genuine match of x and y nothing: x's entry naming the case moved to z
    // is refused (the case is now z's), and x's other case and y's case carry two keys.
    const genuine = await survivorsOf(counselor, await matchOn(counselor, '03001111111'));
    expect(genuine).toMatchObject({ state: 'confirmed', survivors: 2, problems: ['wrong_context'] });
  });

  async function survivorIdOf(s: SurvivorActor): Promise<string> {
    const row = await t.db('survivors').where({ handle: s.handle }).first('id');
    return row.id;
  }
});
