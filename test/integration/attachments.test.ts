/**
 * Evidence files through the API with the real protocol (issue 5): a survivor's browser seals
 * a file into 64 KiB records, uploads them one by one (resuming after a cut connection),
 * closes the upload and attaches it to a testimony or message; a moderator fetches the records
 * and decrypts the very same bytes. Every refusal names its problem and changes nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  decryptFile,
  encryptFile,
  envelopeHash,
  makeGrant,
  newAttachmentKey,
  openEnvelope,
  randomId,
  readersOf,
  RECORD_BYTES,
  RECORD_OVERHEAD,
  sealEnvelope,
  utcDay,
  type AttachmentManifest,
} from '../../protocol';
import type { StaffCaseDetail } from '../../protocol/api';
import { staleCutoffDay } from '../../server/db/attachment-repo';
import { sweepExpired } from '../../server/sweeper';
import { MAX_PENDING_UPLOADS } from '../../server/routes/attachments';
import {
  addStaff,
  asSurvivor,
  currentKeyset,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
  UNIQUE_VIOLATION,
  unchanged as unchangedIn,
} from '../support/harness';
import { interleave } from '../support/interleave';
import { expectError } from './expect-error';

const MB = 1024 * 1024;
let t: TestServer;
let admin: StaffActor;
let mod: StaffActor;
let advocate: StaffActor;
let survivor: SurvivorActor;
let other: SurvivorActor;

beforeAll(async () => {
  t = await makeTestServer({ ATTACHMENT_MAX_FILE_MB: '1', ATTACHMENT_MAX_TESTIMONY_MB: '2' });
  admin = await setupAdmin(t, ['admin']);
  mod = await addStaff(t, admin, 'mod.one');
  advocate = await addStaff(t, admin, 'adv.one', 'advocate');
  survivor = await registerSurvivor(t);
  other = await registerSurvivor(t);
});
afterAll(async () => {
  // A successful staff request records its session's last-seen time after the response; let it land.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await t.close();
});

/** Runs fn and asserts that no table (but the rate-limit counters) changed meanwhile. */
const unchanged = <T>(fn: () => Promise<T>): Promise<T> => unchangedIn(t, fn);

/** A file whose bytes say where they are, so a misplaced record would show. */
function fileOf(size: number): Uint8Array {
  const bytes = nacl.randomBytes(size);
  for (let i = 0; i + 8 <= size; i += 4096) bytes.set(new TextEncoder().encode(String(i).padStart(8, '0')), i);
  return bytes;
}

