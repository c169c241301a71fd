/**
 * Evidence files on the wire (protocol/attachment.ts): a cleaned file is sealed record by
 * record while it is uploaded, so at most one record of ciphertext is in memory; a dropped
 * connection is retried with backoff and resumed from what the server says it has received.
 * A reader downloads the records, opens each (the last with the final flag) and gets a Blob.
 * Shared by the survivor pages (upload) and the staff page (download).
 */
import { makeManifest, newAttachmentKey, ProtocolError, randomId, RECORD_BYTES, type AttachmentManifest } from '../../protocol/survivor';
import type { AttachmentUpload } from '../../protocol/api';
import { api, ApiFailure, apiGetBytes, apiPutBytes } from './api';
import { openRecords, RecordSealer } from './attachment-records';
import { LocalizedError, type MessageKey } from './messages';

export type { AttachmentManifest } from '../../protocol/survivor';
export { attachmentLimits, DEFAULT_LIMITS, MAX_ATTACHMENTS, viewableType, type AttachmentLimits } from './attachment-records';
export { formatSize, readManifests } from './attachment-view';

const MAX_ATTEMPTS = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** 0.25 s, 0.5 s, 1 s… up to 15 s: about 75 s in all before giving up. */
const backoff = (attempt: number) => Math.min(15_000, 250 * 2 ** (attempt - 1));
/** Worth another try: no answer at all, a proxy or server in trouble, or the per-minute rate limit (not 429 too_many_uploads). */
const transient = (e: unknown) =>
  e instanceof ApiFailure &&
  (e.status === 0 || (e.status === 429 && e.code === 'rate_limited') || e.status === 502 || e.status === 503 || e.status === 504);

/** Runs a request again after transient failures, calling `retrying` before each new attempt. */
async function withRetries<T>(request: () => Promise<T>, retrying?: () => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (e) {
      if (!transient(e) || attempt >= MAX_ATTEMPTS) throw e;
      retrying?.();
      await sleep(backoff(attempt));
    }
  }
}

export interface CleanFile {
  blob: Blob;
  /** the neutral name the reader sees */
  name: string;
  type: string;
}

export interface UploadEvents {
  /** plaintext bytes the server has confirmed */
  progress(sentBytes: number): void;
  /** a request failed and will be tried again */
  retrying?: () => void;
}

/**
 * Uploads one cleaned file (POST, then PUT record by record, then close) and returns its
 * manifest, to be sealed into the testimony or message. After a network failure it waits,
 * asks the server how many records it has (a record may have arrived though its answer was
 * lost) and goes on from there, re-sealing from the Blob: the same key and index give the same
 * record.
 */
export async function uploadAttachment(file: CleanFile, token: string, events: UploadEvents): Promise<AttachmentManifest> {
  const size = file.blob.size;
  const sealer = new RecordSealer(file.blob, newAttachmentKey());
  const records = sealer.records;
  const base = '/api/survivor/attachments';
  // Its id is chosen here, so that a create sent again after a lost answer finds the upload the first one made.
  const id = randomId();
  const created = await withRetries(() => api<AttachmentUpload>('POST', base, { size, records, id }, token), events.retrying);
  const at = `${base}/${encodeURIComponent(created.id)}`;
  const status = () => withRetries(() => api<AttachmentUpload>('GET', at, undefined, token), events.retrying);

  let next = created.received;
  let failures = 0;
  while (next < records) {
    try {
      const { received } = await apiPutBytes<{ received: number }>(`${at}/records/${next}`, await sealer.sealed(next), token);
      next = Number.isSafeInteger(received) && received > next && received <= records ? received : next + 1;
      failures = 0;
      events.progress(Math.min(size, next * RECORD_BYTES));
    } catch (e) {
      // The server already has this record, or expects another: ask it where to go on.
      const conflict = e instanceof ApiFailure && e.status === 409 && (e.code === 'duplicate_record' || e.code === 'out_of_order');
      if ((!conflict && !transient(e)) || ++failures >= MAX_ATTEMPTS) throw e;
      if (!conflict) {
        events.retrying?.();
        await sleep(backoff(failures));
      }
      next = (await status()).received;
    }
  }
  try {
    await withRetries(() => api('POST', `${at}/close`, {}, token), events.retrying);
  } catch (e) {
    // A close whose answer was lost: the upload is closed all the same.
    const now = await status();
    if (!now.closed || now.received !== records) throw e;
  }
  return makeManifest({ id: created.id, name: file.name, type: file.type, size }, sealer.k);
}

const PROBLEMS: Record<string, MessageKey> = {
  truncated: 'attachment.truncated',
  extra_records: 'attachment.altered',
  decrypt_failed: 'attachment.altered',
};

/** openRecords, with a cut, altered or missing file said in plain words (a LocalizedError). */
export async function decryptRecords(
  m: AttachmentManifest,
  fetchRecord: (index: number) => Promise<Uint8Array>,
  progress: (records: number) => void,
): Promise<Blob> {
  try {
    return await openRecords(m, fetchRecord, progress);
  } catch (e) {
    if (e instanceof ProtocolError) throw new LocalizedError(PROBLEMS[e.code] ?? 'attachment.badManifest');
    if (e instanceof ApiFailure && e.status === 404) throw new LocalizedError('attachment.missing');
    throw e;
  }
}

/** Downloads and decrypts a file whose record `i` is at `recordPath(i)`. */
export function downloadAttachment(
  m: AttachmentManifest,
  recordPath: (index: number) => string,
  progress: (records: number) => void,
  bearer?: string,
): Promise<Blob> {
  return decryptRecords(m, (i) => withRetries(() => apiGetBytes(recordPath(i), bearer)), progress);
}
