/**
 * Attachments (evidence files): encrypted in records so a 25 MB file never has to sit in
 * memory twice, and uploaded record by record so a dropped connection resumes.
 *
 *   key       = 32 random bytes, one per file
 *   nonceBase = 16 random bytes, one per file
 *   nonce(i)  = nonceBase || uint32be(i) || final(i) ? 0x01 : 0x00 || 0x00 0x00 0x00   (24 bytes)
 *   record(i) = secretbox(plaintext[i*64KiB .. (i+1)*64KiB], nonce(i), key)
 *
 * Every record but the last holds exactly RECORD_BYTES of plaintext; the last holds 0 to
 * RECORD_BYTES and is sealed with the final flag, so an empty file is one empty final record.
 * The index in the nonce detects reordering, the final flag detects truncation (and records
 * appended after the end), and a per-file key and base detect records swapped between files.
 * (This is the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, on secretbox.)
 *
 * The key and base travel in an AttachmentManifest inside the testimony's or message's
 * envelope, so the server stores records it cannot read and cannot tie to a file name.
 */
import nacl from 'tweetnacl';
import { concatBytes, fromBase64url, ProtocolError, toBase64url } from './encoding';

export const ATTACHMENT_VERSION = 1;
export const ATTACHMENT_ALG = 'xsalsa20poly1305-stream64k';
/** plaintext bytes in every record but the last */
export const RECORD_BYTES = 64 * 1024;
/** what secretbox adds to each record */
export const RECORD_OVERHEAD = nacl.secretbox.overheadLength;
export const NONCE_BASE_BYTES = 16;

/** What a reader needs to fetch and open one file; sealed inside an envelope, never sent alone. */
export interface AttachmentManifest {
  v: typeof ATTACHMENT_VERSION;
  alg: typeof ATTACHMENT_ALG;
  /** the server's id for the uploaded records */
  id: string;
  /** a neutral name chosen by the sender's browser (never the original file name) */
  name: string;
  /** MIME type of the cleaned file */
  type: string;
  /** plaintext bytes */
  size: number;
  records: number;
  key: string;
  nonceBase: string;
}

export interface AttachmentKey {
  key: Uint8Array;
  nonceBase: Uint8Array;
}

export function newAttachmentKey(random: (n: number) => Uint8Array = (n) => nacl.randomBytes(n)): AttachmentKey {
  return { key: random(nacl.secretbox.keyLength), nonceBase: random(NONCE_BASE_BYTES) };
}

/** How many records a file of `size` plaintext bytes takes (at least one). */
export function recordCount(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new ProtocolError('bad_size', 'an attachment size must be a whole number of bytes');
  return Math.max(1, Math.ceil(size / RECORD_BYTES));
}

/** The ciphertext length of record `index` of a file of `size` bytes: what the server expects. */
export function recordCiphertextLength(size: number, index: number): number {
  const records = recordCount(size);
  if (!Number.isInteger(index) || index < 0 || index >= records)
    throw new ProtocolError('bad_record', `record ${index} is outside a file of ${records} records`);
  const plain = index < records - 1 ? RECORD_BYTES : size - RECORD_BYTES * (records - 1);
  return plain + RECORD_OVERHEAD;
}

export function recordNonce(nonceBase: Uint8Array, index: number, final: boolean): Uint8Array {
  if (nonceBase.length !== NONCE_BASE_BYTES) throw new ProtocolError('bad_key', 'an attachment nonce base must be 16 bytes');
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff)
    throw new ProtocolError('bad_record', 'a record index must fit in 32 bits');
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(0, index, false);
  tail[4] = final ? 1 : 0;
  return concatBytes(nonceBase, tail);
}

