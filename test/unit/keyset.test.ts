import nacl from 'tweetnacl';
import { canonicalJson, fromBase64url, randomId, toBase64url, utcDay } from '../../protocol/encoding';
import {
  fingerprint,
  keysetHash,
  readersOf,
  type Keyset,
  type KeysetMember,
  type SignedKeyset,
  type StaffRole,
} from '../../protocol/keyset';
import { signKeyset, verifyKeyset, verifyKeysetSuccessor } from '../../protocol/keyset-signing';
import { expectProtocolError, nodeSha512 } from './helpers';

// Ed25519 is slow under jest (see envelope-jobs.ts): the key pairs are made once, deterministically.
const seedOf = (n: number) => new Uint8Array(32).fill(n);
const instance = nacl.sign.keyPair.fromSeed(seedOf(1));
const otherInstance = nacl.sign.keyPair.fromSeed(seedOf(2));
const instanceId = randomId();

function member(username: string, roles: StaffRole[], n: number): KeysetMember {
  return {
    staffId: toBase64url(new Uint8Array(16).fill(n)),
    username,
    roles,
    boxPk: toBase64url(nacl.box.keyPair.fromSecretKey(seedOf(100 + n)).publicKey),
    signPk: toBase64url(nacl.sign.keyPair.fromSeed(seedOf(200 + n)).publicKey),
  };
}

const admin = member('admin', ['admin', 'moderator'], 1);
const moderator = member('mod.one', ['moderator'], 2);
const advocate = member('advocate', ['advocate'], 3);
const newcomer = member('newcomer', ['moderator'], 4);

const v1: Keyset = { v: 1, instanceId, version: 1, prev: null, issuedDay: utcDay(), members: [admin, moderator, advocate] };
const signed1 = signKeyset(v1, instance);
const v2: Keyset = { ...v1, version: 2, prev: keysetHash(v1), members: [admin, moderator, advocate, newcomer] };
const signed2 = signKeyset(v2, instance);

