/**
 * protocol/attachment.ts: evidence files sealed in 64 KiB records (STREAM on secretbox). A
 * file round-trips; a truncated, reordered, swapped, extended or altered one fails with an
 * error that says which. Real tweetnacl throughout; the properties use fast-check.
 */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import {
  ATTACHMENT_ALG,
  decryptFile,
  encryptFile,
  makeManifest,
  manifestKey,
  newAttachmentKey,
  openRecord,
  RECORD_BYTES,
  RECORD_OVERHEAD,
  recordCiphertextLength,
  recordCount,
  recordNonce,
  sealRecord,
  type AttachmentKey,
} from '../../protocol/attachment';
import { fromBase64url, ProtocolError } from '../../protocol/encoding';
import { deterministicRandom } from '../vectors/deterministic-random';
import { expectProtocolError, flipBit, protocolErrorOf } from './helpers';

const manifestOf = (size: number, k: AttachmentKey) =>
  makeManifest({ id: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'evidence-1', type: 'image/png', size }, k);
const fileOf = (size: number) => nacl.randomBytes(size);

describe('record layout', () => {
  it.each([
    [0, 1],
    [1, 1],
    [RECORD_BYTES - 1, 1],
    [RECORD_BYTES, 1],
    [RECORD_BYTES + 1, 2],
    [3 * RECORD_BYTES, 3],
    [25 * 1024 * 1024, 400],
  ])('a file of %i bytes takes %i record(s)', (size, records) => {
    expect(recordCount(size)).toBe(records);
  });

  it('every record but the last is a full record plus the tag; the last holds the rest', () => {
    const size = 2 * RECORD_BYTES + 7;
    expect([0, 1, 2].map((i) => recordCiphertextLength(size, i))).toEqual([RECORD_BYTES + 16, RECORD_BYTES + 16, 7 + 16]);
    expect(recordCiphertextLength(0, 0)).toBe(RECORD_OVERHEAD);
    expect(RECORD_OVERHEAD).toBe(16);
  });

  it('refuses sizes and indexes that name no record', () => {
    for (const size of [-1, 1.5, Number.NaN, 2 ** 53]) expectProtocolError(() => recordCount(size), 'bad_size');
    expectProtocolError(() => recordCiphertextLength(10, 1), 'bad_record');
    expectProtocolError(() => recordCiphertextLength(10, -1), 'bad_record');
  });

  it('the nonce is base || uint32be(index) || final flag || three zero bytes', () => {
    const base = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    expect(Array.from(recordNonce(base, 0x01020304, true).subarray(16))).toEqual([1, 2, 3, 4, 1, 0, 0, 0]);
    expect(Array.from(recordNonce(base, 7, false).subarray(16))).toEqual([0, 0, 0, 7, 0, 0, 0, 0]);
    expect(Array.from(recordNonce(base, 7, false).subarray(0, 16))).toEqual(Array.from(base));
    expect(recordNonce(base, 0, false).length).toBe(nacl.secretbox.nonceLength);
    expectProtocolError(() => recordNonce(base.subarray(1), 0, false), 'bad_key');
    expectProtocolError(() => recordNonce(base, 2 ** 32, false), 'bad_record');
  });

  it('a record is exactly secretbox under that nonce (so any NaCl library can open it)', () => {
    const k = newAttachmentKey(deterministicRandom('attachment-layout'));
    const plain = fileOf(100);
    const sealed = sealRecord(k, 3, true, plain);
    expect(nacl.secretbox.open(sealed, recordNonce(k.nonceBase, 3, true), k.key)).toEqual(plain);
  });

  it('only the final record may be short, and none may be longer than a record', () => {
    const k = newAttachmentKey();
    expectProtocolError(() => sealRecord(k, 0, false, fileOf(10)), 'bad_record');
    expectProtocolError(() => sealRecord(k, 0, true, fileOf(RECORD_BYTES + 1)), 'bad_record');
  });

  it('each file gets a fresh key and nonce base', () => {
    const a = newAttachmentKey();
    const b = newAttachmentKey();
    expect(a.key.length).toBe(32);
    expect(a.nonceBase.length).toBe(16);
    expect(a.key).not.toEqual(b.key);
    expect(a.nonceBase).not.toEqual(b.nonceBase);
  });
});

describe('the manifest', () => {
  it('names the algorithm, the size and the record count, and carries the key in base64url', () => {
    const k = newAttachmentKey();
    const m = manifestOf(RECORD_BYTES + 1, k);
    expect(m).toMatchObject({ v: 1, alg: ATTACHMENT_ALG, size: RECORD_BYTES + 1, records: 2 });
    expect(fromBase64url(m.key)).toEqual(k.key);
    expect(manifestKey(m)).toEqual(k);
  });

  it('a key or nonce base of the wrong length is refused', () => {
    const m = manifestOf(1, newAttachmentKey());
    expectProtocolError(() => manifestKey({ ...m, key: m.nonceBase }), 'bad_key');
    expectProtocolError(() => manifestKey({ ...m, nonceBase: m.key }), 'bad_key');
  });

  it('a record count that does not match the size is refused before anything is decrypted', () => {
    const k = newAttachmentKey();
    const records = encryptFile(fileOf(10), k);
    expectProtocolError(() => decryptFile(records, { ...manifestOf(10, k), records: 2 }), 'bad_manifest');
  });
});

