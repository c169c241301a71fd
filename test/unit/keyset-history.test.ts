/** verifyKeysetHistory: the chain readers use to trust past members' signatures. */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import {
  keysetHash,
  randomId,
  signKeyset,
  toBase64url,
  verifyKeysetHistory,
  fingerprint,
  type KeysetMember,
  type SignedKeyset,
} from '../../protocol';
import { protocolErrorOf } from './helpers';

const instance = nacl.sign.keyPair();
const instanceId = randomId();
const member = (username: string): KeysetMember => ({
  staffId: randomId(),
  username,
  roles: ['moderator'],
  boxPk: toBase64url(nacl.box.keyPair().publicKey),
  signPk: toBase64url(nacl.sign.keyPair().publicKey),
});
const a = member('a');
const b = member('b');

function chain(signer = instance): SignedKeyset[] {
  const v1 = signKeyset({ v: 1, instanceId, version: 1, prev: null, issuedDay: '2026-01-01', members: [a] }, signer);
  const v2 = signKeyset({ v: 1, instanceId, version: 2, prev: keysetHash(v1.keyset), issuedDay: '2026-01-02', members: [a, b] }, signer);
  const v3 = signKeyset({ v: 1, instanceId, version: 3, prev: keysetHash(v2.keyset), issuedDay: '2026-01-03', members: [b] }, signer);
  return [v1, v2, v3];
}

const code = (fn: () => unknown): string => protocolErrorOf(fn).code;

test('a removed member stays a trusted past signer; only current members are current', () => {
  const verified = verifyKeysetHistory(chain(), { instanceId, pinnedFingerprint: fingerprint(instance.publicKey), minVersion: 3 });
  expect(verified.current.keyset.version).toBe(3);
  expect(verified.signers.get(a.signPk)).toEqual({ username: 'a', current: false });
  expect(verified.signers.get(b.signPk)).toEqual({ username: 'b', current: true });
});

test('order of the list does not matter, gaps and breaks do', () => {
  const [v1, v2, v3] = chain();
  expect(verifyKeysetHistory([v3, v1, v2], { instanceId }).current.keyset.version).toBe(3);
  expect(code(() => verifyKeysetHistory([v1, v3], { instanceId }))).toBe('bad_keyset');
  expect(code(() => verifyKeysetHistory([v2, v3], { instanceId }))).toBe('bad_keyset');
  expect(code(() => verifyKeysetHistory([], { instanceId }))).toBe('bad_keyset');
});

test('a past version altered, a chain re-signed by another key, or a rollback is refused', () => {
  const [v1, v2, v3] = chain();
  const tampered = { ...v2, keyset: { ...v2.keyset, members: [...v2.keyset.members, member('intruder')] } };
  expect(code(() => verifyKeysetHistory([v1, tampered, v3], { instanceId }))).toBe('bad_signature');
  const forged = chain(nacl.sign.keyPair());
  expect(code(() => verifyKeysetHistory(forged, { instanceId, pinnedFingerprint: fingerprint(instance.publicKey) }))).toBe(
    'fingerprint_changed',
  );
  expect(code(() => verifyKeysetHistory([v1, v2], { instanceId, minVersion: 3 }))).toBe('keyset_rollback');
  // A forged later version spliced onto the real chain is refused by its signature.
  const splice = signKeyset(
    { v: 1, instanceId, version: 4, prev: keysetHash(v3.keyset), issuedDay: '2026-01-04', members: [member('x')] },
    nacl.sign.keyPair(),
  );
  expect(code(() => verifyKeysetHistory([v1, v2, v3, splice], { instanceId }))).toBe('fingerprint_changed');
});

test('a browser that pinned one instance refuses a server that now names another, even with a valid chain', () => {
  const history = chain();
  expect(verifyKeysetHistory(history, { instanceId, pinnedInstanceId: instanceId }).current.keyset.version).toBe(3);
  const e = protocolErrorOf(() => verifyKeysetHistory(history, { instanceId, pinnedInstanceId: randomId() }));
  expect(e.code).toBe('wrong_instance');
  expect(e.message).toContain(instanceId);
});

describe('the pinned keyset hash (a fork under the same version number)', () => {
  /** The real v1 and v2, then a version 3 the same instance key signed but that differs from the one pinned (say, re-signed over a rolled-back v2). */
  function fork(): SignedKeyset[] {
    const [v1, v2] = chain();
    return [
      v1,
      v2,
      signKeyset({ v: 1, instanceId, version: 3, prev: keysetHash(v2.keyset), issuedDay: '2026-01-05', members: [a, b] }, instance),
    ];
  }
  const pinnedAt3 = () => ({ instanceId, minVersion: 3, pinnedHash: keysetHash(chain()[2].keyset) });

  test('the chain holding exactly the pinned keyset at the pinned version passes, also when it has grown since', () => {
    const history = chain();
    expect(verifyKeysetHistory(history, pinnedAt3()).current.keyset.version).toBe(3);
    const v4 = signKeyset(
      { v: 1, instanceId, version: 4, prev: keysetHash(history[2].keyset), issuedDay: '2026-01-06', members: [a] },
      instance,
    );
    expect(verifyKeysetHistory([...history, v4], pinnedAt3()).current.keyset.version).toBe(4);
    // A pin at an older version checks that version, not the newest.
    expect(
      verifyKeysetHistory([...history, v4], { instanceId, minVersion: 2, pinnedHash: keysetHash(history[1].keyset) }).current.keyset
        .version,
    ).toBe(4);
  });

  test('another keyset with the pinned version number is refused, even validly signed and chained', () => {
    const e = protocolErrorOf(() => verifyKeysetHistory(fork(), pinnedAt3()));
    expect(e.code).toBe('keyset_forked');
    expect(e.message).toContain('keyset 3 changed');
    // Also once the fork has grown past the pin.
    const forked = fork();
    const v4 = signKeyset(
      { v: 1, instanceId, version: 4, prev: keysetHash(forked[2].keyset), issuedDay: '2026-01-06', members: [a] },
      instance,
    );
    expect(code(() => verifyKeysetHistory([...forked, v4], pinnedAt3()))).toBe('keyset_forked');
    // Without a hash (a pin written before hashes), the version alone is checked, as before.
    expect(verifyKeysetHistory(fork(), { instanceId, minVersion: 3 }).current.keyset.version).toBe(3);
  });

  test("the real hash at each version passes; another version's hash, or any other value (property), is refused", () => {
    const history = chain();
    for (const pinned of history) {
      const version = pinned.keyset.version;
      expect(
        verifyKeysetHistory(history, { instanceId, minVersion: version, pinnedHash: keysetHash(pinned.keyset) }).current.keyset.version,
      ).toBe(3);
      for (const h of history.filter((s) => s !== pinned))
        expect(code(() => verifyKeysetHistory(history, { instanceId, minVersion: version, pinnedHash: keysetHash(h.keyset) }))).toBe(
          'keyset_forked',
        );
    }
    // Signature checks are slow under tweetnacl: few runs, each a whole chain.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), (version, bytes) => {
        expect(code(() => verifyKeysetHistory(history, { instanceId, minVersion: version, pinnedHash: toBase64url(bytes) }))).toBe(
          'keyset_forked',
        );
      }),
      { numRuns: 8 },
    );
  });
});
