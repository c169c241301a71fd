/**
 * Alerts encrypted to an OpenPGP key the member pastes (issue 15, its optional part). The
 * server checks the key with openpgp when it is pasted (one public key, never a private one,
 * and one that encrypts now: a trial encryption, so that an algorithm openpgp refuses is caught
 * here rather than at the next alert), stores it re-armored, and encrypts every alert to the
 * member with it as PGP/MIME (RFC 3156; the MIME wrapping is in server/mailer.ts). If the key
 * no longer encrypts when an alert is due, the alert is held and tried again, never sent in the
 * clear, and the member's settings say what is wrong with the key.
 */
import * as openpgp from 'openpgp';
import type { AlertKeyInfo, AlertKeyProblem } from '../../protocol/api';
import { badRequest } from '../http/errors';

/** A plain-text alert, as services/alerts.ts words it. */
export interface PlainAlert {
  to: string;
  subject: string;
  text: string;
}
/** An alert encrypted to the member's key: the armored OpenPGP message the mailer wraps as PGP/MIME. */
export interface EncryptedAlert {
  to: string;
  /** the outer, unencrypted subject: the same for every encrypted alert */
  subject: string;
  pgpMessage: string;
}

/**
 * The subject an encrypted alert travels under. Subjects are not encrypted, so this one tells
 * neither the kind of alert nor whether it is a digest, nor the software; the real subject is
 * inside, as a protected header (RFC 9788) that mail programs show once they decrypt.
 */
export const ENCRYPTED_SUBJECT = 'Encrypted alert';

const SHOWN_USER_IDS = 5;
const SHOWN_USER_ID_CHARS = 200;
const PROBLEM_WORDS: Record<AlertKeyProblem, string> = {
  expired: 'the key has expired: extend its expiry date and paste it again, or paste another key',
  revoked: 'the key is revoked: paste another key',
  cannot_encrypt: 'the key has no valid subkey that can encrypt (or uses an algorithm that is refused): paste another key',
};

/** Why this key cannot encrypt at `now`, or null if it can (checked with a real encryption). */
async function problemOf(key: openpgp.Key, now: number): Promise<AlertKeyProblem | null> {
  const date = new Date(now);
  // openpgp says why in words only: "Primary key is expired", "… Subkey is revoked", "Could not find valid encryption key packet …".
  const problem = (e: unknown): AlertKeyProblem => {
    const why = e instanceof Error ? e.message : '';
    return /expired/i.test(why) ? 'expired' : /revoked/i.test(why) ? 'revoked' : 'cannot_encrypt';
  };
  try {
    await key.verifyPrimaryKey(date);
    await key.getEncryptionKey(undefined, date);
  } catch (e) {
    return problem(e);
  }
  try {
    await openpgp.encrypt({ message: await openpgp.createMessage({ text: 'test' }), encryptionKeys: key, date });
  } catch {
    return 'cannot_encrypt';
  }
  return null;
}

async function infoOf(key: openpgp.Key, now: number): Promise<AlertKeyInfo> {
  const expiry = await key.getExpirationTime().catch(() => null);
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    userIds: key
      .getUserIDs()
      .slice(0, SHOWN_USER_IDS)
      .map((u) => u.slice(0, SHOWN_USER_ID_CHARS)),
    expires: expiry instanceof Date ? expiry.toISOString() : null,
    problem: await problemOf(key, now),
  };
}

const PRIVATE_KEY_REFUSED = badRequest(
  'private_key',
  'publicKey: this is a private key, and it was not stored. Paste the public key only (gpg --armor --export <address>) and keep the private key to yourself',
);

/**
 * Reads a pasted key and checks it: one ASCII-armored public key that encrypts at `now`.
 * Returns the key re-armored (what is stored) and what the member is shown; throws a 400
 * naming the problem otherwise. The pasted text is never logged or echoed.
 */