describe('round trip', () => {
  it.each([0, 1, RECORD_BYTES - 1, RECORD_BYTES, RECORD_BYTES + 1, 3 * RECORD_BYTES + 12_345])(
    'a file of %i bytes decrypts to the same bytes',
    (size) => {
      const file = fileOf(size);
      const k = newAttachmentKey();
      const records = encryptFile(file, k);
      expect(records.length).toBe(recordCount(size));
      records.forEach((r, i) => expect(r.length).toBe(recordCiphertextLength(size, i)));
      expect(decryptFile(records, manifestOf(size, k))).toEqual(file);
    },
  );

  it('any file round-trips, with records of exactly the lengths the server expects (property)', () => {
    // Sizes cluster around record boundaries, where off-by-one errors live.
    const size = fc.oneof(
      fc.integer({ min: 0, max: 3 * RECORD_BYTES }),
      fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -2, max: 2 })).map(([n, d]) => Math.max(0, n * RECORD_BYTES + d)),
    );
    const recordCounts = new Set<number>();
    fc.assert(
      fc.property(size, fc.integer(), (n, seed) => {
        const file = nacl.randomBytes(n);
        const k = newAttachmentKey(deterministicRandom(`round-trip-${seed}`));
        const records = encryptFile(file, k);
        recordCounts.add(records.length);
        if (records.length !== recordCount(n)) return false;
        if (!records.every((r, i) => r.length === recordCiphertextLength(n, i))) return false;
        return Buffer.from(decryptFile(records, manifestOf(n, k))).equals(Buffer.from(file));
      }),
      { numRuns: 40 },
    );
    // The runs covered single- and multi-record files, not only tiny ones.
    expect(Math.min(...recordCounts)).toBe(1);
    expect(Math.max(...recordCounts)).toBeGreaterThanOrEqual(3);
  });
});

describe('a file tampered with does not decrypt, and the error says how', () => {
  const k = newAttachmentKey();
  const size = 3 * RECORD_BYTES + 100;
  const file = fileOf(size);
  const records = encryptFile(file, k);
  const manifest = manifestOf(size, k);

  it('the last record cut off: truncated', () => {
    const e = expectProtocolError(() => decryptFile(records.slice(0, 3), manifest), 'truncated');
    expect(e.message).toMatch(/ends after record 3 of 4/);
  });

  it('cut after a middle record, even under a manifest shortened to match: truncated', () => {
    // The manifest is signed inside the envelope; were it not, the final flag would still tell.
    const e = expectProtocolError(() => decryptFile(records.slice(0, 2), { ...manifest, size: 2 * RECORD_BYTES, records: 2 }), 'truncated');
    expect(e.message).toMatch(/record 2 is not the last record/);
  });

  it('two records swapped: decrypt_failed naming the first misplaced record', () => {
    const swapped = [records[0], records[2], records[1], records[3]];
    const e = expectProtocolError(() => decryptFile(swapped, manifest), 'decrypt_failed');
    expect(e.message).toMatch(/record 2 does not decrypt: it was altered, reordered or taken from another file/);
  });

  it('a middle record dropped (the rest moved up): decrypt_failed at the first moved record', () => {
    const e = expectProtocolError(() => decryptFile([records[0], records[2], records[3]], manifest), 'decrypt_failed');
    expect(e.message).toMatch(/record 2 does not decrypt/);
  });

  it('a record from another file at the same position: decrypt_failed', () => {
    const other = encryptFile(fileOf(size), newAttachmentKey());
    expectProtocolError(() => decryptFile([records[0], other[1], records[2], records[3]], manifest), 'decrypt_failed');
  });

  it('a record appended after the end: extra_records', () => {
    expectProtocolError(() => decryptFile([...records, records[3]], manifest), 'extra_records');
  });

  it('a full middle record opened as the last: the reader is told the file was cut short', () => {
    const e = expectProtocolError(() => openRecord(k, 1, true, records[1]), 'truncated');
    expect(e.message).toMatch(/not the last record/);
  });

  it('the last record opened in the middle: the reader is told the file ends early', () => {
    const e = expectProtocolError(() => openRecord(k, 3, false, records[3]), 'truncated');
    expect(e.message).toMatch(/marked as the last/);
  });

  it('one flipped bit anywhere in a record: decrypt_failed', () => {
    for (const [i, position] of [
      [0, 0],
      [1, 40_000],
      [3, records[3].length - 1],
    ]) {
      const altered = records.slice();
      altered[i] = flipBit(records[i], position, position % 8);
      expectProtocolError(() => decryptFile(altered, manifest), 'decrypt_failed');
    }
  });

  it('any reordering, truncation or extension of a file fails to decrypt (property)', () => {
    const small = fileOf(4 * RECORD_BYTES + 3);
    const sealed = encryptFile(small, k);
    const m = manifestOf(small.length, k);
    const indexes = sealed.map((_, i) => i);
    const tampered = fc.oneof(
      fc
        .shuffledSubarray(indexes, { minLength: 1, maxLength: sealed.length })
        .filter((order) => order.some((x, i) => x !== i) || order.length < sealed.length),
      fc.array(fc.constantFrom(...indexes), { minLength: sealed.length + 1, maxLength: sealed.length + 2 }),
    );
    fc.assert(
      fc.property(tampered, (order) => {
        const e = protocolErrorOf(() =>
          decryptFile(
            order.map((i) => sealed[i]),
            m,
          ),
        );
        return e instanceof ProtocolError && ['truncated', 'decrypt_failed', 'extra_records'].includes(e.code) && e.message.length > 0;
      }),
      { numRuns: 60 },
    );
  });
});
