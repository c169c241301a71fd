import nacl from 'tweetnacl';
import { fromBase64url, fromUtf8 } from '../../protocol/encoding';
import { staffSecrets, type Argon2Params } from '../../protocol/kdf';
import { unwrapPrivateKeys, wrapPrivateKeys } from '../../protocol/staffkeys';
import { deterministicRandom } from '../vectors/deterministic-random';
import { expectProtocolError } from './helpers';

const box = nacl.box.keyPair.fromSecretKey(new Uint8Array(32).fill(3));
const sign = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(4));
const instance = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(5));
const wrapKey = new Uint8Array(32).fill(9);

describe('wrapPrivateKeys / unwrapPrivateKeys', () => {
  it('round-trips a staff member’s keys', () => {
    const wrapped = wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey }, wrapKey);
    const keys = unwrapPrivateKeys(wrapped, wrapKey);
    expect(keys.boxSecretKey).toEqual(box.secretKey);
    expect(keys.signSecretKey).toEqual(sign.secretKey);
    expect(keys.instanceSecretKey).toBeUndefined();
  });

  it('round-trips an admin’s keys, including the instance signing key', () => {
    const wrapped = wrapPrivateKeys(
      { boxSecretKey: box.secretKey, signSecretKey: sign.secretKey, instanceSecretKey: instance.secretKey },
      wrapKey,
    );
    expect(unwrapPrivateKeys(wrapped, wrapKey).instanceSecretKey).toEqual(instance.secretKey);
  });

  it('is nonce || secretbox(JSON) and reveals no key in the clear', () => {
    const wrapped = fromBase64url(
      wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey }, wrapKey, deterministicRandom('wrap')),
    );
    const nonce = deterministicRandom('wrap')(24);
    expect(wrapped.slice(0, 24)).toEqual(nonce);
    const json = JSON.parse(fromUtf8(nacl.secretbox.open(wrapped.subarray(24), nonce, wrapKey)!));
    expect(Object.keys(json).sort()).toEqual(['box', 'sign', 'v']);
    // fresh nonce each time with the real random
    const a = wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey }, wrapKey);
    const b = wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey }, wrapKey);
    expect(a).not.toBe(b);
  });

  it('a wrong wrapKey: wrong_password', () => {
    const wrapped = wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey }, wrapKey);
    const other = wrapKey.slice();
    other[31] ^= 1;
    expectProtocolError(() => unwrapPrivateKeys(wrapped, other), 'wrong_password');
  });

  it('an altered blob: wrong_password', () => {
    const bytes = fromBase64url(wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey }, wrapKey));
    for (const position of [0, 23, 24, 40, bytes.length - 1]) {
      const altered = bytes.slice();
      altered[position] ^= 0x80;
      expectProtocolError(() => unwrapPrivateKeys(Buffer.from(altered).toString('base64url'), wrapKey), 'wrong_password');
    }
  });

  it('works with keys derived from a password: the right password opens, a wrong one does not', async () => {
    const cheap: Argon2Params = { alg: 'argon2id', m: 256, t: 1, p: 1 };
    const salt = new Uint8Array(16).fill(1);
    const right = await staffSecrets('correct horse battery staple', salt, cheap);
    const wrong = await staffSecrets('correct horse battery stapler', salt, cheap);
    const wrapped = wrapPrivateKeys({ boxSecretKey: box.secretKey, signSecretKey: sign.secretKey }, right.wrapKey);
    expect(unwrapPrivateKeys(wrapped, right.wrapKey).boxSecretKey).toEqual(box.secretKey);
    expectProtocolError(() => unwrapPrivateKeys(wrapped, wrong.wrapKey), 'wrong_password');
    // the authKey (sent to the server) does not open the keys either
    expectProtocolError(() => unwrapPrivateKeys(wrapped, right.authKey), 'wrong_password');
  });
});
