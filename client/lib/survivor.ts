/** The survivor's side of the protocol: keys from the codename, proof of work, login. */
import { normalizeCodename, signLoginAsync, survivorKeyPairs, survivorMaster, toBase64url, type KeyPairs } from '../../protocol/survivor';
import type { PowChallenge, SurvivorSession } from '../../protocol/api';
import { api, ApiFailure, onExpiredToken } from './api';
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

/** A session for keys this page derived: a new account, or a sign-in if the server knows them already (an earlier attempt whose answer was lost). */
export async function registerOrLogIn(keys: KeyPairs, instanceId: string): Promise<SurvivorSession> {
  try {
    return await register(keys, instanceId);
  } catch (e) {
    if (e instanceof ApiFailure && e.code === 'already_registered') return login(keys, instanceId);
    throw e;
  }
}

/** What a signed-in page holds: her keys (in memory only), the session, the instance. */
export interface Held {
  keys?: KeyPairs;
  session?: SurvivorSession;
  instanceId?: string;
}

/**
 * While the page holds her keys, a session the server no longer accepts (expired after
 * SURVIVOR_SESSION_MINUTES) is renewed by signing in again with them, and lib/api.ts sends the
 * refused request once more: what she typed stays where it is. The session object is updated
 * in place, so every form that holds it goes on working.
 */
export function renewSessions(held: () => Held): void {
  let renewing: Promise<string | undefined> | undefined;
  onExpiredToken((expired) => {
    const { keys, session, instanceId } = held();
    if (!keys || !session || !instanceId) return Promise.resolve(undefined);
    if (session.token !== expired) return Promise.resolve(session.token); // renewed meanwhile
    return (renewing ??= login(keys, instanceId)
      .then(
        (fresh) => Object.assign(session, fresh).token,
        () => undefined,
      )
      .finally(() => (renewing = undefined)));
  });
}
