/**
 * Who stands behind a match (protocol/matching.ts `caseSurvivorKey`, `checkSurvivorKeys`):
 * entries carry nothing authenticated about who filed them, so a hostile server could list two
 * cases of one survivor under two handles. The counselor's browser counts the survivors by the
 * keys that signed the matched cases' testimonies, and confirms nothing on the handles' word.
 *
 * The property tests draw MATCHING_PROPERTY_RUNS cases each (100 by default).
 */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { randomId, toBase64url } from '../../protocol';
import { sealEnvelope, type Envelope } from '../../protocol/envelope';
import {
  caseSurvivorKey,
  checkMatch,
  checkSurvivorKeys,
  matchTag,
  normalizeIdentifier,
  sealMatchEntry,
  type MatchCheck,
} from '../../protocol/matching';
import { expectRejectsProtocolError } from './helpers';

const RUNS = { numRuns: Number(process.env.MATCHING_PROPERTY_RUNS) || 100 };

const counselor = nacl.box.keyPair();
const moderator = nacl.box.keyPair();
const tag = matchTag(new Uint8Array(64).fill(7));
const phone = normalizeIdentifier('phone', '0300-1234567');

/** A survivor's signing key, and a testimony she signed for a case. */
const survivor = () => nacl.sign.keyPair();
const testimony = (caseId: string, by: nacl.SignKeyPair): Envelope =>
  sealEnvelope({
    kind: 'testimony',
    caseId,
    body: { testimony: { text: 'what happened' } },
    recipients: [moderator.publicKey],
    signer: by,
  });
const detailOf = (caseId: string, by: nacl.SignKeyPair, thread = [testimony(caseId, by)]) => ({
  caseId,
  handle: 'alpha',
  survivorSignPk: toBase64url(by.publicKey),
  thread: thread.map((envelope) => ({ envelope })),
});

const entryFor = (caseId: string) => sealMatchEntry({ identifier: phone, caseId, tag, keyVersion: 1, recipients: [counselor.publicKey] });

describe("a case's survivor key, as its testimony proves it", () => {
  const her = survivor();
  const caseId = randomId();

  test('the key that signed the testimony of the case asked for', async () => {
    await expect(caseSurvivorKey({ caseId, handle: 'alpha' }, detailOf(caseId, her))).resolves.toBe(toBase64url(her.publicKey));
  });

  test('another key than the one that signed it, another case or handle, or a thread without its testimony is refused', async () => {
    const other = survivor();
    // The server gives the case another survivor's key: the testimony does not verify against it.
    await expectRejectsProtocolError(
      caseSurvivorKey({ caseId, handle: 'alpha' }, { ...detailOf(caseId, her), survivorSignPk: toBase64url(other.publicKey) }),
      'untrusted_signer',
    );
    // The server answers with another case, or one whose testimony names another case.
    const elsewhere = randomId();
    await expectRejectsProtocolError(caseSurvivorKey({ caseId, handle: 'alpha' }, detailOf(elsewhere, her)), 'wrong_context');
    await expectRejectsProtocolError(
      caseSurvivorKey({ caseId, handle: 'alpha' }, { ...detailOf(elsewhere, her), caseId }),
      'wrong_context',
    );
    // The server lists the entry under one handle, and gives the case as another's.
    await expectRejectsProtocolError(caseSurvivorKey({ caseId, handle: 'bravo' }, detailOf(caseId, her)), 'wrong_context');
    // No testimony first: an empty thread, or a message in its place.
    await expectRejectsProtocolError(caseSurvivorKey({ caseId, handle: 'alpha' }, detailOf(caseId, her, [])), 'bad_thread');
    const message = sealEnvelope({ kind: 'message', caseId, body: { text: 'hi' }, recipients: [moderator.publicKey], signer: her });
    await expectRejectsProtocolError(caseSurvivorKey({ caseId, handle: 'alpha' }, detailOf(caseId, her, [message])), 'bad_thread');
    // A forged signature, and a malformed key.
    const genuine = testimony(caseId, her);
    const forged = { ...genuine, sig: toBase64url(nacl.sign.detached(new Uint8Array(8), other.secretKey)) };
    await expectRejectsProtocolError(caseSurvivorKey({ caseId, handle: 'alpha' }, detailOf(caseId, her, [forged])), 'bad_signature');
    await expectRejectsProtocolError(
      caseSurvivorKey({ caseId, handle: 'alpha' }, { ...detailOf(caseId, her), survivorSignPk: 'short' }),
      'bad_key',
    );
  });
});

