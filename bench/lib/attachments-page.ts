/**
 * The browser side of bench/attachments.ts, bundled by it with esbuild and run in Chromium:
 * the client's record-by-record code (client/lib/attachment-records.ts, the functions the
 * upload and the download call for every record) and, as the baseline, one nacl.secretbox
 * over the whole file, on the same random bytes and in the same page.
 */
import nacl from 'tweetnacl';
import { makeManifest, newAttachmentKey } from '../../protocol';
import { openRecords, RecordSealer } from '../../client/lib/attachment-records';

export interface RoundTimes {
  /** milliseconds */
  clientEncrypt: number;
  clientDecrypt: number;
  baselineEncrypt: number;
  baselineDecrypt: number;
}

function randomFile(size: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(size);
  // getRandomValues fills at most 64 KiB at a time
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(data.subarray(at, Math.min(size, at + 65536)));
  return data;
}

async function client(data: Uint8Array<ArrayBuffer>): Promise<{ encrypt: number; decrypt: number }> {
  const k = newAttachmentKey();
  const sealer = new RecordSealer(new Blob([data]), k);
  let t = performance.now();
  const sealed: Uint8Array[] = [];
  for (let i = 0; i < sealer.records; i++) sealed.push(await sealer.sealed(i));
  const encrypt = performance.now() - t;
  const manifest = makeManifest({ id: 'bench', name: 'bench.bin', type: 'application/octet-stream', size: data.length }, k);
  t = performance.now();
  const opened = await openRecords(
    manifest,
    (i) => Promise.resolve(sealed[i]),
    () => undefined,
  );
  const decrypt = performance.now() - t;
  const back = new Uint8Array(await opened.arrayBuffer());
  if (back.length !== data.length || back.some((b, i) => b !== data[i])) throw new Error('the client round trip changed the file');
  return { encrypt, decrypt };
}

function baseline(data: Uint8Array): { encrypt: number; decrypt: number } {
  const key = nacl.randomBytes(nacl.secretbox.keyLength);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  let t = performance.now();
  const box = nacl.secretbox(data, nonce, key);
  const encrypt = performance.now() - t;
  t = performance.now();
  const opened = nacl.secretbox.open(box, nonce, key);
  const decrypt = performance.now() - t;
  if (!opened || opened.length !== data.length) throw new Error('the baseline round trip failed');
  return { encrypt, decrypt };
}

/** Rounds alternate which side goes first, so neither always runs on a warmer (or more fragmented) heap. */
async function run(size: number, rounds: number): Promise<RoundTimes[]> {
  const data = randomFile(size);
  const out: RoundTimes[] = [];
  for (let r = 0; r < rounds; r++) {
    let c: { encrypt: number; decrypt: number };
    let b: { encrypt: number; decrypt: number };
    if (r % 2 === 0) {
      c = await client(data);
      b = baseline(data);
    } else {
      b = baseline(data);
      c = await client(data);
    }
    out.push({ clientEncrypt: c.encrypt, clientDecrypt: c.decrypt, baselineEncrypt: b.encrypt, baselineDecrypt: b.decrypt });
  }
  return out;
}

(globalThis as { attachmentBench?: unknown }).attachmentBench = { run };