describe('signKeyset / verifyKeyset', () => {
  it('round-trips, returning the keyset and the instance fingerprint', () => {
    const verified = verifyKeyset(signed1, { instanceId });
    expect(verified.keyset).toEqual(v1);
    expect(verified.fingerprint).toBe(fingerprint(instance.publicKey));
    expect(signed1.instancePk).toBe(toBase64url(instance.publicKey));
    // with the fingerprint pinned and the version already seen
    expect(verifyKeyset(signed2, { instanceId, pinnedFingerprint: verified.fingerprint, minVersion: 2 }).keyset.version).toBe(2);
  });

  it('still verifies after a JSON round trip that reorders keys (canonical signing)', () => {
    const reordered = JSON.parse(
      JSON.stringify({ sig: signed1.sig, instancePk: signed1.instancePk, keyset: Object.fromEntries(Object.entries(v1).reverse()) }),
    ) as SignedKeyset;
    expect(JSON.stringify(reordered.keyset)).not.toBe(JSON.stringify(v1));
    expect(() => verifyKeyset(reordered, { instanceId })).not.toThrow();
  });

  it('signs a domain-separated message (a keyset signature is not a signature of its bare JSON)', () => {
    const bare = new TextEncoder().encode(canonicalJson(v1));
    expect(nacl.sign.detached.verify(bare, fromBase64url(signed1.sig), instance.publicKey)).toBe(false);
  });

  it('a member added after signing: bad_signature', () => {
    const tampered: SignedKeyset = { ...signed1, keyset: { ...v1, members: [...v1.members, newcomer] } };
    const e = expectProtocolError(() => verifyKeyset(tampered, { instanceId }), 'bad_signature');
    expect(e.message).toMatch(/readers/);
  });

  it('a role changed after signing (advocate made moderator): bad_signature', () => {
    const promoted = v1.members.map((m) => (m === advocate ? { ...m, roles: ['moderator' as const] } : m));
    expectProtocolError(() => verifyKeyset({ ...signed1, keyset: { ...v1, members: promoted } }, { instanceId }), 'bad_signature');
  });

  it('a member box key swapped after signing: bad_signature', () => {
    const swapped = v1.members.map((m) => (m === moderator ? { ...m, boxPk: newcomer.boxPk } : m));
    expectProtocolError(() => verifyKeyset({ ...signed1, keyset: { ...v1, members: swapped } }, { instanceId }), 'bad_signature');
  });

  it('a signature or instance key of the wrong length: bad_signature', () => {
    expectProtocolError(
      () => verifyKeyset({ ...signed1, sig: toBase64url(fromBase64url(signed1.sig).slice(1)) }, { instanceId }),
      'bad_signature',
    );
    expectProtocolError(() => verifyKeyset({ ...signed1, instancePk: toBase64url(new Uint8Array(31)) }, { instanceId }), 'bad_signature');
  });

  it('another instance key than the pinned fingerprint: fingerprint_changed, naming both', () => {
    const pinned = fingerprint(instance.publicKey);
    const impostor = signKeyset(v1, otherInstance); // validly signed, by the wrong key
    const e = expectProtocolError(() => verifyKeyset(impostor, { instanceId, pinnedFingerprint: pinned }), 'fingerprint_changed');
    expect(e.message).toContain(pinned);
    expect(e.message).toContain(fingerprint(otherInstance.publicKey));
    // trust on first use: without a pin the same keyset verifies
    expect(verifyKeyset(impostor, { instanceId }).fingerprint).toBe(fingerprint(otherInstance.publicKey));
  });

  it('a version lower than the one seen before: keyset_rollback', () => {
    const e = expectProtocolError(() => verifyKeyset(signed1, { instanceId, minVersion: 2 }), 'keyset_rollback');
    expect(e.message).toMatch(/2.*1/);
    expect(() => verifyKeyset(signed1, { instanceId, minVersion: 1 })).not.toThrow();
  });

  it('another instanceId: wrong_instance', () => {
    expectProtocolError(() => verifyKeyset(signed1, { instanceId: randomId() }), 'wrong_instance');
  });

  it('a fractional version can be neither signed nor verified: bad_canonical', () => {
    expectProtocolError(() => signKeyset({ ...v1, version: 1.5 }, instance), 'bad_canonical');
    expectProtocolError(() => verifyKeyset({ ...signed1, keyset: { ...v1, version: 1.5 } }, { instanceId }), 'bad_canonical');
  });

  describe('malformed keysets, even when validly signed', () => {
    it.each<[string, Partial<Keyset>, string]>([
      ['an unknown keyset format', { v: 2 as 1 }, 'unsupported_version'],
      ['version 0', { version: 0 }, 'bad_keyset'],
      ['a negative version', { version: -1 }, 'bad_keyset'],
      ['version 1 with a predecessor', { prev: keysetHash(v1) }, 'bad_keyset'],
      ['version 2 without a predecessor', { version: 2, prev: null }, 'bad_keyset'],
      ['a member listed twice', { members: [admin, moderator, admin] }, 'bad_keyset'],
      ['two members sharing a box key', { members: [admin, { ...moderator, boxPk: admin.boxPk }] }, 'bad_keyset'],
      ['a member without a role', { members: [admin, { ...moderator, roles: [] }] }, 'bad_keyset'],
      ['an unknown role', { members: [admin, { ...moderator, roles: ['owner' as StaffRole] }] }, 'bad_keyset'],
      ['a short box key', { members: [admin, { ...moderator, boxPk: toBase64url(new Uint8Array(31)) }] }, 'bad_keyset'],
      ['a short sign key', { members: [admin, { ...moderator, signPk: toBase64url(new Uint8Array(16)) }] }, 'bad_keyset'],
    ])('%s: %s', (_, change, code) => {
      expectProtocolError(() => verifyKeyset(signKeyset({ ...v1, ...change }, instance), { instanceId }), code);
    });
  });
});