export async function checkAlertKey(pasted: string, now: number): Promise<{ armored: string; info: AlertKeyInfo }> {
  const text = pasted.trim();
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(text)) throw PRIVATE_KEY_REFUSED;
  if (!text.startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----'))
    throw badRequest(
      'unreadable_key',
      'publicKey: paste an ASCII-armored OpenPGP public key (it begins with -----BEGIN PGP PUBLIC KEY BLOCK-----)',
    );
  if (text.match(/-----BEGIN PGP /g)!.length > 1)
    throw badRequest('one_key_only', 'publicKey: holds more than one armored block; paste only the key alerts should be encrypted to');
  let keys: openpgp.Key[];
  try {
    keys = await openpgp.readKeys({ armoredKeys: text });
  } catch {
    throw badRequest('unreadable_key', 'publicKey: not a readable OpenPGP public key (damaged or incomplete: copy the whole block again)');
  }
  if (keys.some((k) => k.isPrivate())) throw PRIVATE_KEY_REFUSED;
  if (keys.length !== 1)
    throw badRequest('one_key_only', 'publicKey: holds more than one key; paste only the key alerts should be encrypted to');
  const [key] = keys;
  const info = await infoOf(key, now);
  if (info.problem) throw badRequest(`key_${info.problem}`, `publicKey: ${PROBLEM_WORDS[info.problem]}`);
  return { armored: key.armor(), info };
}

/** What the member's settings show of their stored key, checked again at `now`. */
export async function storedKeyInfo(armored: string, now: number): Promise<AlertKeyInfo> {
  let key: openpgp.Key;
  try {
    key = await openpgp.readKey({ armoredKey: armored });
  } catch {
    // Only a damaged row gets here (what is stored was read once already): the settings still open, and say the key does not work.
    return { fingerprint: '', userIds: [], expires: null, problem: 'cannot_encrypt' };
  }
  return infoOf(key, now);
}

/** CRLF lines, as MIME wants them. */
const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

/**
 * Every encrypted alert's entity is padded with blank lines to a multiple of this many bytes,
 * so that its size does not tell a new case from an answer, a match or a digest (OpenPGP
 * hides the words, not the length). Every alert's words fit in one block.
 */
export const ENCRYPTED_ALERT_BLOCK_BYTES = 2048;

function padded(entity: string): string {
  const bytes = Buffer.byteLength(entity, 'utf8');
  const size = Math.max(1, Math.ceil(bytes / ENCRYPTED_ALERT_BLOCK_BYTES)) * ENCRYPTED_ALERT_BLOCK_BYTES;
  const filler = size - bytes;
  // CRLF pairs, and one space when the gap is odd: trailing blank lines a mail program does not show.
  return entity + '\r\n'.repeat(Math.floor(filler / 2)) + ' '.repeat(filler % 2);
}

/**
 * Encrypts an alert to the member's key at `now`: the whole alert, its real subject included
 * (as a protected header), becomes one MIME entity inside the OpenPGP message, as RFC 3156
 * asks. Throws when the key no longer encrypts (expired, revoked): the caller must not send
 * the alert in the clear.
 */
export async function encryptAlert(alert: PlainAlert, armoredKey: string, now: number): Promise<EncryptedAlert> {
  const key = await openpgp.readKey({ armoredKey });
  const inner = padded(
    crlf(
      [
        'Content-Type: text/plain; charset=utf-8; protected-headers="v1"',
        'Content-Transfer-Encoding: 8bit',
        `Subject: ${alert.subject}`,
        '',
        alert.text,
      ].join('\n'),
    ),
  );
  // openpgp's result type names web streams, which the server's types do not include: checked here instead.
  const pgpMessage: unknown = await openpgp.encrypt({
    // Binary, so that the entity's bytes (CRLF lines) arrive exactly as written.
    message: await openpgp.createMessage({ binary: Buffer.from(inner, 'utf8') }),
    encryptionKeys: key,
    format: 'armored',
    date: new Date(now),
  });
  if (typeof pgpMessage !== 'string') throw new Error('openpgp returned no armored message');
  return { to: alert.to, subject: ENCRYPTED_SUBJECT, pgpMessage };
}