describe('survivors of a match are counted by the keys of their cases', () => {
  const [caseA, caseB, caseC] = [randomId(), randomId(), randomId()];
  const [one, two] = [survivor(), survivor()];
  const pk = (k: nacl.SignKeyPair) => toBase64url(k.publicKey);
  const entries = [
    { handle: 'alpha', sealed: entryFor(caseA) },
    { handle: 'bravo', sealed: entryFor(caseB) },
  ];
  const check = checkMatch(tag, 1, entries, counselor);

  test('two cases under two handles: a match by the entries alone, confirmed only by two keys', () => {
    expect(check).toMatchObject({ isMatch: true, survivors: 2, forged: false });
    expect(
      checkSurvivorKeys(
        check,
        entries,
        new Map([
          [caseA, pk(one)],
          [caseB, pk(two)],
        ]),
      ),
    ).toEqual({
      state: 'confirmed',
      survivors: 2,
      unchecked: [],
      sameKey: [],
    });
  });

  test("one survivor's two cases, listed under two handles by a hostile server, count once", () => {
    expect(
      checkSurvivorKeys(
        check,
        entries,
        new Map([
          [caseA, pk(one)],
          [caseB, pk(one)],
        ]),
      ),
    ).toEqual({
      state: 'one-survivor',
      survivors: 1,
      unchecked: [],
      sameKey: [['alpha', 'bravo']],
    });
  });

  test('a case whose key is not known leaves the match unconfirmed, not confirmed', () => {
    expect(checkSurvivorKeys(check, entries, new Map())).toEqual({ state: 'unchecked', survivors: 0, unchecked: [0, 1], sameKey: [] });
    expect(checkSurvivorKeys(check, entries, new Map([[caseB, pk(two)]]))).toEqual({
      state: 'unchecked',
      survivors: 1,
      unchecked: [0],
      sameKey: [],
    });
  });

  test('a third survivor keeps the match when two handles turn out to be one survivor', () => {
    const three = [...entries, { handle: 'charlie', sealed: entryFor(caseC) }];
    const checked = checkMatch(tag, 1, three, counselor);
    const keys = new Map([
      [caseA, pk(one)],
      [caseB, pk(one)],
      [caseC, pk(two)],
    ]);
    expect(checkSurvivorKeys(checked, three, keys)).toEqual({
      state: 'confirmed',
      survivors: 2,
      unchecked: [],
      sameKey: [['alpha', 'bravo']],
    });
  });

  test('one survivor naming her two cases under her own handle is not flagged, and a refused match stays refused', () => {
    const own = [
      { handle: 'alpha', sealed: entryFor(caseA) },
      { handle: 'alpha', sealed: entryFor(caseB) },
      { handle: 'bravo', sealed: entryFor(caseC) },
    ];
    const keys = new Map([
      [caseA, pk(one)],
      [caseB, pk(one)],
      [caseC, pk(two)],
    ]);
    expect(checkSurvivorKeys(checkMatch(tag, 1, own, counselor), own, keys)).toEqual({
      state: 'confirmed',
      survivors: 2,
      unchecked: [],
      sameKey: [],
    });
    const alone = own.slice(0, 2);
    expect(checkSurvivorKeys(checkMatch(tag, 1, alone, counselor), alone, keys).state).toBe('no-match');
  });
});

