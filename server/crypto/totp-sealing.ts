/**
 * TOTP secrets at rest: AES-256-GCM (node:crypto) under the TOTP key from TOTP_KEY_FILE
 * (server/config.ts loadTotpKeys), never under anything in the database, so a copy of the
 * database alone does not give anyone a member's codes.
 *
 * Stored form: `t1.<keyId>.<base64url(nonce12 || ciphertext || tag16)>`. `t1` names the
 * format; keyId (8 base64url characters of an HMAC of the key) names the key, so a rotation
 * (TOTP_PREVIOUS_KEY_FILE) can tell which secrets still need re-encrypting. The associated
 * data binds each ciphertext to its member and column: a database writer cannot move one
 * member's secret (or an unconfirmed secret) onto another account.
 */
import crypto from 'node:crypto';
import { fromBase64url, toBase64url } from '../../protocol';

const FORMAT = 't1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Which stored value a ciphertext belongs to (part of its associated data). */
export type TotpSlot = 'secret' | 'pending';

export class TotpKeyMissing extends Error {}

export interface TotpSealer {
  seal(secret: Uint8Array, staffId: string, slot: TotpSlot): string;
  /** The secret; throws TotpKeyMissing when it is under a key not loaded, and an Error when it was tampered with. */
  open(stored: string, staffId: string, slot: TotpSlot): Uint8Array;
  /** true if `stored` is under the current key (false for plaintext or an older key) */
  isCurrent(stored: string): boolean;
}

function keyIdOf(key: Buffer): string {
  return crypto.createHmac('sha256', key).update('awaaz/v1/totp-key-id').digest().subarray(0, 6).toString('base64url');
}

const aad = (staffId: string, slot: TotpSlot) => Buffer.from(`awaaz/v1/totp\n${slot}\n${staffId}`, 'utf8');

/** keys: the current key first, then the previous one while rotating (base64url, 32 bytes each). */
export function totpSealer(keys: { current: string; previous?: string }): TotpSealer {
  const current = Buffer.from(fromBase64url(keys.current));
  if (current.length !== 32) throw new Error('the TOTP key must be 32 bytes');
  const byId = new Map<string, Buffer>([[keyIdOf(current), current]]);
  if (keys.previous) {
    const previous = Buffer.from(fromBase64url(keys.previous));
    if (previous.length !== 32) throw new Error('the previous TOTP key must be 32 bytes');
    byId.set(keyIdOf(previous), previous);
  }
  const currentId = keyIdOf(current);
  const parse = (stored: string) => {
    const parts = stored.split('.');
    return parts.length === 3 && parts[0] === FORMAT ? { keyId: parts[1], body: parts[2] } : undefined;
  };

  return {
    seal(secret, staffId, slot) {
      const nonce = crypto.randomBytes(NONCE_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', current, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(staffId, slot));
      const body = Buffer.concat([nonce, cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
      return `${FORMAT}.${currentId}.${toBase64url(body)}`;
    },
    open(stored, staffId, slot) {
      const parsed = parse(stored);
      if (!parsed) throw new Error('stored TOTP secret is not in the sealed form');
      const key = byId.get(parsed.keyId);
      if (!key)
        throw new TotpKeyMissing('this TOTP secret is encrypted under a key that is neither TOTP_KEY_FILE nor TOTP_PREVIOUS_KEY_FILE');
      const body = Buffer.from(fromBase64url(parsed.body));
      if (body.length < NONCE_BYTES + TAG_BYTES) throw new Error('stored TOTP secret is too short');
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, body.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(staffId, slot));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return new Uint8Array(Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]));
    },
    isCurrent(stored) {
      return parse(stored)?.keyId === currentId;
    },
  };
}
