/**
 * Staying signed in across a reload without leaving private keys readable on disk (SECURITY.md
 * "Staff sessions and reloads"). After sign-in the unlocked private keys are sealed
 * (secretbox) under a random key the server holds for this session only
 * (POST /api/staff/session/key), and the sealed copy is kept in sessionStorage: it lives as
 * long as the tab, and opens only with the key of a session that is still live. Signing out
 * forgets the copy here and the key on the server.
 */
import nacl from 'tweetnacl';
import { fromBase64url, toBase64url, utf8, type StaffPrivateKeys } from '../../protocol';
import type { SessionReloadKey, StaffMe } from '../../protocol/api';
import { api, ApiFailure } from './api';
import type { StaffSession } from './staff';

const STORE = 'awaaz.staff.sealedKeys';

interface Sealed {
  box: string;
  sign: string;
  instance?: string;
  recoveryCodesLeft: number;
}

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage turned off: every reload asks to sign in, as before
  }
}

async function reloadKey(): Promise<Uint8Array> {
  const { key } = await api<SessionReloadKey>('POST', '/api/staff/session/key', {});
  return fromBase64url(key);
}

/** Seals the keys of the session just opened for the next reload of this tab. Never fails the sign-in. */
export async function keepForReload(keys: StaffPrivateKeys, recoveryCodesLeft: number): Promise<void> {
  const store = storage();
  if (!store) return;
  try {
    const key = await reloadKey();
    const body: Sealed = {
      box: toBase64url(keys.boxSecretKey),
      sign: toBase64url(keys.signSecretKey),
      instance: keys.instanceSecretKey ? toBase64url(keys.instanceSecretKey) : undefined,
      recoveryCodesLeft,
    };
    const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
    const sealed = nacl.secretbox(utf8(JSON.stringify(body)), nonce, key);
    key.fill(0);
    const out = new Uint8Array(nonce.length + sealed.length);
    out.set(nonce);
    out.set(sealed, nonce.length);
    store.setItem(STORE, toBase64url(out));
  } catch {
    store.removeItem(STORE);
  }
}

export function hasKeptSession(): boolean {
  return Boolean(storage()?.getItem(STORE));
}

export function forgetKeptSession(): void {
  storage()?.removeItem(STORE);
}

/**
 * The session this tab kept, opened with the server's key for it; undefined (and the copy
 * forgotten) when the session has ended, the copy does not open, or its keys are not this
 * member's.
 */
export async function restoreKeptSession(): Promise<StaffSession | undefined> {
  const stored = storage()?.getItem(STORE);
  if (!stored) return undefined;
  try {
    const bytes = fromBase64url(stored);
    const key = await reloadKey();
    const opened = nacl.secretbox.open(bytes.subarray(nacl.secretbox.nonceLength), bytes.subarray(0, nacl.secretbox.nonceLength), key);
    key.fill(0);
    if (!opened) throw new Error('the kept keys do not open with this session key');
    const body = JSON.parse(new TextDecoder().decode(opened)) as Sealed;
    const keys: StaffPrivateKeys = {
      boxSecretKey: fromBase64url(body.box),
      signSecretKey: fromBase64url(body.sign),
      instanceSecretKey: body.instance ? fromBase64url(body.instance) : undefined,
    };
    const me = await api<StaffMe>('GET', '/api/staff/me');
    if (toBase64url(nacl.box.keyPair.fromSecretKey(keys.boxSecretKey).publicKey) !== me.boxPk)
      throw new Error('the kept keys are not this account’s');
    return { me, keys, recoveryCodesLeft: body.recoveryCodesLeft };
  } catch (e) {
    // The server unreachable or failing: keep the copy for the next try, and say so.
    if (e instanceof ApiFailure && (e.status === 0 || e.status >= 500)) throw e;
    forgetKeptSession();
    return undefined;
  }
}
