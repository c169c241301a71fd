/**
 * Survivor login: the browser signs a fresh, single-use server challenge with its `sign` key.
 * The message is domain-separated and names the instance, so a signature cannot be replayed
 * to another instance or reused as any other kind of signature.
 */
import nacl from 'tweetnacl';
import { utf8 } from './encoding';
import { naclBackend, verifyDetached, type CryptoBackend } from './signatures';
import { cryptoProvider, type CryptoProvider } from './crypto-provider';

export function loginMessage(instanceId: string, challenge: string): Uint8Array {
  return utf8(`awaaz/v1/login\n${instanceId}\n${challenge}`);
}

export function signLogin(instanceId: string, challenge: string, signSecretKey: Uint8Array): Uint8Array {
  return nacl.sign.detached(loginMessage(instanceId, challenge), signSecretKey);
}

/** signLogin with the browser's provider (WebCrypto where it has Ed25519): the same signature. */
export async function signLoginAsync(
  instanceId: string,
  challenge: string,
  signSecretKey: Uint8Array,
  provider?: CryptoProvider,
): Promise<Uint8Array> {
  return (provider ?? (await cryptoProvider())).sign(loginMessage(instanceId, challenge), signSecretKey);
}

export function verifyLogin(
  instanceId: string,
  challenge: string,
  signature: Uint8Array,
  signPk: Uint8Array,
  backend: CryptoBackend = naclBackend,
): boolean {
  return verifyDetached(loginMessage(instanceId, challenge), signature, signPk, backend);
}
