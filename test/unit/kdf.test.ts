/**
 * KDF known answers. The expected values in test/vectors/protocol-v1.json were computed with
 * the native `argon2` package and node:crypto (test/vectors/generate-protocol-v1.ts), not with
 * protocol/, so these tests compare two independent implementations.
 */
import * as argon2native from 'argon2';
import { buildSync } from 'esbuild';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { fromBase64url, toBase64url, utf8 } from '../../protocol/encoding';
import { normalizeCodename } from '../../protocol/codename';
import { KdfSchema } from '../../protocol/api';
import {
  argon2,
  STAFF_KDF,
  staffSecrets,
  subkey,
  SURVIVOR_KDF,
  survivorKeyPairs,
  survivorMaster,
  survivorSalt,
  wasmArgon2,
  type Argon2Engine,
  type Argon2Params,
} from '../../protocol/kdf';
import vectors from '../vectors/protocol-v1.json';
import { fromHex, toHex } from '../vectors/deterministic-random';
import { expectProtocolError, expectRejectsProtocolError, nodeSha512 } from './helpers';

function native(password: Uint8Array | string, salt: Uint8Array, p: Argon2Params): Promise<Buffer> {
  return argon2native.hash(typeof password === 'string' ? password : Buffer.from(password), {
    type: argon2native.argon2id,
    raw: true,
    salt: Buffer.from(salt),
    memoryCost: p.m,
    timeCost: p.t,
    parallelism: p.p,
    hashLength: 32,
  });
}

describe('protocol constants', () => {
  it('match DESIGN.md and the vectors', () => {
    expect(SURVIVOR_KDF).toEqual({ alg: 'argon2id', m: 19456, t: 2, p: 1 });
    expect(STAFF_KDF).toEqual({ alg: 'argon2id', m: 32768, t: 2, p: 1 });
    expect(vectors.survivorKdf.params).toEqual(SURVIVOR_KDF);
    // The staff vector keeps the parameters of records made before issue 11 (64 MiB, t = 3).
    expect(vectors.staffKdf.params).toEqual({ alg: 'argon2id', m: 65536, t: 3, p: 1 });
  });

  it("new staff records are at or above OWASP's argon2id minimum (19 MiB, t = 2), and the server refuses less", () => {
    expect(STAFF_KDF.m).toBeGreaterThanOrEqual(19 * 1024);
    expect(STAFF_KDF.t).toBeGreaterThanOrEqual(2);
    const salt = toBase64url(new Uint8Array(16));
    expect(KdfSchema.safeParse({ params: STAFF_KDF, salt }).success).toBe(true);
    expect(KdfSchema.safeParse({ params: vectors.staffKdf.params, salt }).success).toBe(true);
    expect(KdfSchema.safeParse({ params: { ...STAFF_KDF, m: 19 * 1024 - 1 }, salt }).success).toBe(false);
    expect(KdfSchema.safeParse({ params: { ...STAFF_KDF, t: 1 }, salt }).success).toBe(false);
  });
});

describe('survivor keys (known answer)', () => {
  const v = vectors.survivorKdf;

  it('salt is utf8("awaaz/v1/survivor/" + instanceId)', () => {
    expect(survivorSalt(v.instanceId)).toEqual(utf8(v.saltUtf8));
    expect(v.saltUtf8).toBe('awaaz/v1/survivor/AAAAAAAAAAAAAAAAAAAAAA');
  });

  it('survivorMaster and survivorKeyPairs reproduce the vector', async () => {
    expect(normalizeCodename(v.codename)).toBe(v.codename);
    const master = await survivorMaster(v.codename, v.instanceId);
    expect(toHex(master)).toBe(v.masterHex);
    const pairs = survivorKeyPairs(master);
    expect(toBase64url(pairs.sign.publicKey)).toBe(v.signPk);
    expect(toBase64url(pairs.box.publicKey)).toBe(v.boxPk);
    // the secret keys are the documented subkeys
    expect(pairs.sign.secretKey.slice(0, 32)).toEqual(subkey(master, 'sign'));
    expect(pairs.box.secretKey).toEqual(subkey(master, 'box'));
  });

  it('survivorKeyPairs is deterministic and the two key pairs are unrelated', () => {
    const master = fromHex(v.masterHex);
    const a = survivorKeyPairs(master);
    const b = survivorKeyPairs(master.slice());
    expect(a.sign.publicKey).toEqual(b.sign.publicKey);
    expect(a.box.publicKey).toEqual(b.box.publicKey);
    expect(toBase64url(a.sign.publicKey)).not.toBe(toBase64url(a.box.publicKey));
    const other = master.slice();
    other[0] ^= 1;
    expect(toBase64url(survivorKeyPairs(other).sign.publicKey)).not.toBe(v.signPk);
  });

  it('another instance gives another master for the same codename', async () => {
    const master = await survivorMaster(v.codename, 'AAAAAAAAAAAAAAAAAAAAAQ');
    expect(toHex(master)).not.toBe(v.masterHex);
  });
});

