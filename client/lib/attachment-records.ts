/**
 * The DOM-free half of evidence files (lib/attachments.ts is the other, with the network and
 * the messages): limits, sealing a record from a Blob, opening a file's records, and checking
 * manifests that come out of an opened envelope. No DOM and no catalog, so jest tests it as is.
 */
import {
  ATTACHMENT_ALG,
  ATTACHMENT_VERSION,
  manifestKey,
  openRecord,
  ProtocolError,
  RECORD_BYTES,
  recordCount,
  sealRecord,
  type AttachmentKey,
  type AttachmentManifest,
} from '../../protocol/survivor';
import type { InstanceInfo } from '../../protocol/api';

/** GET /api/instance `attachmentLimits`: the largest file, the most a case's files may total, the plaintext bytes of a record. */
export type AttachmentLimits = InstanceInfo['attachmentLimits'];

export const DEFAULT_LIMITS: AttachmentLimits = {
  fileBytes: 25 * 1024 * 1024,
  testimonyBytes: 100 * 1024 * 1024,
  recordBytes: RECORD_BYTES,
};
/** Files one testimony or message may carry: the server's MAX_ATTACHMENTS_PER_ENVELOPE (protocol/api.ts, which pages import only as types). */
export const MAX_ATTACHMENTS = 20;

/** The instance's limits, or the defaults where the server names none (or an unusable value). */
export function attachmentLimits(info: { attachmentLimits?: Partial<AttachmentLimits> | null }): AttachmentLimits {
  const given = info.attachmentLimits ?? {};
  const pick = (k: keyof AttachmentLimits) => (Number.isSafeInteger(given[k]) && given[k]! > 0 ? given[k]! : DEFAULT_LIMITS[k]);
  return { fileBytes: pick('fileBytes'), testimonyBytes: pick('testimonyBytes'), recordBytes: pick('recordBytes') };
}

/** Plaintext read from the Blob at once: each read is a round trip to the browser's blob store. */
export const READ_AHEAD_RECORDS = 16;

/**
 * Sealed records of a file, read from its Blob a window of READ_AHEAD_RECORDS at a time (1 MiB
 * of plaintext), so the whole file never sits in memory as ciphertext. Asking for a record
 * outside the window (a resume) reads the window that holds it.
 */
export class RecordSealer {
  private windowStart = -1;
  private window = new Uint8Array(0);
  readonly records: number;

  constructor(
    private readonly blob: Blob,
    readonly k: AttachmentKey,
  ) {
    this.records = recordCount(blob.size);
  }

  async sealed(index: number): Promise<Uint8Array<ArrayBuffer>> {
    const start = index - (index % READ_AHEAD_RECORDS);
    if (start !== this.windowStart) {
      this.window = new Uint8Array(await this.blob.slice(start * RECORD_BYTES, (start + READ_AHEAD_RECORDS) * RECORD_BYTES).arrayBuffer());
      this.windowStart = start;
    }
    const at = (index - start) * RECORD_BYTES;
    return sealRecord(this.k, index, index === this.records - 1, this.window.subarray(at, at + RECORD_BYTES)) as Uint8Array<ArrayBuffer>;
  }
}

/** Types a browser may show from a blob: URL; anything else is handed over as a download only. */
export function viewableType(type: string): string {
  return /^(image\/(jpeg|png|webp)|application\/pdf|audio\/[\w.+-]+)$/.test(type) ? type : 'application/octet-stream';
}

/**
 * Fetches and opens every record of a file in order, reporting how many records are done.
 * Throws the protocol's ProtocolError if a record is altered, reordered or taken from another
 * file, or the file was cut short; whatever `fetchRecord` throws passes through.
 */
export async function openRecords(
  m: AttachmentManifest,
  fetchRecord: (index: number) => Promise<Uint8Array>,
  progress: (records: number) => void,
): Promise<Blob> {
  const k = manifestKey(m);
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (let i = 0; i < m.records; i++) {
    const plain = openRecord(k, i, i === m.records - 1, await fetchRecord(i)) as Uint8Array<ArrayBuffer>;
    size += plain.length;
    parts.push(plain);
    progress(i + 1);
  }
  if (size !== m.size) throw new ProtocolError('decrypt_failed', 'the decrypted file does not have the size its manifest names');
  return new Blob(parts, { type: viewableType(m.type) });
}

const NAME = /^[A-Za-z0-9][\w.-]{0,99}$/;
const TYPE = /^[a-z]+\/[\w.+-]{1,100}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

const bad = () => new ProtocolError('bad_manifest', 'an attached file is described wrongly');

/**
 * The manifests named in an opened (signed, checked) testimony or message body, checked field
 * by field before anything uses them: a name safe to show and to save under, a plain MIME type,
 * a record count that matches the size, and a key and nonce base of the right length.
 */
export function checkManifests(value: unknown): AttachmentManifest[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_ATTACHMENTS) throw bad();
  return value.map((m: Partial<AttachmentManifest>) => {
    const ok =
      m?.v === ATTACHMENT_VERSION &&
      m.alg === ATTACHMENT_ALG &&
      typeof m.id === 'string' &&
      ID.test(m.id) &&
      typeof m.name === 'string' &&
      NAME.test(m.name) &&
      typeof m.type === 'string' &&
      TYPE.test(m.type) &&
      Number.isSafeInteger(m.size) &&
      m.size! >= 0 &&
      m.records === recordCount(m.size!) &&
      typeof m.key === 'string' &&
      typeof m.nonceBase === 'string';
    if (!ok) throw bad();
    manifestKey(m as AttachmentManifest); // throws bad_key on a wrong length
    const { v, alg, id, name, type, size, records, key, nonceBase } = m as AttachmentManifest;
    return { v, alg, id, name, type, size, records, key, nonceBase };
  });
}
