/**
 * The staff side: key generation at enrolment, login with a second factor, unwrapping the
 * private keys, and changing the password (the same private keys re-wrapped in this browser).
 */
import nacl from 'tweetnacl';
import {
  equalBytes,
  fingerprint,
  fromBase64url as fromB64,
  randomId,
  sameKdfParams,
  STAFF_KDF,
  STAFF_SALT_BYTES,
  staffSecrets,
  toBase64url,
  unwrapPrivateKeys,
  wrapPrivateKeys,
  type Argon2Params,
  type StaffPrivateKeys,
} from '../../protocol';
import type { StaffLoginParams, StaffLoginResult, StaffMe } from '../../protocol/api';
import { api, ApiFailure } from './api';
import { browserArgon2, slowKdf } from './kdf';
import { readPin, writePin } from './pin-store';

export interface NewStaffKeys {
  staffId: string;
  box: nacl.BoxKeyPair;
  sign: nacl.SignKeyPair;
  instance?: nacl.SignKeyPair;
  material: {
    username: string;
    kdf: { params: Argon2Params; salt: string };
    authKey: string;
    boxPk: string;
    signPk: string;
    wrappedKeys: string;
  };
}

export const MIN_PASSWORD_LENGTH = 12;

/** What a staff page says while argon2id runs; without WebAssembly (Tor Browser Safer) it runs much longer. */
export function kdfProgress(doing: string): string {
  return slowKdf()
    ? `${doing}… This browser is in a safer mode (no WebAssembly), so this may take a little while, usually under half a minute. Please keep this page open.`
    : `${doing}… this takes a few seconds.`;
}