/**
 * A model of what a hostile server can do: each entry belongs to a case, each case to one
 * survivor (one key), and the server lists each entry under any handle it likes. Some cases'
 * keys are known (read and verified), others not.
 */
const listing = fc
  .array(
    fc.record({
      survivor: fc.nat({ max: 3 }),
      caseOf: fc.nat({ max: 2 }),
      handle: fc.constantFrom('h0', 'h1', 'h2', 'h3'),
      known: fc.boolean(),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((drawn) => {
    const rows = drawn.map((r) => ({ ...r, caseId: `case-${r.survivor}-${r.caseOf}`.padEnd(16, '0'), key: `key-of-${r.survivor}` }));
    // A case is read (its key known) or not, whichever entries name it.
    return rows.map((r) => ({ ...r, known: rows.find((first) => first.caseId === r.caseId)!.known }));
  });

/** The check as checkMatch gives it when every entry names the identifier (only `confirmed` and `isMatch` are read). */
const matched = (rows: { caseId: string }[]): MatchCheck => ({
  confirmed: rows.map((r, index) => ({
    index,
    body: { v: 1, kind: 'match-entry', tag, keyVersion: 1, identifier: phone, caseId: r.caseId },
  })),
  refused: [],
  notForMe: [],
  undecided: [],
  isMatch: true,
  survivors: 2,
  forged: false,
});
const knownKeys = (rows: { caseId: string; key: string; known: boolean }[]) =>
  new Map(rows.filter((r) => r.known).map((r) => [r.caseId, r.key] as const));

describe('whatever handles the server lists them under', () => {
  test('a match is confirmed exactly when the checked cases hold two distinct survivors, and counts them', () => {
    fc.assert(
      fc.property(listing, (rows) => {
        const result = checkSurvivorKeys(matched(rows), rows, knownKeys(rows));
        const checkedSurvivors = new Set(rows.filter((r) => r.known).map((r) => r.survivor)).size;
        expect(result.survivors).toBe(checkedSurvivors);
        expect(result.state === 'confirmed').toBe(checkedSurvivors >= 2);
        expect(result.unchecked).toEqual(rows.flatMap((r, i) => (r.known ? [] : [i])));
        if (result.state === 'one-survivor') expect(new Set(rows.map((r) => r.survivor)).size).toBe(1);
      }),
      RUNS,
    );
  });

  test('learning more keys never takes a confirmation back, and the order of the entries does not matter', () => {
    fc.assert(
      fc.property(listing, fc.nat(), (rows, seed) => {
        const before = checkSurvivorKeys(matched(rows), rows, knownKeys(rows));
        const all = rows.map((r) => ({ ...r, known: true }));
        const after = checkSurvivorKeys(matched(all), all, knownKeys(all));
        if (before.state === 'confirmed') expect(after.state).toBe('confirmed');
        expect(after.survivors).toBeGreaterThanOrEqual(before.survivors);
        expect(after.state).not.toBe('unchecked');
        const shift = seed % rows.length;
        const turned = [...rows.slice(shift), ...rows.slice(0, shift)];
        const again = checkSurvivorKeys(matched(turned), turned, knownKeys(turned));
        expect([again.state, again.survivors]).toEqual([before.state, before.survivors]);
      }),
      RUNS,
    );
  });

  test('handles that list different cases of one survivor are named, and only those', () => {
    fc.assert(
      fc.property(listing, (rows) => {
        const { sameKey } = checkSurvivorKeys(matched(rows), rows, knownKeys(rows));
        const expected = [...new Set(rows.filter((r) => r.known).map((r) => r.survivor))]
          .map((s) => rows.filter((r) => r.known && r.survivor === s))
          .filter((own) => new Set(own.map((r) => r.handle)).size > 1 && new Set(own.map((r) => r.caseId)).size > 1)
          .map((own) => [...new Set(own.map((r) => r.handle))].sort());
        expect(sameKey.sort()).toEqual(expected.sort());
      }),
      RUNS,
    );
  });
});
