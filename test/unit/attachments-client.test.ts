/**
 * The DOM-free half of evidence files (client/lib/attachment-records.ts), with real tweetnacl
 * and Node's Blob: records sealed from a Blob one at a time are the protocol's records;
 * opening refuses a cut, altered or reordered file; manifests from an opened envelope are
 * checked field by field before use; limits fall back to the defaults. The upload and the
 * download, against the real server, are tested in Chromium (test/e2e/attachments-*.e2e.test.ts).
 */
import nacl from 'tweetnacl';
import {
  attachmentLimits,
  checkManifests,
  DEFAULT_LIMITS,
  MAX_ATTACHMENTS,
  openRecords,
  READ_AHEAD_RECORDS,
  RecordSealer,
  viewableType,
} from '../../client/lib/attachment-records';
import { encryptFile, makeManifest, newAttachmentKey, ProtocolError, RECORD_BYTES, type AttachmentManifest } from '../../protocol';
import { MAX_ATTACHMENTS_PER_ENVELOPE } from '../../protocol/api';

const SIZE = 2 * RECORD_BYTES + 1234;
const plain = nacl.randomBytes(SIZE);
const k = newAttachmentKey();
const manifest = makeManifest({ id: 'AbCdEfGhIjKlMnOpQrStUv', name: 'attachment-1.jpg', type: 'image/jpeg', size: SIZE }, k);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  throw new Error('expected a ProtocolError');
}

test('records sealed one by one from a Blob are exactly the protocol records, in order or resumed anywhere', async () => {
  const big = nacl.randomBytes(READ_AHEAD_RECORDS * RECORD_BYTES * 2 + 77); // three read windows
  const expected = encryptFile(big, k);
  const sealer = new RecordSealer(new Blob([big]), k);
  expect(sealer.records).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Buffer.from(await sealer.sealed(i)).equals(Buffer.from(expected[i]))).toBe(true);
  // a resume goes back, or jumps across windows
  for (const i of [3, READ_AHEAD_RECORDS * 2, 0, expected.length - 1, READ_AHEAD_RECORDS - 1])
    expect(Buffer.from(await sealer.sealed(i)).equals(Buffer.from(expected[i]))).toBe(true);
});

test('openRecords returns the file, typed, and reports progress per record', async () => {
  const records = encryptFile(plain, k);
  const progress: number[] = [];
  const blob = await openRecords(
    manifest,
    (i) => Promise.resolve(records[i]),
    (n) => progress.push(n),
  );
  expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(plain))).toBe(true);
  expect(blob.type).toBe('image/jpeg');
  expect(progress).toEqual([1, 2, 3]);
});

test('a cut, altered, reordered or foreign file is refused, naming which (lib/attachments.ts words each code)', async () => {
  const records = encryptFile(plain, k);
  const other = encryptFile(plain, newAttachmentKey());
  const flipped = records[1].slice();
  flipped[40] ^= 1;
  const cases: [string, (i: number) => Uint8Array, string][] = [
    // the records of a shorter version of the file, whose second record is its last
    ['cut short', (i) => encryptFile(plain.subarray(0, 2 * RECORD_BYTES - 5), k)[i], 'truncated'],
    ['altered', (i) => (i === 1 ? flipped : records[i]), 'decrypt_failed'],
    ['reordered', (i) => records[[1, 0, 2][i]], 'decrypt_failed'],
    ['from another file', (i) => (i === 1 ? other[1] : records[i]), 'decrypt_failed'],
  ];
  for (const [what, fetchRecord, code] of cases)
    expect({
      what,
      code: await codeOf(
        openRecords(
          manifest,
          (i) => Promise.resolve(fetchRecord(i)),
          () => undefined,
        ),
      ),
    }).toEqual({ what, code });
});

test('only types a browser shows safely keep their type; anything else is a download', () => {
  for (const t of ['image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'audio/mpeg', 'audio/ogg']) expect(viewableType(t)).toBe(t);
  for (const t of [
    'text/html',
    'image/svg+xml',
    'application/xhtml+xml',
    'text/javascript',
    'application/octet-stream',
    'image/jpeg; charset=x',
  ])
    expect(viewableType(t)).toBe('application/octet-stream');
});

describe('checkManifests', () => {
  test('accepts what makeManifest makes, and nothing in a body means no files', () => {
    expect(checkManifests([manifest])).toEqual([manifest]);
    expect(checkManifests(undefined)).toEqual([]);
  });

  test('drops fields it does not know', () => {
    expect(checkManifests([{ ...manifest, extra: 'x' }])).toEqual([manifest]);
  });

  const bad: [string, unknown][] = [
    ['not a list', manifest],
    ['too many', Array.from({ length: MAX_ATTACHMENTS + 1 }, () => manifest)],
    ['a path in the name', { ...manifest, name: '../staff.html' }],
    ['markup in the name', { ...manifest, name: '<img src=x>.jpg' }],
    ['an empty name', { ...manifest, name: '' }],
    ['a type with parameters', { ...manifest, type: 'text/html; charset=utf-8' }],
    ['records that do not match the size', { ...manifest, records: 2 }],
    ['a negative size', { ...manifest, size: -1 }],
    ['a short key', { ...manifest, key: manifest.key.slice(0, 20) }],
    ['a short nonce base', { ...manifest, nonceBase: manifest.nonceBase.slice(0, 8) }],
    ['another version', { ...manifest, v: 2 }],
    ['another algorithm', { ...manifest, alg: 'aes-gcm' }],
    ['an id that is not an id', { ...manifest, id: 'a/b' }],
    ['null', [null]],
  ];
  test.each(bad)('refuses %s', (_what, value) => {
    expect(() => checkManifests(value)).toThrow(ProtocolError);
  });
});

test('the page allows as many files per message as the server takes', () => {
  expect(MAX_ATTACHMENTS).toBe(MAX_ATTACHMENTS_PER_ENVELOPE);
});

test('limits: the server figures where valid, the defaults otherwise', () => {
  expect(attachmentLimits({})).toEqual(DEFAULT_LIMITS);
  expect(DEFAULT_LIMITS).toEqual({ fileBytes: 25 * 1024 * 1024, testimonyBytes: 100 * 1024 * 1024, recordBytes: 65536 });
  expect(attachmentLimits({ attachmentLimits: { fileBytes: 1000, testimonyBytes: 5000, recordBytes: 65536 } })).toEqual({
    fileBytes: 1000,
    testimonyBytes: 5000,
    recordBytes: 65536,
  });
  expect(attachmentLimits({ attachmentLimits: { fileBytes: -1, testimonyBytes: 1.5 } })).toEqual(DEFAULT_LIMITS);
});

test('the manifest type names what the reader gets', () => {
  const m: AttachmentManifest = { ...manifest, type: 'text/html' };
  return openRecords(
    m,
    (i) => Promise.resolve(encryptFile(plain, k)[i]),
    () => undefined,
  ).then((blob) => expect(blob.type).toBe('application/octet-stream'));
});
