/**
 * A staff member's private keys, secretboxed under the password-derived wrapKey. The server
 * stores the wrapped blob and cannot open it (Standard Notes' split of one password key).
 */
import nacl from 'tweetnacl';
import { concatBytes, fromBase64url, fromUtf8, ProtocolError, toBase64url, utf8 } from './encoding';

export interface StaffPrivateKeys {
  boxSecretKey: Uint8Array;
  signSecretKey: Uint8Array;
  /** only the admin who holds the instance signing key */
  instanceSecretKey?: Uint8Array;
}

export function wrapPrivateKeys(keys: StaffPrivateKeys, wrapKey: Uint8Array, random = (n: number) => nacl.randomBytes(n)): string {
  const json = JSON.stringify({
    v: 1,
    box: toBase64url(keys.boxSecretKey),
    sign: toBase64url(keys.signSecretKey),
    instance: keys.instanceSecretKey ? toBase64url(keys.instanceSecretKey) : undefined,
  });
  const nonce = random(nacl.secretbox.nonceLength);
  return toBase64url(concatBytes(nonce, nacl.secretbox(utf8(json), nonce, wrapKey)));
}

export function unwrapPrivateKeys(wrapped: string, wrapKey: Uint8Array): StaffPrivateKeys {
  const bytes = fromBase64url(wrapped);
  const opened = nacl.secretbox.open(bytes.subarray(nacl.secretbox.nonceLength), bytes.subarray(0, nacl.secretbox.nonceLength), wrapKey);
  if (!opened) throw new ProtocolError('wrong_password', 'the private keys do not open with this password');
  const parsed = JSON.parse(fromUtf8(opened)) as { v: number; box: string; sign: string; instance?: string };
  if (parsed.v !== 1) throw new ProtocolError('unsupported_version', 'unknown private key format');
  return {
    boxSecretKey: fromBase64url(parsed.box),
    signSecretKey: fromBase64url(parsed.sign),
    instanceSecretKey: parsed.instance ? fromBase64url(parsed.instance) : undefined,
  };
}
