/** The survivor's side of the protocol: keys from the codename, proof of work, login. */
import { normalizeCodename, signLoginAsync, survivorKeyPairs, survivorMaster, toBase64url, type KeyPairs } from '../../protocol/survivor';
import type { PowChallenge, SurvivorSession } from '../../protocol/api';
import { api } from './api';
import { browserArgon2, browserSolvePow } from './kdf';

export async function deriveSurvivorKeys(codename: string, instanceId: string): Promise<KeyPairs> {
  const master = await survivorMaster(normalizeCodename(codename), instanceId, browserArgon2);
  const keys = survivorKeyPairs(master);
  master.fill(0);
  return keys;
}

export async function solvedPow(): Promise<{ challenge: string; nonce: number }> {
  const { challenge, bits } = await api<PowChallenge>('POST', '/api/pow', {});
  return { challenge, nonce: await browserSolvePow(challenge, bits) };
}

export async function register(keys: KeyPairs, instanceId: string): Promise<SurvivorSession> {
  const pow = await solvedPow();
  return api<SurvivorSession>('POST', '/api/survivor/register', {
    signPk: toBase64url(keys.sign.publicKey),
    boxPk: toBase64url(keys.box.publicKey),
    pow,
    sig: toBase64url(await signLoginAsync(instanceId, pow.challenge, keys.sign.secretKey)),
  });
}

export async function login(keys: KeyPairs, instanceId: string): Promise<SurvivorSession> {
  const { challenge } = await api<{ challenge: string }>('POST', '/api/survivor/challenge', {});
  return api<SurvivorSession>('POST', '/api/survivor/session', {
    signPk: toBase64url(keys.sign.publicKey),
    challenge,
    sig: toBase64url(await signLoginAsync(instanceId, challenge, keys.sign.secretKey)),
  });
}