describe('verifyKeysetSuccessor', () => {
  it('accepts v2 that chains to v1 with prev = keysetHash(v1)', () => {
    const verified = verifyKeysetSuccessor(signed1, signed2);
    expect(verified.keyset.members).toContainEqual(newcomer);
    expect(verified.fingerprint).toBe(fingerprint(instance.publicKey));
  });

  it('rejects a skipped version (v3 after v1)', () => {
    const v3: Keyset = { ...v2, version: 3, prev: keysetHash(v2) };
    const e = expectProtocolError(() => verifyKeysetSuccessor(signed1, signKeyset(v3, instance)), 'bad_keyset');
    expect(e.message).toMatch(/version 2/);
  });

  it('rejects the same version again', () => {
    expectProtocolError(() => verifyKeysetSuccessor(signed2, signed2), 'bad_keyset');
  });

  it('rejects a wrong prev', () => {
    const forked: Keyset = { ...v2, prev: keysetHash({ ...v1, members: [admin] }) };
    const e = expectProtocolError(() => verifyKeysetSuccessor(signed1, signKeyset(forked, instance)), 'bad_keyset');
    expect(e.message).toMatch(/chain/);
  });

  it('rejects a successor signed by another instance key', () => {
    expectProtocolError(() => verifyKeysetSuccessor(signed1, signKeyset(v2, otherInstance)), 'fingerprint_changed');
  });

  it('rejects a successor for another instance', () => {
    const elsewhere: Keyset = { ...v2, instanceId: randomId() };
    expectProtocolError(() => verifyKeysetSuccessor(signed1, signKeyset(elsewhere, instance)), 'wrong_instance');
  });

  it('rejects a successor whose members were altered after signing', () => {
    const tampered: SignedKeyset = { ...signed2, keyset: { ...v2, members: [...v2.members, member('mallory', ['moderator'], 9)] } };
    expectProtocolError(() => verifyKeysetSuccessor(signed1, tampered), 'bad_signature');
  });
});

describe('keysetHash', () => {
  it('is SHA-512 of the canonical JSON, in base64url, independent of key order', () => {
    expect(keysetHash(v1)).toBe(toBase64url(nodeSha512(canonicalJson(v1))));
    expect(fromBase64url(keysetHash(v1))).toHaveLength(64);
    expect(keysetHash(Object.fromEntries(Object.entries(v1).reverse()) as unknown as Keyset)).toBe(keysetHash(v1));
    expect(keysetHash(v2)).not.toBe(keysetHash(v1));
  });
});

describe('readersOf', () => {
  it('returns only the moderators’ box keys, in keyset order', () => {
    const readers = readersOf(v2).map(toBase64url);
    expect(readers).toEqual([admin.boxPk, moderator.boxPk, newcomer.boxPk]);
    expect(readers).not.toContain(advocate.boxPk);
    expect(readers).not.toContain(admin.signPk);
  });

  it('can select another role', () => {
    expect(readersOf(v2, 'advocate').map(toBase64url)).toEqual([advocate.boxPk]);
    expect(readersOf(v2, 'admin').map(toBase64url)).toEqual([admin.boxPk]);
    expect(readersOf({ ...v1, members: [advocate] })).toEqual([]);
  });
});

describe('fingerprint', () => {
  it('is 10 groups of 4 upper-case hex digits from SHA-512 of the instance key', () => {
    const fp = fingerprint(instance.publicKey);
    expect(fp).toMatch(/^[0-9A-F]{4}( [0-9A-F]{4}){9}$/);
    expect(fp.replace(/ /g, '')).toBe(Buffer.from(nodeSha512(instance.publicKey).slice(0, 20)).toString('hex').toUpperCase());
  });

  it('accepts bytes or base64url, and differs between keys', () => {
    expect(fingerprint(toBase64url(instance.publicKey))).toBe(fingerprint(instance.publicKey));
    expect(fingerprint(otherInstance.publicKey)).not.toBe(fingerprint(instance.publicKey));
  });
});