export function checkPassword(password: string, confirm: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new Error(`Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (password !== confirm) throw new Error('The two passwords differ.');
}

/** Makes a staff member's key pairs and wraps the private halves under the password-derived key. */
export async function makeStaffKeys(username: string, password: string, withInstanceKey: boolean): Promise<NewStaffKeys> {
  const box = nacl.box.keyPair();
  const sign = nacl.sign.keyPair();
  const instance = withInstanceKey ? nacl.sign.keyPair() : undefined;
  const salt = nacl.randomBytes(STAFF_SALT_BYTES);
  const { wrapKey, authKey } = await staffSecrets(password, salt, STAFF_KDF, browserArgon2);
  const wrappedKeys = wrapPrivateKeys(
    { boxSecretKey: box.secretKey, signSecretKey: sign.secretKey, instanceSecretKey: instance?.secretKey },
    wrapKey,
  );
  wrapKey.fill(0);
  return {
    staffId: randomId(),
    box,
    sign,
    instance,
    material: {
      username,
      kdf: { params: STAFF_KDF, salt: toBase64url(salt) },
      authKey: toBase64url(authKey),
      boxPk: toBase64url(box.publicKey),
      signPk: toBase64url(sign.publicKey),
      wrappedKeys,
    },
  };
}

export interface StaffSession {
  me: StaffMe;
  keys: StaffPrivateKeys;
  /** unused recovery codes left (0 before two-factor sign-in is set up) */
  recoveryCodesLeft: number;
}

/** What the code field holds: a 6-digit TOTP code, a recovery code, or nothing. */
export function secondFactor(code: string): { totp?: string; recoveryCode?: string } {
  const compact = code.replace(/\s+/g, '');
  if (compact === '') return {};
  if (/^\d{6}$/.test(compact)) return { totp: compact };
  return { recoveryCode: code.trim() };
}

/**
 * Signs in; when the record was made with older KDF parameters than STAFF_KDF, re-keys it
 * right away (rekeyToCurrentKdf) and calls onRekey first so the page can say why it takes
 * longer. A failed re-key does not fail the sign-in: the next sign-in tries again.
 */
export async function staffLogin(username: string, password: string, code = '', onRekey?: () => void): Promise<StaffSession> {
  const { kdf, ticket } = await api<StaffLoginParams>('POST', '/api/staff/login/params', { username });
  const { wrapKey, authKey } = await staffSecrets(password, fromB64(kdf.salt), kdf.params, browserArgon2);
  try {
    // The ticket lets the server judge the code by when sign-in began: the derivation above can take a minute.
    const signedIn = await api<StaffLoginResult>('POST', '/api/staff/login', {
      username,
      authKey: toBase64url(authKey),
      ticket,
      ...secondFactor(code),
    });
    const keys = unwrapPrivateKeys(signedIn.wrappedKeys, wrapKey);
    wrapKey.fill(0);
    // The admin who holds the instance key knows the one key every keyset must be signed by: a
    // browser with no pin yet (a new device, Tor Browser) pins it now, and so refuses a chain
    // replaced in the database instead of trusting it on first use.
    const instance = keys.instanceSecretKey && nacl.sign.keyPair.fromSecretKey(keys.instanceSecretKey);
    if (instance && !readPin()) writePin({ fingerprint: fingerprint(instance.publicKey), version: 0 });
    const { recoveryCodesLeft, ...me } = signedIn;
    if (sameKdfParams(kdf.params, STAFF_KDF)) return { me, keys, recoveryCodesLeft };
    onRekey?.();
    const rekeyed = await rekeyToCurrentKdf(keys, me.boxPk, password, authKey).catch(() => undefined);
    return { me: rekeyed ?? me, keys, recoveryCodesLeft };
  } finally {
    wrapKey.fill(0);
    authKey.fill(0);
  }
}

/**
 * The same private keys wrapped under keys derived from `password` with STAFF_KDF and a new
 * salt, checked to be this member's (boxPk) and to open again before anything is sent.
 */
async function rewrapKeys(
  keys: StaffPrivateKeys,
  boxPk: string,
  password: string,
): Promise<{ kdf: { params: Argon2Params; salt: string }; authKey: string; wrappedKeys: string }> {
  if (!equalBytes(nacl.box.keyPair.fromSecretKey(keys.boxSecretKey).publicKey, fromB64(boxPk))) {
    throw new Error('The keys stored for this account are not the ones this session opened; sign in again.');
  }
  const salt = nacl.randomBytes(STAFF_SALT_BYTES);
  const fresh = await staffSecrets(password, salt, STAFF_KDF, browserArgon2);
  try {
    const wrappedKeys = wrapPrivateKeys(keys, fresh.wrapKey);
    // The new wrapping must open before the old one is given up.
    const check = unwrapPrivateKeys(wrappedKeys, fresh.wrapKey);
    if (!equalBytes(check.boxSecretKey, keys.boxSecretKey) || !equalBytes(check.signSecretKey, keys.signSecretKey))
      throw new Error('Re-wrapping the keys failed; nothing was changed.');
    return { kdf: { params: STAFF_KDF, salt: toBase64url(salt) }, authKey: toBase64url(fresh.authKey), wrappedKeys };
  } finally {
    fresh.wrapKey.fill(0);
    fresh.authKey.fill(0);
  }
}

/**
 * Re-keys a record made with older parameters (DESIGN.md: stored per record): the same
 * password derived with STAFF_KDF and a new salt, proven by the authKey the sign-in just
 * derived (so the old, slower parameters are not run twice). The server keeps the other sessions.
 */
async function rekeyToCurrentKdf(keys: StaffPrivateKeys, boxPk: string, password: string, currentAuthKey: Uint8Array): Promise<StaffMe> {
  const next = await rewrapKeys(keys, boxPk, password);
  return api<StaffMe>('POST', '/api/staff/kdf', { currentAuthKey: toBase64url(currentAuthKey), ...next });
}

/**
 * Changes the password without the server seeing either one: derives the current keys from
 * the current password, opens the stored private keys with them (and checks they are this
 * member's), derives new keys from the new password and a new salt, re-wraps the same private
 * keys, and sends only the current and the new authKey with the new wrapped keys. The server
 * checks the current authKey, swaps everything at once and signs out the other sessions.
 */
export async function changePassword(session: StaffSession, current: string, next: string): Promise<StaffMe> {
  const username = session.me.username;
  const { kdf } = await api<StaffLoginParams>('POST', '/api/staff/login/params', { username });
  const now = await staffSecrets(current, fromB64(kdf.salt), kdf.params, browserArgon2);
  const stored = await api<StaffMe>('GET', '/api/staff/me');
  let keys: StaffPrivateKeys;
  try {
    keys = unwrapPrivateKeys(stored.wrappedKeys, now.wrapKey);
  } catch {
    throw new Error('The current password is wrong.');
  } finally {
    now.wrapKey.fill(0);
  }
  try {
    const fresh = await rewrapKeys(keys, session.me.boxPk, next);
    return await api<StaffMe>('POST', '/api/staff/password', { currentAuthKey: toBase64url(now.authKey), ...fresh });
  } catch (e) {
    if (e instanceof ApiFailure && e.code === 'wrong_password') throw new Error('The current password is wrong.', { cause: e });
    throw e;
  } finally {
    now.authKey.fill(0);
  }
}
