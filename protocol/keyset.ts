/**
 * The keyset: the staff public keys and roles, versioned, chained to the previous keyset by
 * hash, and signed by the instance signing key (held by the admin, wrapped like any staff key).
 * The survivor's browser verifies it before encrypting, pins the instance fingerprint on first
 * use and refuses a changed fingerprint or a lower version: a database write alone cannot add
 * a reader.
 */
import nacl from 'tweetnacl';
import { canonicalJson, fromBase64url, ProtocolError, sha512, toBase64url, utf8 } from './encoding';
import type { CryptoProvider } from './crypto-provider';
import { runAsync, verifyStep, type Steps } from './crypto-steps';

/** matching_counselor: told when two survivors name the same person, and opens those entries (protocol/matching.ts) */
export const STAFF_ROLES = ['admin', 'moderator', 'advocate', 'matching_counselor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export interface KeysetMember {
  staffId: string;
  username: string;
  roles: StaffRole[];
  boxPk: string;
  signPk: string;
}

export interface Keyset {
  v: 1;
  instanceId: string;
  version: number;
  /** keysetHash of the previous version, null for version 1 */
  prev: string | null;
  issuedDay: string;
  members: KeysetMember[];
}

export interface SignedKeyset {
  keyset: Keyset;
  /** instance Ed25519 public key, base64url */
  instancePk: string;
  sig: string;
}

const KEYSET_DOMAIN = 'awaaz/v1/keyset\n';

/** What the instance key signs (protocol/keyset-signing.ts). */
export function keysetMessage(keyset: Keyset): Uint8Array {
  return utf8(KEYSET_DOMAIN + canonicalJson(keyset));
}

export function keysetHash(keyset: Keyset): string {
  return toBase64url(sha512(utf8(canonicalJson(keyset))));
}

