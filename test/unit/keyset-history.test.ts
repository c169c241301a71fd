/** verifyKeysetHistory: the chain readers use to trust past members' signatures. */
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