describe('staff secrets (known answer)', () => {
  const v = vectors.staffKdf;

  it('staffSecrets reproduces wrapKey and authKey with the parameters stored in the record', async () => {
    expect(fromHex(v.saltHex)).toEqual(Uint8Array.from({ length: 16 }, (_, i) => i));
    const secrets = await staffSecrets(v.password, fromHex(v.saltHex), v.params as Argon2Params);
    expect(toHex(secrets.wrapKey)).toBe(v.wrapKeyHex);
    expect(toHex(secrets.authKey)).toBe(v.authKeyHex);
    expect(toHex(secrets.wrapKey)).not.toBe(toHex(secrets.authKey));
  });

  it('normalizes the password to NFC (composed and decomposed é give the same keys)', async () => {
    const cheap: Argon2Params = { alg: 'argon2id', m: 256, t: 1, p: 1 };
    const salt = new Uint8Array(16).fill(7);
    const composed = await staffSecrets('caf\u00e9', salt, cheap);
    const decomposed = await staffSecrets('cafe\u0301', salt, cheap);
    expect(toHex(decomposed.authKey)).toBe(toHex(composed.authKey));
    const other = await staffSecrets('cafe', salt, cheap);
    expect(toHex(other.authKey)).not.toBe(toHex(composed.authKey));
  });
});

describe('subkey', () => {
  it('is SHA-512("awaaz/v1/" + label || master)[0..32], computed independently with node:crypto', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom('sign', 'box', 'wrap', 'auth'), (master, label) => {
        expect(subkey(master, label)).toEqual(nodeSha512(utf8('awaaz/v1/' + label), master).slice(0, 32));
      }),
      { numRuns: 50 },
    );
  });

  it('separates labels', () => {
    const master = new Uint8Array(32).fill(1);
    const keys = ['sign', 'box', 'wrap', 'auth'].map((l) => toHex(subkey(master, l)));
    expect(new Set(keys).size).toBe(4);
  });

  it.each([0, 31, 33, 64])('rejects a master of %i bytes', (n) => {
    expectProtocolError(() => subkey(new Uint8Array(n), 'sign'), 'bad_key');
  });
});

describe('argon2 (hash-wasm) against the native argon2 package', () => {
  it('gives the native raw output for the survivor parameters and a non-ASCII password', async () => {
    const password = utf8('ज़ुल्म के ख़िलाफ़ आवाज़ — awaaz');
    const salt = Uint8Array.from({ length: 16 }, (_, i) => 255 - i);
    const [ours, theirs] = await Promise.all([argon2(password, salt, SURVIVOR_KDF), native(password, salt, SURVIVOR_KDF)]);
    expect(ours).toHaveLength(32);
    expect(toHex(ours)).toBe(theirs.toString('hex'));
  });

  it('gives the native raw output for random inputs and small parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }), // hash-wasm refuses an empty password (see below)
        fc.uint8Array({ minLength: 8, maxLength: 32 }),
        fc.integer({ min: 64, max: 512 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 2 }),
        async (password, salt, m, t, p) => {
          const params: Argon2Params = { alg: 'argon2id', m, t, p };
          const [ours, theirs] = await Promise.all([argon2(password, salt, params), native(password, salt, params)]);
          expect(toHex(ours)).toBe(theirs.toString('hex'));
        },
      ),
      { numRuns: 15 },
    );
  });

  it('the survivor vector master is the native output (the vector file is self-consistent)', async () => {
    const v = vectors.survivorKdf;
    const theirs = await native(v.codename, utf8(v.saltUtf8), SURVIVOR_KDF);
    expect(theirs.toString('hex')).toBe(v.masterHex);
    expect(fromBase64url(v.signPk)).toHaveLength(32);
  });

  it('refuses an empty password with either engine (hash-wasm throws, @noble/hashes and the native package would hash it)', async () => {
    for (const engine of [wasmArgon2, jsArgon2InThread])
      await expectRejectsProtocolError(
        argon2(new Uint8Array(0), new Uint8Array(16), { alg: 'argon2id', m: 64, t: 1, p: 1 }, engine),
        'bad_kdf',
      );
  });

  it('rejects another algorithm and a salt shorter than 8 bytes', async () => {
    await expectRejectsProtocolError(
      argon2(utf8('x'), new Uint8Array(16), { ...SURVIVOR_KDF, alg: 'argon2i' } as unknown as Argon2Params),
      'bad_kdf',
    );
    await expectRejectsProtocolError(argon2(utf8('x'), new Uint8Array(7), SURVIVOR_KDF), 'bad_kdf');
  });
});

