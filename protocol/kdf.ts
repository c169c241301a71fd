/**
 * Key derivation (DESIGN.md, protocol v1). argon2id from hash-wasm runs the same in the
 * browser and under Node; subkeys are separated by SHA-512 over a label. Where WebAssembly is
 * missing (Tor Browser's Safer level), the pages pass another engine that gives the same bytes
 * (client/lib/kdf.ts: @noble/hashes' pure-JavaScript argon2id in a Worker, protocol/kdf-js.ts).
 */
import { argon2id } from 'hash-wasm';
import nacl from 'tweetnacl';
import { concatBytes, ProtocolError, sha512, utf8 } from './encoding';

export interface Argon2Params {
  alg: 'argon2id';
  /** memory in KiB */
  m: number;
  t: number;
  p: number;
}

/** Survivor parameters are fixed by the protocol: every device must derive the same keys. */
export const SURVIVOR_KDF: Argon2Params = { alg: 'argon2id', m: 19 * 1024, t: 2, p: 1 };
/**
 * Default for new staff records; stored with each record, so records made with other
 * parameters (64 MiB, t = 3 before issue 11) keep working and the default can change; the
 * sign-in page re-keys such a record to this default (client/lib/staff.ts staffLogin). Chosen so
 * that signing in at Tor Browser's Safer level (pure-JavaScript argon2id, no JIT) takes under
 * twice a survivor's derivation there (bench/kdf.ts), where 64 MiB and t = 3 took five times; 32 MiB and t = 2 is above OWASP's
 * argon2id minimum (19 MiB, t = 2), which protocol/api.ts KdfSchema enforces.
 */
export const STAFF_KDF: Argon2Params = { alg: 'argon2id', m: 32 * 1024, t: 2, p: 1 };
export const STAFF_SALT_BYTES = 16;

export function sameKdfParams(a: Argon2Params, b: Argon2Params): boolean {
  return a.alg === b.alg && a.m === b.m && a.t === b.t && a.p === b.p;
}

/** An argon2id implementation: 32 bytes from a password, a salt and checked parameters. */
export type Argon2Engine = (password: Uint8Array, salt: Uint8Array, params: Argon2Params) => Promise<Uint8Array>;

/** hash-wasm's argon2id (WebAssembly): the default, in Node and in browsers that have WebAssembly. */
export const wasmArgon2: Argon2Engine = (password, salt, params) =>
  argon2id({
    password,
    salt,
    memorySize: params.m,
    iterations: params.t,
    parallelism: params.p,
    hashLength: 32,
    outputType: 'binary',
  });

export async function argon2(
  password: Uint8Array,
  salt: Uint8Array,
  params: Argon2Params,
  engine: Argon2Engine = wasmArgon2,
): Promise<Uint8Array> {
  if (params.alg !== 'argon2id') throw new ProtocolError('bad_kdf', `unsupported KDF ${String(params.alg)}`);
  if (salt.length < 8) throw new ProtocolError('bad_kdf', 'salt must be at least 8 bytes');
  // hash-wasm refuses an empty password and @noble/hashes hashes it: both engines refuse it here.
  if (password.length === 0) throw new ProtocolError('bad_kdf', 'password must not be empty');
  return engine(password, salt, params);
}

/** sub(label) = SHA-512("awaaz/v1/" + label || master)[0..32] */
export function subkey(master: Uint8Array, label: string): Uint8Array {
  if (master.length !== 32) throw new ProtocolError('bad_key', 'master key must be 32 bytes');
  return sha512(concatBytes(utf8('awaaz/v1/' + label), master)).slice(0, 32);
}

export interface KeyPairs {
  sign: nacl.SignKeyPair;
  box: nacl.BoxKeyPair;
}

export function survivorSalt(instanceId: string): Uint8Array {
  return utf8('awaaz/v1/survivor/' + instanceId);
}

/** Master key from an already normalized codename (see normalizeCodename). */
export async function survivorMaster(normalizedCodename: string, instanceId: string, engine?: Argon2Engine): Promise<Uint8Array> {
  return argon2(utf8(normalizedCodename), survivorSalt(instanceId), SURVIVOR_KDF, engine);
}

export function survivorKeyPairs(master: Uint8Array): KeyPairs {
  return {
    sign: nacl.sign.keyPair.fromSeed(subkey(master, 'sign')),
    box: nacl.box.keyPair.fromSecretKey(subkey(master, 'box')),
  };
}

export interface StaffSecrets {
  /** stays in the browser: secretboxes the staff member's private keys */
  wrapKey: Uint8Array;
  /** sent at login; the server stores only argon2id(authKey) */
  authKey: Uint8Array;
}

export async function staffSecrets(password: string, salt: Uint8Array, params: Argon2Params, engine?: Argon2Engine): Promise<StaffSecrets> {
  const master = await argon2(utf8(password.normalize('NFC')), salt, params, engine);
  return { wrapKey: subkey(master, 'wrap'), authKey: subkey(master, 'auth') };
}
