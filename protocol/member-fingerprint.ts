/**
 * A staff member's key code: what the admin compares, out of band, with the new member before
 * signing them into the keyset. The member's browser computes it from the private keys it made
 * (their public halves), the admin's from the public keys the server shows; if someone who
 * controls the server swapped a key, the two codes differ.
 */
import { fromBase64url, sha512, utf8 } from './encoding';

const MEMBER_KEY_DOMAIN = 'awaaz/v1/member-key\n';

/** 32 hex digits in eight groups of four, over both public keys (box, then sign). */
export function memberFingerprint(boxPk: Uint8Array | string, signPk: Uint8Array | string): string {
  const bytes = (k: Uint8Array | string) => (typeof k === 'string' ? fromBase64url(k) : k);
  const box = bytes(boxPk);
  const sign = bytes(signPk);
  const domain = utf8(MEMBER_KEY_DOMAIN);
  const input = new Uint8Array(domain.length + box.length + sign.length);
  input.set(domain);
  input.set(box, domain.length);
  input.set(sign, domain.length + box.length);
  const hex = Array.from(sha512(input).slice(0, 16), (b) => b.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
  return hex.match(/.{4}/g)!.join(' ');
}
