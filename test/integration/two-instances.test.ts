/**
 * Several Awaaz processes on one PostgreSQL database serve the same people (issue 13): two
 * app instances (two createApp, each with its own pool, on one database and one address key
 * file) answer a survivor and a moderator alternately, and requests raced from both at once
 * hold every limit the database must hold: one use per challenge, the pending-upload cap and
 * the testimony size limit.
 *
 * On SQLite an instance is one process (its one connection holds its limits): there "instance
 * B" is instance A itself, and the same steps and races run against the one instance. The
 * titles say which.
 */
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  encryptFile,
  envelopeHash,
  makeManifest,
  newAttachmentKey,
  readersOf,
  sealEnvelope,
  signLogin,
  solvePow,
  toBase64url,
  type AttachmentManifest,
  type Envelope,
} from '../../protocol';
import { attachmentsToLink, linkAttachments, MAX_PENDING_UPLOADS } from '../../server/services/attachments';
import {
  addStaff,
  asSurvivor,
  currentKeyset,
  loginBody,
  makeTestServer,
  pow,
  registerSurvivor,
  secondInstance,
  setupAdmin,
  submitTestimony,
  TEST_ENGINE,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';

const KB = 1024;
const ON_PG = TEST_ENGINE === 'pg';
const WHERE = ON_PG ? 'two instances on one PostgreSQL database' : 'one instance (on SQLite Awaaz runs as one process: B is A)';

/** Instance A, and B: a second instance on PostgreSQL, A itself on SQLite. */
async function twoInstances(env: Record<string, string> = {}): Promise<{ a: TestServer; b: TestServer; close: () => Promise<void> }> {
  const a = await makeTestServer(env);
  const b = ON_PG ? await secondInstance(a) : a;
  return {
    a,
    b,
    close: async () => {
      if (b !== a) await b.close();
      await a.close();
    },
  };
}

/** The cookies a response sets, as a browser would send them back (to either instance). */
function cookiesOf(res: request.Response): string {
  const set = res.headers['set-cookie'] as unknown as string[] | undefined;
  if (!set?.length) throw new Error(`no cookie set: ${res.status} ${res.text}`);
  return set.map((c) => c.split(';')[0]).join('; ');
}

/** Signs a staff member in: the sign-in parameters (and ticket) from `from`, the sign-in on `to`; the session cookie. */
async function staffCookie(from: TestServer, to: TestServer, who: StaffActor): Promise<string> {
  const { body, ticket } = await loginBody(from, who);
  const res = await request(to.app)
    .post('/api/staff/login')
    .send({ ...body, ticket });
  expect(res.status).toBe(200);
  return cookiesOf(res);
}

/** A survivor's registration body for a proof-of-work challenge, with fresh keys. */
function registration(t: TestServer, p: { challenge: string; nonce: number }) {
  const sign = nacl.sign.keyPair();
  const box = nacl.box.keyPair();
  return {
    signPk: toBase64url(sign.publicKey),
    boxPk: toBase64url(box.publicKey),
    pow: p,
    sig: toBase64url(signLogin(t.ctx.instanceId, p.challenge, sign.secretKey)),
  };
}

async function survivorIdOf(t: TestServer, s: SurvivorActor): Promise<string> {
  return (await t.db('survivors').where({ handle: s.handle }).first('id')).id;
}

/** The declared bytes of a case's linked files, and how many there are. */
async function caseFiles(t: TestServer, caseId: string): Promise<{ bytes: number; files: number }> {
  const rows: { size: number | string }[] = await t.db('attachments').where({ case_id: caseId }).select('size');
  return { bytes: rows.reduce((n, r) => n + Number(r.size), 0), files: rows.length };
}

/** A survivor's message in a case's thread after `prev`, carrying these files. */
function messageAfter(
  s: SurvivorActor,
  readers: Uint8Array[],
  caseId: string,
  prev: Envelope,
  manifests: AttachmentManifest[],
  text = 'and these files',
): Envelope {
  return sealEnvelope({
    kind: 'message',
    caseId,
    prev: envelopeHash(prev),
    body: { text, attachments: manifests },
    recipients: [s.keys.box.publicKey, ...readers],
    signer: s.keys.sign,
  });
}

describe(`${WHERE}: a survivor and a moderator, answered by either`, () => {
  let a: TestServer;
  let b: TestServer;
  let close: () => Promise<void>;
  let admin: StaffActor;
  let mod: StaffActor;

  beforeAll(async () => {
    ({ a, b, close } = await twoInstances({ ATTACHMENT_MAX_FILE_MB: '1', ATTACHMENT_MAX_TESTIMONY_MB: '1' }));
    admin = await setupAdmin(a, ['admin']);
    // Invited on A (the admin's session), enrolled on B.
    mod = await addStaff(b, admin, 'mod.one');
  });
  afterAll(async () => close?.());

  test('a staff session made on B works on A, with a sign-in ticket A issued; signing out on A ends it on B', async () => {
    const cookie = await staffCookie(a, b, mod);
    for (const t of [a, b, a]) expect((await request(t.app).get('/api/staff/cases').set('Cookie', cookie)).status).toBe(200);
    expect((await request(a.app).post('/api/staff/logout').set('Cookie', cookie).send({})).status).toBe(204);
    expect((await request(b.app).get('/api/staff/cases').set('Cookie', cookie)).status).toBe(401);
  });

  test("a survivor registers on B with A's proof of work, signs in on A with B's challenge, and each token works on both", async () => {
    const p = await pow(a);
    const keys = { sign: nacl.sign.keyPair(), box: nacl.box.keyPair() };
    const registered = await request(b.app)
      .post('/api/survivor/register')
      .send({
        signPk: toBase64url(keys.sign.publicKey),
        boxPk: toBase64url(keys.box.publicKey),
        pow: p,
        sig: toBase64url(signLogin(a.ctx.instanceId, p.challenge, keys.sign.secretKey)),
      });
    expect(registered.status).toBe(201);
    // The challenge was spent on B: A refuses it too.
    expect((await request(a.app).post('/api/survivor/register').send(registration(a, p))).body.error.code).toBe('bad_pow');
    for (const t of [a, b])
      expect((await request(t.app).get('/api/survivor/cases').set('Authorization', `Bearer ${registered.body.token}`)).status).toBe(200);

    const { challenge } = (await request(b.app).post('/api/survivor/challenge').send({})).body;
    const session = {
      signPk: toBase64url(keys.sign.publicKey),
      challenge,
      sig: toBase64url(signLogin(a.ctx.instanceId, challenge, keys.sign.secretKey)),
    };
    const signedIn = await request(a.app).post('/api/survivor/session').send(session);
    expect(signedIn.status).toBe(200);
    expect((await request(b.app).post('/api/survivor/session').send(session)).status).toBe(401);
    for (const t of [b, a])
      expect((await request(t.app).get('/api/survivor/cases').set('Authorization', `Bearer ${signedIn.body.token}`)).body.cases).toEqual(
        [],
      );
  });

  test('an upload started on A goes on, record by record, on B and A in turn; it is sent on A, and the moderator opens it on B and reads it on both', async () => {
    const survivor = await registerSurvivor(b);
    const bytes = nacl.randomBytes(200 * KB);
    const key = newAttachmentKey();
    const records = encryptFile(bytes, key);
    expect(records.length).toBeGreaterThanOrEqual(4);
    const on = (t: TestServer) => asSurvivor(t, survivor);
    const created = await on(a).post('/api/survivor/attachments', { size: bytes.length, records: records.length });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    for (let i = 0; i < records.length; i++) {
      const t = i % 2 === 0 ? b : a;
      expect((await on(t).putRecord(id, i, records[i])).status).toBe(200);
      // The other instance knows where the upload stands.
      expect((await on(t === a ? b : a).get(`/api/survivor/attachments/${id}`)).body.received).toBe(i + 1);
    }
    expect((await on(b).post(`/api/survivor/attachments/${id}/close`)).status).toBe(200);
    const manifest = makeManifest({ id, name: 'evidence-1', type: 'image/png', size: bytes.length }, key);
    const { res, envelope } = await submitTestimony(a, survivor, 'sent through two instances', [manifest]);
    expect(res.status).toBe(201);

    const cookie = await staffCookie(b, b, mod);
    const listed = await request(b.app).get('/api/staff/cases').set('Cookie', cookie);
    expect(listed.body.cases.map((c: { caseId: string }) => c.caseId)).toContain(envelope.caseId);
    expect((await request(a.app).get(`/api/staff/cases/${envelope.caseId}`).set('Cookie', cookie)).status).toBe(200);
    expect((await request(b.app).get(`/api/staff/attachments/${id}`).set('Cookie', cookie)).body).toEqual({
      id,
      caseId: envelope.caseId,
      size: bytes.length,
      records: records.length,
    });
    for (let i = 0; i < records.length; i++) {
      const got = await request((i % 2 === 0 ? a : b).app)
        .get(`/api/staff/attachments/${id}/records/${i}`)
        .set('Cookie', cookie)
        .buffer(true)
        .parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(got.status).toBe(200);
      expect(Buffer.compare(got.body as Buffer, Buffer.from(records[i]))).toBe(0);
    }
    // The moderator's status change on A is what the survivor sees on B.
    expect(
      (await request(a.app).post(`/api/staff/cases/${envelope.caseId}/status`).set('Cookie', cookie).send({ status: 'in_review' })).status,
    ).toBe(200);
    const mine = (await on(b).get('/api/survivor/cases')).body.cases;
    expect(mine.map((c: { caseId: string; status: string }) => [c.caseId, c.status])).toEqual([[envelope.caseId, 'in_review']]);
  });
});

describe(`${WHERE}: rate limits count requests to either`, () => {
  let a: TestServer;
  let b: TestServer;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ a, b, close } = await twoInstances({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '6' }));
  });
  afterAll(async () => close?.());

  test('six proof-of-work requests, alternately to A and B, use up the minute on both', async () => {
    // Start at the beginning of a minute of the app's clock, so the six fall in one window.
    a.clock.advance(60_000 - (a.clock.now() % 60_000) + 1_000);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push(
        (
          await request((i % 2 === 0 ? a : b).app)
            .post('/api/pow')
            .send({})
        ).status,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
  });
});