/** Human-comparable fingerprint of the instance key: 40 hex digits in groups of four. */
export function fingerprint(instancePk: Uint8Array | string): string {
  const pk = typeof instancePk === 'string' ? fromBase64url(instancePk) : instancePk;
  const hex = Array.from(sha512(pk).slice(0, 20), (b) => b.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
  return hex.match(/.{4}/g)!.join(' ');
}

function checkShape(keyset: Keyset): void {
  if (keyset.v !== 1) throw new ProtocolError('unsupported_version', `keyset version ${String(keyset.v)} is not supported`);
  if (!Number.isSafeInteger(keyset.version) || keyset.version < 1)
    throw new ProtocolError('bad_keyset', 'keyset version must be a positive integer');
  if ((keyset.version === 1) !== (keyset.prev === null)) throw new ProtocolError('bad_keyset', 'only the first keyset has no predecessor');
  const ids = new Set<string>();
  const boxKeys = new Set<string>();
  for (const m of keyset.members) {
    if (ids.has(m.staffId) || boxKeys.has(m.boxPk)) throw new ProtocolError('bad_keyset', 'a keyset member is listed twice');
    ids.add(m.staffId);
    boxKeys.add(m.boxPk);
    if (fromBase64url(m.boxPk).length !== 32 || fromBase64url(m.signPk).length !== 32)
      throw new ProtocolError('bad_keyset', 'a member key has the wrong length');
    if (m.roles.length === 0 || m.roles.some((r) => !STAFF_ROLES.includes(r)))
      throw new ProtocolError('bad_keyset', 'a member has no role or an unknown one');
  }
}

export interface KeysetExpectations {
  instanceId: string;
  /** the fingerprint pinned on first use; undefined the first time */
  pinnedFingerprint?: string;
  /** the highest version seen before; a lower one is a rollback */
  minVersion?: number;
  /** the instanceId pinned with the fingerprint: a server that now names another is refused (verifyKeysetHistory) */
  pinnedInstanceId?: string;
  /** with minVersion: keysetHash of the keyset seen at that version; the chain must hold exactly that one there, not another of that number (verifyKeysetHistory) */
  pinnedHash?: string;
}

export interface VerifiedKeyset {
  keyset: Keyset;
  fingerprint: string;
}

export function* verifyKeysetSteps(signed: SignedKeyset, expect: KeysetExpectations): Steps<VerifiedKeyset> {
  const pk = fromBase64url(signed.instancePk);
  const sig = fromBase64url(signed.sig);
  if (pk.length !== nacl.sign.publicKeyLength || sig.length !== nacl.sign.signatureLength)
    throw new ProtocolError('bad_signature', 'keyset signature or instance key has the wrong length');
  const fp = fingerprint(pk);
  if (expect.pinnedFingerprint !== undefined && expect.pinnedFingerprint !== fp) {
    throw new ProtocolError('fingerprint_changed', `the instance fingerprint changed from ${expect.pinnedFingerprint} to ${fp}`);
  }
  if (!(yield* verifyStep(keysetMessage(signed.keyset), sig, pk))) {
    throw new ProtocolError('bad_signature', 'the keyset signature does not verify: the list of readers was altered');
  }
  checkShape(signed.keyset);
  if (signed.keyset.instanceId !== expect.instanceId) throw new ProtocolError('wrong_instance', 'the keyset belongs to another instance');
  checkNotOlder(signed.keyset, expect.minVersion);
  return { keyset: signed.keyset, fingerprint: fp };
}

function checkNotOlder(keyset: Keyset, minVersion = 0): void {
  if (keyset.version < minVersion)
    throw new ProtocolError('keyset_rollback', `the keyset went back from version ${minVersion} to ${keyset.version}`);
}

/** A new keyset must extend the current one: same instance key, next version, prev = hash(current). */
export function* successorSteps(current: SignedKeyset, next: SignedKeyset): Steps<VerifiedKeyset> {
  const verified = yield* verifyKeysetSteps(next, {
    instanceId: current.keyset.instanceId,
    pinnedFingerprint: fingerprint(current.instancePk),
  });
  if (next.keyset.version !== current.keyset.version + 1)
    throw new ProtocolError('bad_keyset', `the next keyset must be version ${current.keyset.version + 1}`);
  if (next.keyset.prev !== keysetHash(current.keyset))
    throw new ProtocolError('bad_keyset', 'the next keyset does not chain to the current one');
  return verified;
}

/** Box public keys of the members who read cases (moderators). */
export function readersOf(keyset: Keyset, role: StaffRole = 'moderator'): Uint8Array[] {
  return keyset.members.filter((m) => m.roles.includes(role)).map((m) => fromBase64url(m.boxPk));
}

export interface VerifiedHistory {
  /** the newest keyset: whom to encrypt to now */
  current: VerifiedKeyset;
  /** everyone who was ever a member, by sign key: whose past signatures a reader accepts */
  signers: Map<string, { username: string; current: boolean }>;
}

/**
 * Every keyset from version 1 to the newest, each signed by the same instance key and naming
 * the hash of the one before. Readers accept messages and grants signed by anyone who was a
 * member at some version (a removed moderator's old replies stay readable), and encrypt only
 * to the newest. The pin and rollback checks apply to the newest, and the pinned hash to the
 * keyset at the pinned version: another keyset under that number (a fork) is refused.
 */
export function* historySteps(history: SignedKeyset[], expect: KeysetExpectations): Steps<VerifiedHistory> {
  if (expect.pinnedInstanceId !== undefined && expect.pinnedInstanceId !== expect.instanceId) {
    throw new ProtocolError('wrong_instance', `the instance id changed from ${expect.pinnedInstanceId} to ${expect.instanceId}`);
  }
  if (history.length === 0) throw new ProtocolError('bad_keyset', 'the keyset history is empty');
  const sorted = [...history].sort((a, b) => a.keyset.version - b.keyset.version);
  if (sorted[0].keyset.version !== 1) throw new ProtocolError('bad_keyset', 'the keyset history does not start at version 1');
  // Each signature is checked once: the first keyset's against the pin, each later one's as its predecessor's successor.
  let current = yield* verifyKeysetSteps(sorted[0], { ...expect, minVersion: 0 });
  for (let i = 1; i < sorted.length; i++) current = yield* successorSteps(sorted[i - 1], sorted[i]);
  checkNotOlder(current.keyset, expect.minVersion);
  // The chain is whole from version 1 and reaches minVersion (checked above): version v sits at v - 1.
  if (expect.pinnedHash && keysetHash(sorted[expect.minVersion! - 1].keyset) !== expect.pinnedHash)
    throw new ProtocolError('keyset_forked', `keyset ${expect.minVersion} changed`);
  const signers = new Map<string, { username: string; current: boolean }>();
  for (const signed of sorted) for (const m of signed.keyset.members) signers.set(m.signPk, { username: m.username, current: false });
  for (const m of current.keyset.members) signers.set(m.signPk, { username: m.username, current: true });
  return { current, signers };
}

export const verifyKeysetHistoryAsync = (
  history: SignedKeyset[],
  expect: KeysetExpectations,
  provider?: CryptoProvider,
): Promise<VerifiedHistory> => runAsync(historySteps(history, expect), provider);