async function openCase(caseId: string): Promise<StaffCaseDetail> {
  const res = await mod.agent.get(`/api/staff/cases/${caseId}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** What a moderator's browser does: read the manifests in the envelope, fetch every record, decrypt. */
async function downloadAsModerator(caseId: string, seq: number): Promise<Uint8Array[]> {
  const item = (await openCase(caseId)).thread.find((i) => i.seq === seq)!;
  const survivorSignPk = (await openCase(caseId)).survivorSignPk;
  const opened = openEnvelope<{ attachments?: AttachmentManifest[] }>(item.envelope, {
    box: mod.box,
    expectedKind: item.envelope.kind,
    expectedCaseId: caseId,
    trustedSigners: [Buffer.from(survivorSignPk, 'base64url')],
  });
  const files: Uint8Array[] = [];
  for (const manifest of opened.body.attachments ?? []) {
    const meta = await mod.agent.get(`/api/staff/attachments/${manifest.id}`);
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual({ id: manifest.id, caseId, size: manifest.size, records: manifest.records });
    const records: Uint8Array[] = [];
    for (let i = 0; i < meta.body.records; i++) {
      const rec = await mod.agent.get(`/api/staff/attachments/${manifest.id}/records/${i}`).buffer(true);
      expect(rec.status).toBe(200);
      expect(rec.headers['content-type']).toBe('application/octet-stream');
      records.push(new Uint8Array(rec.body as Buffer));
    }
    files.push(decryptFile(records, manifest));
  }
  return files;
}

test('GET /api/instance tells the browser the limits before it uploads anything', async () => {
  const res = await request(t.app).get('/api/instance');
  expect(res.body.attachmentLimits).toEqual({ fileBytes: 1 * MB, testimonyBytes: 2 * MB, recordBytes: RECORD_BYTES });
  const defaults = await makeTestServer();
  try {
    expect((await request(defaults.app).get('/api/instance')).body.attachmentLimits).toEqual({
      fileBytes: 25 * MB,
      testimonyBytes: 100 * MB,
      recordBytes: 65536,
    });
  } finally {
    await defaults.close();
  }
});

describe('an upload cut mid-record', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer(t.app as http.RequestListener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends the headers and half of a record's bytes over a real socket, then drops the connection. */
  async function sendHalfAndCut(id: string, index: number, record: Uint8Array): Promise<void> {
    const handled = new Promise<void>((resolve) => server.once('request', (_req, res) => res.once('close', resolve)));
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `/api/survivor/attachments/${id}/records/${index}`,
      headers: { Authorization: `Bearer ${survivor.token}`, 'Content-Type': 'application/octet-stream', 'Content-Length': record.length },
    });
    req.on('error', () => undefined); // the cut is the point
    await new Promise<void>((resolve) => req.write(record.subarray(0, record.length >> 1), () => resolve()));
    req.destroy();
    await handled;
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the route's own rejection run
  }

  test('resumes from `received`, and a moderator decrypts the identical file', async () => {
    const file = fileOf(3 * RECORD_BYTES + 12_345);
    const key = newAttachmentKey();
    const records = encryptFile(file, key);
    expect(records.map((r) => r.length)).toEqual([RECORD_BYTES + 16, RECORD_BYTES + 16, RECORD_BYTES + 16, 12_345 + 16]);
    const as = asSurvivor(t, survivor);

    const created = await as.post('/api/survivor/attachments', { size: file.length, records: records.length });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    expect(created.body).toEqual({ id, size: file.length, records: 4, received: 0, closed: false });
    for (const i of [0, 1]) expect((await as.putRecord(id, i, records[i])).body).toEqual({ received: i + 1 });

    // The connection drops in the middle of record 2: nothing of it is kept.
    await sendHalfAndCut(id, 2, records[2]);
    const status = await as.get(`/api/survivor/attachments/${id}`);
    expect(status.body).toEqual({ id, size: file.length, records: 4, received: 2, closed: false });
    expect(await t.db('attachment_records').where({ attachment_id: id }).count({ n: '*' })).toEqual([{ n: 2 }]);

    // The browser goes on from what the server says it holds.
    for (let i = status.body.received; i < records.length; i++) expect((await as.putRecord(id, i, records[i])).status).toBe(200);
    expect((await as.post(`/api/survivor/attachments/${id}/close`)).body).toEqual({ id, closed: true });

    const manifest: AttachmentManifest = {
      v: 1,
      alg: 'xsalsa20poly1305-stream64k',
      id,
      name: 'evidence-1',
      type: 'image/png',
      size: file.length,
      records: 4,
      key: Buffer.from(key.key).toString('base64url'),
      nonceBase: Buffer.from(key.nonceBase).toString('base64url'),
    };
    const { res, envelope } = await submitTestimony(t, survivor, 'with a screenshot', [manifest]);
    expect(res.status).toBe(201);
    const [downloaded] = await downloadAsModerator(envelope.caseId, 0);
    expect(Buffer.from(downloaded).equals(Buffer.from(file))).toBe(true);

    // The stored records are the sealed ones, byte for byte, and none is the plaintext.
    const stored: { idx: number; data: Buffer }[] = await t.db('attachment_records').where({ attachment_id: id }).orderBy('idx');
    expect(stored.map((r) => r.idx)).toEqual([0, 1, 2, 3]);
    stored.forEach((r, i) => expect(r.data.equals(Buffer.from(records[i]))).toBe(true));
    expect(stored.some((r) => r.data.includes(Buffer.from(file.subarray(100, 132))))).toBe(false);
  });
});

test('an empty file is one sealed record of 16 bytes, and comes back empty', async () => {
  const uploaded = await uploadFile(t, survivor, new Uint8Array(0));
  expect(uploaded.records.map((r) => r.length)).toEqual([RECORD_OVERHEAD]);
  const { res, envelope } = await submitTestimony(t, survivor, 'an empty file', [uploaded.manifest]);
  expect(res.status).toBe(201);
  const [file] = await downloadAsModerator(envelope.caseId, 0);
  expect(file.length).toBe(0);
});

describe('records that do not belong', () => {
  let up: Awaited<ReturnType<typeof uploadFile>>;
  beforeAll(async () => {
    up = await uploadFile(t, survivor, fileOf(2 * RECORD_BYTES + 10), { upTo: 1 });
  });
  const as = () => asSurvivor(t, survivor);

  test.each<[string, () => Promise<request.Response>, number, string, (string | RegExp)[]]>([
    [
      'a record sent twice',
      () => as().putRecord(up.id, 0, up.records[0]),
      409,
      'duplicate_record',
      ['record 0 is already stored', 'next record is 1'],
    ],
    ['a record out of order', () => as().putRecord(up.id, 2, up.records[2]), 409, 'out_of_order', ['next record is 1', 'not 2']],
    ['an index past the end', () => as().putRecord(up.id, 3, up.records[2]), 400, 'bad_index', ['index', '3 record(s)']],
    [
      'a record one byte short',
      () => as().putRecord(up.id, 1, up.records[1].subarray(1)),
      400,
      'bad_length',
      [`exactly ${RECORD_BYTES + 16} bytes`],
    ],
    ['the final record in place of a full one', () => as().putRecord(up.id, 1, up.records[2]), 400, 'bad_length', ['record 1']],
    ['an empty body', () => as().putRecord(up.id, 1, new Uint8Array(0)), 400, 'bad_length', ['not 0']],
    [
      'a body over one record',
      () => as().putRecord(up.id, 1, new Uint8Array(RECORD_BYTES + RECORD_OVERHEAD + 1)),
      413,
      'body_too_large',
      [`at most ${RECORD_BYTES + RECORD_OVERHEAD} bytes`],
    ],
    ['a body of a megabyte', () => as().putRecord(up.id, 1, new Uint8Array(MB)), 413, 'body_too_large', []],
    [
      'a record sent as JSON',
      () => as().putRecord(up.id, 1, up.records[1], 'application/json'),
      415,
      'unsupported_media_type',
      ['application/octet-stream'],
    ],
    [
      'a record sent as text',
      () => as().putRecord(up.id, 1, up.records[1], 'text/plain'),
      415,
      'unsupported_media_type',
      ['application/octet-stream'],
    ],
    ['a record to an unknown upload', () => as().putRecord(randomId(), 0, up.records[0]), 404, 'not_found', ['no upload of yours']],
    [
      "a record to another survivor's upload",
      () => asSurvivor(t, other).putRecord(up.id, 1, up.records[1]),
      404,
      'not_found',
      ['no upload of yours'],
    ],
    [
      'a record without a token',
      () =>
        request(t.app)
          .put(`/api/survivor/attachments/${up.id}/records/1`)
          .set('Content-Type', 'application/octet-stream')
          .send(Buffer.from(up.records[1])),
      401,
      'unauthorized',
      [],
    ],
    [
      'a record with a path index that is not plain digits',
      () => as().putRecord(up.id, '1e0', up.records[1]),
      400,
      'invalid_request',
      ['index: must be a record index'],
    ],
    ['a record with a negative index', () => as().putRecord(up.id, '-1', up.records[1]), 400, 'invalid_request', ['index']],
    ['a record to an id that is not an id', () => as().putRecord('not-an-id', 1, up.records[1]), 400, 'invalid_request', ['id:']],
    [
      'closing before every record is in',
      () => as().post(`/api/survivor/attachments/${up.id}/close`),
      409,
      'incomplete',
      ['1 of 3 records', 'send record 1'],
    ],
  ])('%s is refused and nothing changes', async (_label, send, status, code, mentions) => {
    await unchanged(async () => expectError(await send(), status, code, ...mentions));
    expect((await as().get(`/api/survivor/attachments/${up.id}`)).body.received).toBe(1);
  });

  test('a record from another file (another key) is stored, but the file then fails to decrypt', async () => {
    const foreign = encryptFile(fileOf(2 * RECORD_BYTES + 10), newAttachmentKey());
    expect((await as().putRecord(up.id, 1, foreign[1])).status).toBe(200);
    expect((await as().putRecord(up.id, 2, up.records[2])).status).toBe(200);
    const stored = (await t.db('attachment_records').where({ attachment_id: up.id }).orderBy('idx')).map(
      (r: { data: Buffer }) => new Uint8Array(r.data),
    );
    expect(() => decryptFile(stored, up.manifest)).toThrow(/record 2 does not decrypt/);
  });

  test('after closing, no record is taken and closing again answers the same', async () => {
    expect((await as().post(`/api/survivor/attachments/${up.id}/close`)).status).toBe(200);
    await unchanged(async () => {
      expectError(await as().putRecord(up.id, 3, up.records[2]), 409, 'closed', 'closed');
      expectError(await as().putRecord(up.id, 0, up.records[0]), 409, 'closed');
      expect((await as().post(`/api/survivor/attachments/${up.id}/close`)).body).toEqual({ id: up.id, closed: true });
    });
  });

  test('an upload erased while it is being closed is not found, not a conflict', async () => {
    const up = await uploadFile(t, survivor, fileOf(10), { close: false });
    // The sweeper (or her "delete everything") erases it between the close's read and its write.
    interleave(t.ctx.repos.attachments, 'ofSurvivor', () => t.db('attachments').where({ id: up.id }).delete());
    try {
      expectError(await asSurvivor(t, survivor).post(`/api/survivor/attachments/${up.id}/close`), 404, 'not_found', 'no upload of yours');
    } finally {
      jest.restoreAllMocks();
    }
  });

  test('two copies of the next record at once: one is stored, the other refused', async () => {
    const fresh = await uploadFile(t, survivor, fileOf(RECORD_BYTES + 1), { upTo: 0 });
    const both = await Promise.all([as().putRecord(fresh.id, 0, fresh.records[0]), as().putRecord(fresh.id, 0, fresh.records[0])]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await t.db('attachment_records').where({ attachment_id: fresh.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    expect((await as().get(`/api/survivor/attachments/${fresh.id}`)).body.received).toBe(1);

    // Beneath the route's check: the write itself refuses a record that is no longer next,
    // and the (attachment_id, idx) key refuses a second copy even if that were bypassed.
    const before = await t.db('attachments').where({ id: fresh.id }).first();
    expect(await t.ctx.repos.attachments.appendRecord(fresh.id, 0, fresh.records[0])).toBe(false);
    expect(await t.db('attachments').where({ id: fresh.id }).first()).toEqual(before);
    await expect(
      t.db('attachment_records').insert({ attachment_id: fresh.id, idx: 0, data: Buffer.from(fresh.records[0]) }),
    ).rejects.toThrow(UNIQUE_VIOLATION);
    expect(await t.db('attachment_records').where({ attachment_id: fresh.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });
});

describe('creating an upload', () => {
  test.each<[string, object, number, string, (string | RegExp)[]]>([
    ['a file over the limit', { size: MB + 1, records: 17 }, 413, 'too_large', ['1 MB']],
    ['a record count that does not match the size', { size: RECORD_BYTES + 1, records: 1 }, 400, 'invalid_request', ['records: must be 2']],
    ['no records for an empty file', { size: 0, records: 0 }, 400, 'invalid_request', ['records']],
    ['a negative size', { size: -1, records: 1 }, 400, 'invalid_request', ['size']],
  ])('%s is refused', async (_label, body, status, code, mentions) => {
    await unchanged(async () =>
      expectError(await asSurvivor(t, survivor).post('/api/survivor/attachments', body), status, code, ...mentions),
    );
  });

  test('exactly the file limit is accepted', async () => {
    const res = await asSurvivor(t, other).post('/api/survivor/attachments', { size: MB, records: 16 });
    expect(res.status).toBe(201);
    expect(res.body.records).toBe(16);
  });

  test('unsent uploads may total the testimony limit, and one survivor may hold 50', async () => {
    const s = await registerSurvivor(t);
    const as = asSurvivor(t, s);
    expect((await as.post('/api/survivor/attachments', { size: MB, records: 16 })).status).toBe(201);
    expect((await as.post('/api/survivor/attachments', { size: MB, records: 16 })).status).toBe(201);
    await unchanged(async () =>
      expectError(await as.post('/api/survivor/attachments', { size: 1, records: 1 }), 413, 'too_large', 'not sent', '2 MB'),
    );
    // Another survivor is not held back by hers.
    expect((await asSurvivor(t, other).post('/api/survivor/attachments', { size: 1, records: 1 })).status).toBe(201);

    const many = await registerSurvivor(t);
    for (let i = 0; i < MAX_PENDING_UPLOADS; i++)
      expect((await asSurvivor(t, many).post('/api/survivor/attachments', { size: 0, records: 1 })).status).toBe(201);
    await unchanged(async () =>
      expectError(
        await asSurvivor(t, many).post('/api/survivor/attachments', { size: 0, records: 1 }),
        429,
        'too_many_uploads',
        `${MAX_PENDING_UPLOADS} files`,
        'two days',
      ),
    );
  });

  test('uploads created at the same moment cannot pass the limit together', async () => {
    // On PostgreSQL the requests run on several connections at once: the count and the insert must not interleave.
    const s = await registerSurvivor(t);
    const as = asSurvivor(t, s);
    const all = await Promise.all(Array.from({ length: 6 }, () => as.post('/api/survivor/attachments', { size: MB, records: 16 })));
    expect(all.map((r) => r.status).sort()).toEqual([201, 201, 413, 413, 413, 413]);
    const rows: { n: number }[] = await t
      .db('attachments')
      .where({ survivor_id: (await t.db('survivors').where({ handle: s.handle }).first('id')).id })
      .count({ n: '*' });
    expect(Number(rows[0].n)).toBe(2);
  });

  test('a create sent again with its id (its answer lost) answers the same upload as it stands, and counts once', async () => {
    const s = await registerSurvivor(t);
    const as = asSurvivor(t, s);
    const survivorId = (await t.db('survivors').where({ handle: s.handle }).first('id')).id as string;
    const count = async () => Number((await t.db('attachments').where({ survivor_id: survivorId }).count({ n: '*' }))[0].n);
    const id = randomId();
    const body = { size: RECORD_BYTES + 1, records: 2, id };
    const first = await as.post('/api/survivor/attachments', body);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id, size: RECORD_BYTES + 1, records: 2, received: 0, closed: false });
    const k = newAttachmentKey();
    expect((await as.putRecord(id, 0, encryptFile(fileOf(RECORD_BYTES + 1), k)[0])).status).toBe(200);
    const again = await unchanged(() => as.post('/api/survivor/attachments', body));
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ id, size: RECORD_BYTES + 1, records: 2, received: 1, closed: false });
    // Sent twice at once (the second before the first is written): one upload, both answered with it.
    const twin = { size: 5, records: 1, id: randomId() };
    const both = await Promise.all([as.post('/api/survivor/attachments', twin), as.post('/api/survivor/attachments', twin)]);
    expect(both.map((r) => [r.status, r.body.id])).toEqual([
      [201, twin.id],
      [201, twin.id],
    ]);
    expect(await count()).toBe(2);
    // An id of hers with another size, or another survivor's id, makes nothing.
    await unchanged(async () => {
      expectError(await as.post('/api/survivor/attachments', { ...body, size: 5, records: 1 }), 409, 'upload_exists', 'another size');
      expectError(await asSurvivor(t, other).post('/api/survivor/attachments', body), 409, 'conflict');
      expectError(await as.post('/api/survivor/attachments', { ...body, id: 'not-an-id' }), 400, 'invalid_request', 'id');
    });
    expect(await count()).toBe(2);
  });

  test('a token for a survivor that no longer exists creates nothing', async () => {
    const gone = await registerSurvivor(t);
    await t.db('survivors').where({ handle: gone.handle }).delete();
    await unchanged(async () =>
      expectError(await asSurvivor(t, gone).post('/api/survivor/attachments', { size: 1, records: 1 }), 401, 'unauthorized'),
    );
  });
});

describe('attaching uploads to a testimony or a message', () => {
  /** A testimony (and its proof of work) that names `ids`, sent as the survivor's browser would. */
  async function testimonyNaming(s: SurvivorActor, what: string) {
    const ks = await currentKeyset(t);
    const envelope = sealEnvelope({
      kind: 'testimony',
      caseId: randomId(),
      body: { testimony: { what } },
      recipients: [s.keys.box.publicKey, ...readersOf(ks.keyset)],
      signer: s.keys.sign,
    });
    const p = await pow(t);
    return (attachments: string[]) =>
      asSurvivor(t, s).post('/api/survivor/cases', { envelope, keysetVersion: ks.keyset.version, pow: p, attachments });
  }

  test.each<[string, (s: SurvivorActor) => Promise<string[]>, number, string, string[]]>([
    [
      'an id that names no upload',
      () => Promise.resolve([randomId()]),
      400,
      'unknown_attachment',
      ['attachments[0]', 'not an upload of yours'],
    ],
    ["another survivor's upload", async () => [(await uploadFile(t, other, fileOf(10))).id], 400, 'unknown_attachment', ['attachments[0]']],
    [
      'an upload not yet closed',
      async (s) => [(await uploadFile(t, s, fileOf(10), { close: false })).id],
      409,
      'attachment_not_closed',
      ['attachments[0]', 'close it'],
    ],
    [
      'an upload already attached',
      async (s) => {
        const up = await uploadFile(t, s, fileOf(10));
        expect((await submitTestimony(t, s, 'first', [up.manifest])).res.status).toBe(201);
        return [(await uploadFile(t, s, fileOf(10))).id, up.id];
      },
      409,
      'attachment_linked',
      ['attachments[1]', 'already attached'],
    ],
  ])('%s is refused, the proof of work is not spent and nothing changes', async (label, make, status, code, mentions) => {
    const s = await registerSurvivor(t);
    const ids = await make(s);
    const send = await testimonyNaming(s, label);
    await unchanged(async () => expectError(await send(ids), status, code, ...mentions));
    // The same testimony without the refused files goes through with the same proof of work.
    expect((await send([])).status).toBe(201);
  });

  test("a message carries files too, and a case's files together stay within the testimony limit", async () => {
    const s = await registerSurvivor(t);
    const first = await uploadFile(t, s, fileOf(MB));
    const { res, envelope } = await submitTestimony(t, s, 'the testimony', [first.manifest]);
    expect(res.status).toBe(201);
    const caseId = envelope.caseId;
    const secondFile = fileOf(MB);
    const second = await uploadFile(t, s, secondFile);
    const third = await uploadFile(t, s, fileOf(1));

    const ks = await currentKeyset(t);
    const message = (manifests: AttachmentManifest[]) =>
      sealEnvelope({
        kind: 'message',
        caseId,
        prev: envelopeHash(envelope),
        body: { text: 'two more', attachments: manifests },
        recipients: [s.keys.box.publicKey, ...readersOf(ks.keyset)],
        signer: s.keys.sign,
      });
    const post = (manifests: AttachmentManifest[]) =>
      asSurvivor(t, s).post(`/api/survivor/cases/${caseId}/messages`, {
        envelope: message(manifests),
        keysetVersion: ks.keyset.version,
        attachments: manifests.map((m) => m.id),
      });
    // 1 MB already in the case, 1 MB + 1 byte more: one byte over.
    await unchanged(async () => expectError(await post([second.manifest, third.manifest]), 413, 'too_large', 'one testimony', '2 MB'));
    const sent = await post([second.manifest]);
    expect(sent.status).toBe(201);

    const [downloaded] = await downloadAsModerator(caseId, sent.body.seq);
    expect(Buffer.from(downloaded).equals(Buffer.from(secondFile))).toBe(true);
    const linked = await t.db('attachments').where({ id: second.id }).first();
    const messageRow = await t.db('envelopes').where({ case_id: caseId, seq: sent.body.seq }).first();
    expect({ case_id: linked.case_id, envelope_id: linked.envelope_id }).toEqual({ case_id: caseId, envelope_id: messageRow.id });
    // The file not sent stays the survivor's, unlinked, for another message.
    expect((await t.db('attachments').where({ id: third.id }).first()).case_id).toBeNull();
  });

  test('a list of ids with one twice, or more than 20, is refused by the schema', async () => {
    const s = await registerSurvivor(t);
    const send = await testimonyNaming(s, 'ids');
    const id = randomId();
    await unchanged(async () => {
      expectError(await send([id, id]), 400, 'invalid_request', 'attachments', 'twice');
      expectError(await send(Array.from({ length: 21 }, () => randomId())), 400, 'invalid_request', 'attachments', 'at most 20');
    });
  });
});

describe('who sees a file', () => {
  let sent: Awaited<ReturnType<typeof uploadFile>>;
  let caseId: string;
  let unsent: Awaited<ReturnType<typeof uploadFile>>;
  let open: Awaited<ReturnType<typeof uploadFile>>;
  beforeAll(async () => {
    sent = await uploadFile(t, survivor, fileOf(RECORD_BYTES + 5));
    const submitted = await submitTestimony(t, survivor, 'seen by staff', [sent.manifest]);
    expect(submitted.res.status).toBe(201);
    caseId = submitted.envelope.caseId;
    unsent = await uploadFile(t, survivor, fileOf(20));
    open = await uploadFile(t, survivor, fileOf(RECORD_BYTES + 5), { upTo: 1 });
  });

  test('a moderator sees only closed, attached files; their records come back as stored', async () => {
    const meta = await mod.agent.get(`/api/staff/attachments/${sent.id}`);
    expect(meta.body).toEqual({ id: sent.id, caseId, size: RECORD_BYTES + 5, records: 2 });
    const rec = await mod.agent.get(`/api/staff/attachments/${sent.id}/records/1`).buffer(true);
    expect(Buffer.from(rec.body as Buffer).equals(Buffer.from(sent.records[1]))).toBe(true);
    await unchanged(async () => {
      for (const id of [unsent.id, open.id, randomId()]) {
        expectError(await mod.agent.get(`/api/staff/attachments/${id}`), 404, 'not_found', 'no attached file');
        expectError(await mod.agent.get(`/api/staff/attachments/${id}/records/0`), 404, 'not_found');
      }
      expectError(await mod.agent.get(`/api/staff/attachments/${sent.id}/records/2`), 400, 'bad_index', '2 record(s)');
    });
  });

  test('advocates and admins who are not moderators, and anyone without a session, are refused', async () => {
    await unchanged(async () => {
      for (const agent of [advocate.agent, admin.agent]) {
        expectError(await agent.get(`/api/staff/attachments/${sent.id}`), 403, 'forbidden', 'moderator');
        expectError(await agent.get(`/api/staff/attachments/${sent.id}/records/0`), 403, 'forbidden');
      }
      expectError(await request(t.app).get(`/api/staff/attachments/${sent.id}`), 401, 'unauthorized');
      expectError(await request(t.app).get(`/api/staff/attachments/${sent.id}/records/0`), 401, 'unauthorized');
      // A survivor's token is no staff session.
      expectError(await asSurvivor(t, survivor).get(`/api/staff/attachments/${sent.id}`), 401, 'unauthorized');
    });
  });

  test('opening a file is in the audit log, naming the case and the file, never the survivor', async () => {
    const before = await t.db('audit_log').where({ action: 'case.attachment_opened' }).count({ n: '*' });
    expect((await mod.agent.get(`/api/staff/attachments/${sent.id}`)).status).toBe(200);
    for (const i of [0, 1]) expect((await mod.agent.get(`/api/staff/attachments/${sent.id}/records/${i}`)).status).toBe(200);
    const rows = await t.db('audit_log').where({ action: 'case.attachment_opened' }).orderBy('seq');
    expect(rows.length).toBe(Number(before[0].n) + 1);
    const last = rows[rows.length - 1];
    expect({ actor: last.actor_id, subject: last.subject, detail: JSON.parse(last.detail) }).toEqual({
      actor: mod.staffId,
      subject: caseId,
      detail: { attachmentId: sent.id },
    });
    expect(JSON.stringify(rows)).not.toContain(survivor.handle);
  });

  test('the survivor reads her own closed uploads back; another survivor cannot', async () => {
    const as = asSurvivor(t, survivor);
    for (const up of [sent, unsent]) {
      const rec = await as.get(`/api/survivor/attachments/${up.id}/records/0`).buffer(true);
      expect(rec.status).toBe(200);
      expect(Buffer.from(rec.body as Buffer).equals(Buffer.from(up.records[0]))).toBe(true);
    }
    await unchanged(async () => {
      expectError(await as.get(`/api/survivor/attachments/${open.id}/records/0`), 409, 'not_closed', 'not closed');
      expectError(await as.get(`/api/survivor/attachments/${sent.id}/records/2`), 400, 'bad_index');
      const stranger = asSurvivor(t, other);
      expectError(await stranger.get(`/api/survivor/attachments/${sent.id}`), 404, 'not_found', 'no upload of yours');
      expectError(await stranger.get(`/api/survivor/attachments/${sent.id}/records/0`), 404, 'not_found');
      expectError(await stranger.post(`/api/survivor/attachments/${open.id}/close`), 404, 'not_found');
    });
  });
  test('a moderator not yet granted the message that carries a file is refused, and logged as opening nothing, until a colleague shares it', async () => {
    const late = await addStaff(t, admin, 'mod.late');
    const opened = async () =>
      Number((await t.db('audit_log').where({ action: 'case.attachment_opened', actor_id: late.staffId }).count({ n: '*' }))[0].n);
    await unchanged(async () => {
      expectError(await late.agent.get(`/api/staff/attachments/${sent.id}`), 403, 'forbidden', 'not been shared with you');
      expectError(await late.agent.get(`/api/staff/attachments/${sent.id}/records/0`), 403, 'forbidden', 'not been shared with you');
    });
    expect(await opened()).toBe(0);

    // A moderator who reads the case shares its testimony (the envelope that carries the file) with them.
    const testimony = (await openCase(caseId)).thread.find((i) => i.seq === 0)!;
    const row = await t.db('envelopes').where({ case_id: caseId, kind: 'testimony' }).first();
    const grant = makeGrant(testimony.envelope, { box: mod.box, recipient: late.box.publicKey, granter: mod.sign });
    const shared = await mod.agent.post('/api/staff/grants').send({ staffId: late.staffId, grants: [{ envelopeId: row.id, grant }] });
    expect(shared.status).toBe(201);
    expect((await late.agent.get(`/api/staff/attachments/${sent.id}`)).body).toEqual({
      id: sent.id,
      caseId,
      size: RECORD_BYTES + 5,
      records: 2,
    });
    const rec = await late.agent.get(`/api/staff/attachments/${sent.id}/records/1`).buffer(true);
    expect(Buffer.from(rec.body as Buffer).equals(Buffer.from(sent.records[1]))).toBe(true);
    expect(await opened()).toBe(1);
  });
});

describe('what is deleted', () => {
  test('uploads no message carried are deleted once older than two UTC days; attached ones stay', async () => {
    const s = await registerSurvivor(t);
    const today = utcDay(new Date(t.clock.now()));
    const daysAgo = (n: number) => utcDay(new Date(t.clock.now() - n * 86_400_000));
    const old = await uploadFile(t, s, fileOf(RECORD_BYTES + 1));
    const recent = await uploadFile(t, s, fileOf(10), { close: false });
    const attached = await uploadFile(t, s, fileOf(10));
    expect((await submitTestimony(t, s, 'kept', [attached.manifest])).res.status).toBe(201);
    await t
      .db('attachments')
      .whereIn('id', [old.id, attached.id])
      .update({ created_day: daysAgo(3) });
    await t
      .db('attachments')
      .where({ id: recent.id })
      .update({ created_day: daysAgo(2) });
    expect(staleCutoffDay(t.clock.now())).toBe(daysAgo(2));

    // A stale upload no longer counts against the caps, and the sweeper (each minute) erases it.
    const made = await asSurvivor(t, s).post('/api/survivor/attachments', { size: 1, records: 1 });
    expect(made.status).toBe(201);
    expect((await sweepExpired(t.ctx, t.clock.now())).uploads).toBe(1);
    const left = await t
      .db('attachments')
      .where({ survivor_id: (await t.db('survivors').where({ handle: s.handle }).first()).id })
      .select('id', 'created_day');
    expect(left.map((r: { id: string }) => r.id).sort()).toEqual([recent.id, attached.id, made.body.id].sort());
    expect(left.find((r: { id: string }) => r.id === made.body.id).created_day).toBe(today);
    expect(await t.db('attachment_records').where({ attachment_id: old.id })).toEqual([]);
    expect((await asSurvivor(t, s).get(`/api/survivor/attachments/${old.id}`)).status).toBe(404);

    // A day later the two-day-old one goes too.
    expect((await sweepExpired(t.ctx, t.clock.now() + 86_400_000)).uploads).toBeGreaterThanOrEqual(1);
    expect(await t.db('attachments').where({ id: recent.id }).first()).toBeUndefined();
    expect(await t.db('attachments').where({ id: attached.id }).first()).toBeDefined();
  });

  test("deleting a case, or a survivor, deletes their files' records with them", async () => {
    const s = await registerSurvivor(t);
    const up = await uploadFile(t, s, fileOf(RECORD_BYTES + 1));
    const { res, envelope } = await submitTestimony(t, s, 'to be deleted', [up.manifest]);
    expect(res.status).toBe(201);
    const unsent = await uploadFile(t, s, fileOf(RECORD_BYTES + 1));
    expect(await t.db('attachment_records').whereIn('attachment_id', [up.id, unsent.id]).count({ n: '*' })).toEqual([{ n: 4 }]);

    await t.db('cases').where({ id: envelope.caseId }).delete();
    expect(await t.db('attachments').where({ id: up.id }).first()).toBeUndefined();
    expect(await t.db('attachment_records').where({ attachment_id: up.id })).toEqual([]);
    expect(await t.db('attachments').where({ id: unsent.id }).first()).toBeDefined();

    await t.db('survivors').where({ handle: s.handle }).delete();
    expect(await t.db('attachments').where({ id: unsent.id }).first()).toBeUndefined();
    expect(await t.db('attachment_records').where({ attachment_id: unsent.id })).toEqual([]);
  });
});

test('after all of that the server keeps serving and logged nothing', async () => {
  const up = await uploadFile(t, survivor, fileOf(100));
  const { res } = await submitTestimony(t, survivor, 'still here', [up.manifest]);
  expect(res.status).toBe(201);
  expect(t.logs).toEqual([]);
});