describe(`${WHERE}: requests raced from both at once`, () => {
  let a: TestServer;
  let b: TestServer;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ a, b, close } = await twoInstances({ ATTACHMENT_MAX_FILE_MB: '1', ATTACHMENT_MAX_TESTIMONY_MB: '1' }));
    // Testimonies are sealed to the keyset's moderators: one must exist.
    await setupAdmin(a, ['admin', 'moderator']);
  });
  afterAll(async () => close?.());

  test('one proof-of-work challenge sent to A and B at the same moment registers exactly one survivor, each of ten times', async () => {
    for (let round = 0; round < 10; round++) {
      const { challenge, bits } = (
        await request((round % 2 === 0 ? a : b).app)
          .post('/api/pow')
          .send({})
      ).body;
      const p = { challenge, nonce: solvePow(challenge, bits) };
      const both = await Promise.all([
        request(a.app).post('/api/survivor/register').send(registration(a, p)),
        request(b.app).post('/api/survivor/register').send(registration(b, p)),
      ]);
      expect(both.map((r) => r.status).sort()).toEqual([201, 400]);
      expect(both.find((r) => r.status === 400)!.body.error.code).toBe('bad_pow');
    }
    expect(Number((await a.db('survivors').count({ n: '*' }))[0].n)).toBe(10);
  });

  test('one login challenge signed and sent to A and B at the same moment opens exactly one session, each of ten times', async () => {
    const s = await registerSurvivor(a);
    for (let round = 0; round < 10; round++) {
      const { challenge } = (
        await request((round % 2 === 0 ? b : a).app)
          .post('/api/survivor/challenge')
          .send({})
      ).body;
      const body = {
        signPk: toBase64url(s.keys.sign.publicKey),
        challenge,
        sig: toBase64url(signLogin(a.ctx.instanceId, challenge, s.keys.sign.secretKey)),
      };
      const both = await Promise.all([
        request(a.app).post('/api/survivor/session').send(body),
        request(b.app).post('/api/survivor/session').send(body),
      ]);
      expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
    }
  });

  test('uploads created on A and B at once stay within the pending bytes (the testimony limit) and the pending count', async () => {
    // 300 KB each under a 1 MB limit: three fit.
    const bySize = await registerSurvivor(a);
    const sized = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        asSurvivor(i % 2 === 0 ? a : b, bySize).post('/api/survivor/attachments', { size: 300 * KB, records: 5 }),
      ),
    );
    expect(sized.map((r) => r.status).sort()).toEqual([201, 201, 201, 413, 413, 413, 413, 413]);
    expect(
      Number(
        (
          await a
            .db('attachments')
            .where({ survivor_id: await survivorIdOf(a, bySize) })
            .count({ n: '*' })
        )[0].n,
      ),
    ).toBe(3);

    const byCount = await registerSurvivor(b);
    const counted = await Promise.all(
      Array.from({ length: MAX_PENDING_UPLOADS + 10 }, (_, i) =>
        asSurvivor(i % 2 === 0 ? a : b, byCount).post('/api/survivor/attachments', { size: 1, records: 1 }),
      ),
    );
    expect(counted.filter((r) => r.status === 201).length).toBe(MAX_PENDING_UPLOADS);
    expect(counted.filter((r) => r.status === 429).every((r) => r.body.error.code === 'too_many_uploads')).toBe(true);
    expect(counted.filter((r) => r.status === 429).length).toBe(10);
    expect(
      Number(
        (
          await a
            .db('attachments')
            .where({ survivor_id: await survivorIdOf(a, byCount) })
            .count({ n: '*' })
        )[0].n,
      ),
    ).toBe(MAX_PENDING_UPLOADS);
  });

  test("two messages with files sent to A and B at the same moment never take a case's files over the testimony limit", async () => {
    // A 300 KB file in the testimony; two more of 400 KB: either fits beside it, both would not (1,100 KB > 1,024 KB).
    const limit = a.ctx.config.attachmentMaxTestimonyBytes;
    for (let round = 0; round < 4; round++) {
      const s = await registerSurvivor(a);
      const first = await uploadFile(a, s, nacl.randomBytes(300 * KB));
      const { res, envelope } = await submitTestimony(b, s, `round ${round}`, [first.manifest]);
      expect(res.status).toBe(201);
      const [one, two] = [await uploadFile(b, s, nacl.randomBytes(400 * KB)), await uploadFile(a, s, nacl.randomBytes(400 * KB))];
      const ks = await currentKeyset(a);
      const readers = readersOf(ks.keyset);
      const m1 = messageAfter(s, readers, envelope.caseId, envelope, [one.manifest]);
      // Even rounds: m2 follows m1 in the thread (both could be placed); odd rounds: both claim the same place.
      const m2 =
        round % 2 === 0
          ? messageAfter(s, readers, envelope.caseId, m1, [two.manifest])
          : messageAfter(s, readers, envelope.caseId, envelope, [two.manifest], 'the same place');
      const send = (t: TestServer, m: Envelope, file: string) =>
        asSurvivor(t, s).post(`/api/survivor/cases/${envelope.caseId}/messages`, {
          envelope: m,
          keysetVersion: ks.keyset.version,
          attachments: [file],
        });
      const both = await Promise.all([send(a, m1, one.id), send(b, m2, two.id)]);
      expect(both.filter((r) => r.status === 201).length).toBe(1);
      for (const r of both.filter((x) => x.status !== 201)) expect(['too_large', 'thread_moved', 'conflict']).toContain(r.body.error.code);
      const files = await caseFiles(a, envelope.caseId);
      expect(files.files).toBe(2);
      expect(files.bytes).toBeLessThanOrEqual(limit);
    }
  });

  test('the testimony limit holds in the transaction that links: files checked before another message linked its own are refused when linked after', async () => {
    // The interleaving of two concurrent sends, step by step: B's message is checked (attachmentsToLink), A's message
    // is sent whole, then B links. Only the count inside the linking transaction, under the case's lock, sees A's files.
    const s = await registerSurvivor(a);
    const first = await uploadFile(a, s, nacl.randomBytes(300 * KB));
    const { res, envelope } = await submitTestimony(a, s, 'checked, then linked', [first.manifest]);
    expect(res.status).toBe(201);
    const [one, two] = [await uploadFile(a, s, nacl.randomBytes(400 * KB)), await uploadFile(b, s, nacl.randomBytes(400 * KB))];
    const survivorId = await survivorIdOf(b, s);
    const checked = await attachmentsToLink(b.ctx, survivorId, envelope.caseId, [two.id]);
    expect(checked).toEqual([two.id]);

    const ks = await currentKeyset(a);
    const m1 = messageAfter(s, readersOf(ks.keyset), envelope.caseId, envelope, [one.manifest]);
    expect(
      (
        await asSurvivor(a, s).post(`/api/survivor/cases/${envelope.caseId}/messages`, {
          envelope: m1,
          keysetVersion: ks.keyset.version,
          attachments: [one.id],
        })
      ).status,
    ).toBe(201);

    const testimonyRow = await b.db('envelopes').where({ case_id: envelope.caseId, seq: 0 }).first('id');
    await expect(
      b.ctx.db.transaction((trx) =>
        linkAttachments(b.ctx, trx, checked, { survivorId, caseId: envelope.caseId, envelopeId: Number(testimonyRow.id) }),
      ),
    ).rejects.toMatchObject({ status: 413, code: 'too_large' });
    expect(await caseFiles(a, envelope.caseId)).toEqual({ bytes: 700 * KB, files: 2 });
    expect((await a.db('attachments').where({ id: two.id }).first()).case_id).toBeNull();
  });
});

test(`the harness: ${ON_PG ? "a second instance shares the first one's database, instance and address key" : 'on SQLite there is no second instance'}`, async () => {
  const a = await makeTestServer();
  try {
    if (ON_PG) {
      const b = await secondInstance(a);
      try {
        expect(b.ctx.instanceId).toBe(a.ctx.instanceId);
        expect(b.ctx.serverSecret).toBe(a.ctx.serverSecret);
        expect(b.db).not.toBe(a.db);
        const s = await registerSurvivor(a);
        expect((await b.db('survivors').select('handle')).map((r: { handle: string }) => r.handle)).toEqual([s.handle]);
      } finally {
        await b.close();
      }
    } else {
      await expect(secondInstance(a)).rejects.toThrow('a second instance needs PostgreSQL');
    }
  } finally {
    await a.close();
  }
});