export function sealRecord(k: AttachmentKey, index: number, final: boolean, plaintext: Uint8Array): Uint8Array {
  if (plaintext.length > RECORD_BYTES) throw new ProtocolError('bad_record', `a record holds at most ${RECORD_BYTES} bytes`);
  if (!final && plaintext.length !== RECORD_BYTES)
    throw new ProtocolError('bad_record', 'only the final record may be shorter than a full record');
  return nacl.secretbox(plaintext, recordNonce(k.nonceBase, index, final), k.key);
}

export function openRecord(k: AttachmentKey, index: number, final: boolean, ciphertext: Uint8Array): Uint8Array {
  const plain = nacl.secretbox.open(ciphertext, recordNonce(k.nonceBase, index, final), k.key);
  if (!plain) {
    // Tell truncation apart from tampering: a record that opens as final where a middle one was expected.
    if (!final && nacl.secretbox.open(ciphertext, recordNonce(k.nonceBase, index, true), k.key)) {
      throw new ProtocolError('truncated', `the file ends early: record ${index + 1} is marked as the last but more were expected`);
    }
    if (final && nacl.secretbox.open(ciphertext, recordNonce(k.nonceBase, index, false), k.key)) {
      throw new ProtocolError('truncated', `the file was cut short: record ${index + 1} is not the last record`);
    }
    throw new ProtocolError('decrypt_failed', `record ${index + 1} does not decrypt: it was altered, reordered or taken from another file`);
  }
  if (!final && plain.length !== RECORD_BYTES)
    throw new ProtocolError('decrypt_failed', `record ${index + 1} is shorter than a full record`);
  return plain;
}

/** Encrypts a whole file into its records (in memory; browsers can also seal record by record). */
export function encryptFile(bytes: Uint8Array, k: AttachmentKey): Uint8Array[] {
  const records = recordCount(bytes.length);
  const out: Uint8Array[] = [];
  for (let i = 0; i < records; i++) {
    out.push(sealRecord(k, i, i === records - 1, bytes.subarray(i * RECORD_BYTES, Math.min(bytes.length, (i + 1) * RECORD_BYTES))));
  }
  return out;
}

export function manifestKey(m: Pick<AttachmentManifest, 'key' | 'nonceBase'>): AttachmentKey {
  const key = fromBase64url(m.key);
  const nonceBase = fromBase64url(m.nonceBase);
  if (key.length !== nacl.secretbox.keyLength || nonceBase.length !== NONCE_BASE_BYTES)
    throw new ProtocolError('bad_key', 'the manifest key or nonce base has the wrong length');
  return { key, nonceBase };
}

/**
 * Decrypts the records of a file as the manifest describes it. Throws a ProtocolError naming
 * the problem: too few records (truncated), too many, or a record altered, reordered or
 * swapped in from another file.
 */
export function decryptFile(
  records: Uint8Array[],
  manifest: Pick<AttachmentManifest, 'key' | 'nonceBase' | 'size' | 'records'>,
): Uint8Array {
  const k = manifestKey(manifest);
  if (manifest.records !== recordCount(manifest.size))
    throw new ProtocolError('bad_manifest', 'the manifest record count does not match its size');
  if (records.length > manifest.records)
    throw new ProtocolError('extra_records', `the file has ${records.length} records where ${manifest.records} were expected`);
  const parts = records.map((r, i) => openRecord(k, i, i === manifest.records - 1, r));
  if (records.length < manifest.records)
    throw new ProtocolError('truncated', `the file ends after record ${records.length} of ${manifest.records}`);
  const plain = concatBytes(...parts);
  if (plain.length !== manifest.size)
    throw new ProtocolError('decrypt_failed', 'the decrypted file does not have the size its manifest names');
  return plain;
}

export function makeManifest(fields: { id: string; name: string; type: string; size: number }, k: AttachmentKey): AttachmentManifest {
  return {
    v: ATTACHMENT_VERSION,
    alg: ATTACHMENT_ALG,
    ...fields,
    records: recordCount(fields.size),
    key: toBase64url(k.key),
    nonceBase: toBase64url(k.nonceBase),
  };
}
