import nacl from 'tweetnacl';
import { memberFingerprint, toBase64url } from '../../protocol';

describe('memberFingerprint', () => {
  const box = nacl.box.keyPair().publicKey;
  const sign = nacl.sign.keyPair().publicKey;

  test('eight groups of four hex digits, the same from bytes and from base64url', () => {
    const code = memberFingerprint(box, sign);
    expect(code).toMatch(/^([0-9A-F]{4} ){7}[0-9A-F]{4}$/);
    expect(memberFingerprint(toBase64url(box), toBase64url(sign))).toBe(code);
  });

  test('another box key, another sign key, or the two swapped give another code', () => {
    const code = memberFingerprint(box, sign);
    expect(memberFingerprint(nacl.box.keyPair().publicKey, sign)).not.toBe(code);
    expect(memberFingerprint(box, nacl.sign.keyPair().publicKey)).not.toBe(code);
    expect(memberFingerprint(sign, box)).not.toBe(code);
  });
});
