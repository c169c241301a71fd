/** The staff side: key generation at enrolment, login, and unwrapping the private keys. */
import nacl from 'tweetnacl';
import { fromBase64url as fromB64, randomId, STAFF_KDF, STAFF_SALT_BYTES, staffSecrets, toBase64url, unwrapPrivateKeys, wrapPrivateKeys, type Argon2Params, type StaffPrivateKeys } from '../../protocol';
import type { StaffMe } from '../../protocol/api';
import { api } from './api';

export interface NewStaffKeys {
  staffId: string;
  box: nacl.BoxKeyPair;
  sign: nacl.SignKeyPair;
  instance?: nacl.SignKeyPair;
  material: { username: string; kdf: { params: Argon2Params; salt: string }; authKey: string; boxPk: string; signPk: string; wrappedKeys: string };
}

export const MIN_PASSWORD_LENGTH = 12;

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
  const { wrapKey, authKey } = await staffSecrets(password, salt, STAFF_KDF);
  const wrappedKeys = wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey, instanceSecretKey: instance?.secretKey }, wrapKey);
  wrapKey.fill(0);
  return {
    staffId: randomId(),
    box,
    sign,
    instance,
    material: { username, kdf: { params: STAFF_KDF, salt: toBase64url(salt) }, authKey: toBase64url(authKey), boxPk: toBase64url(box.publicKey), signPk: toBase64url(sign.publicKey), wrappedKeys },
  };
}

export interface StaffSession {
  me: StaffMe;
  keys: StaffPrivateKeys;
}

export async function staffLogin(username: string, password: string): Promise<StaffSession> {
  const { kdf } = await api<{ kdf: { params: Argon2Params; salt: string } }>('POST', '/api/staff/login/params', { username });
  const { wrapKey, authKey } = await staffSecrets(password, fromB64(kdf.salt), kdf.params);
  const me = await api<StaffMe>('POST', '/api/staff/login', { username, authKey: toBase64url(authKey) });
  const keys = unwrapPrivateKeys(me.wrappedKeys, wrapKey);
  wrapKey.fill(0);
  return { me, keys };
}