/**
 * protocol/kdf-js.ts in a worker thread, as the pages run it in a Worker: outside jest's vm
 * context, where @noble/hashes' argon2id runs about 50 times slower (as tweetnacl does, see
 * run-in-worker.ts). The same source, bundled by esbuild instead of transpiled by ts-jest.
 */
let threadCode: string | undefined;
const jsArgon2InThread: Argon2Engine = (password, salt, params) => {
  threadCode ??= buildSync({
    stdin: {
      contents:
        "import { parentPort, workerData } from 'node:worker_threads'; import { jsArgon2Sync } from './protocol/kdf-js'; parentPort!.postMessage(jsArgon2Sync(workerData.password, workerData.salt, workerData.params));",
      resolveDir: path.resolve(__dirname, '../..'),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  }).outputFiles[0].text;
  const worker = new Worker(threadCode, { eval: true, workerData: { password, salt, params } });
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.once('message', (key: Uint8Array) => resolve(new Uint8Array(key)));
    worker.once('error', reject);
  }).finally(() => void worker.terminate());
};

/**
 * The pure-JavaScript argon2id (@noble/hashes) that browsers without WebAssembly use (Tor
 * Browser's Safer level): a codename made in one browser must open in any other, so it must
 * give hash-wasm's bytes, and the native package's. test/e2e/kdf-fallback.e2e.test.ts checks
 * the same in Chromium and in Firefox ESR at Standard and at Safer.
 */
describe('argon2 in pure JavaScript (protocol/kdf-js.ts) against hash-wasm and the native package', () => {
  it('reproduces the survivor vector: same master and key pairs as hash-wasm', async () => {
    const v = vectors.survivorKdf;
    const [js, wasm] = await Promise.all([
      survivorMaster(v.codename, v.instanceId, jsArgon2InThread),
      survivorMaster(v.codename, v.instanceId, wasmArgon2),
    ]);
    expect(toHex(js)).toBe(v.masterHex);
    expect(toHex(wasm)).toBe(v.masterHex);
    const pairs = survivorKeyPairs(js);
    expect(toBase64url(pairs.sign.publicKey)).toBe(v.signPk);
    expect(toBase64url(pairs.box.publicKey)).toBe(v.boxPk);
  });

  it('reproduces the staff vector (a record made with 64 MiB, t = 3)', async () => {
    const v = vectors.staffKdf;
    const secrets = await staffSecrets(v.password, fromHex(v.saltHex), v.params as Argon2Params, jsArgon2InThread);
    expect(toHex(secrets.wrapKey)).toBe(v.wrapKeyHex);
    expect(toHex(secrets.authKey)).toBe(v.authKeyHex);
  });

  it('gives the same staff secrets as hash-wasm and the native package for the new staff parameters', async () => {
    const salt = Uint8Array.from({ length: 16 }, (_, i) => 3 * i + 1);
    const password = 'شناختی پاس ورڈ — staff password';
    const [js, wasm] = await Promise.all([
      staffSecrets(password, salt, STAFF_KDF, jsArgon2InThread),
      staffSecrets(password, salt, STAFF_KDF, wasmArgon2),
    ]);
    expect(toHex(js.authKey)).toBe(toHex(wasm.authKey));
    expect(toHex(js.wrapKey)).toBe(toHex(wasm.wrapKey));
    const theirs = await native(utf8(password.normalize('NFC')), salt, STAFF_KDF);
    expect(toHex(js.authKey)).toBe(toHex(subkey(new Uint8Array(theirs), 'auth')));
  });

  it('gives the same bytes as hash-wasm and the native package for random inputs and small parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 8, maxLength: 32 }),
        fc.integer({ min: 64, max: 512 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 2 }),
        async (password, salt, m, t, p) => {
          const params: Argon2Params = { alg: 'argon2id', m, t, p };
          const [js, wasm, theirs] = await Promise.all([
            argon2(password, salt, params, jsArgon2InThread),
            argon2(password, salt, params, wasmArgon2),
            native(password, salt, params),
          ]);
          expect(toHex(js)).toBe(toHex(wasm));
          expect(toHex(js)).toBe(theirs.toString('hex'));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('a different codename gives a different master (the comparison can fail)', async () => {
    const v = vectors.survivorKdf;
    const other = await survivorMaster(v.codename.replace(/^abandon/, 'ability'), v.instanceId, jsArgon2InThread);
    expect(toHex(other)).not.toBe(v.masterHex);
  });
});
