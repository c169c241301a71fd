/**
 * What the server keeps and prints about a survivor (DESIGN.md "People and what each may
 * see"): no address, no user agent, no time finer than the UTC day, no plaintext testimony
 * and never the codename; not in the schema, not in the logs, not in the database file (on
 * PostgreSQL, with TEST_DATABASE_URL: not in any table, nor in a pg_dump of the database).
 */
import request from 'supertest';
import { fromBase64url, openEnvelope, signLogin, staffSecrets, toBase64url, utcDay } from '../../protocol';
import { storedBytes } from '../support/database-files';
import { findEnvelope } from './expect-error';
import {
  addStaff,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  survivorKeys,
  TEST_ENGINE,
  totpCode,
  UNIQUE_VIOLATION,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
  type UploadedFile,
} from '../support/harness';

const ADDRESS = '203.0.113.77';
const USER_AGENT = 'PrivacyProbe/9.9 (UserAgentMarker-Kw3)';
const TESTIMONY_MARKER = 'TestimonyMarker-Qx81';
const TESTIMONY = `He cornered me after the meeting. ${TESTIMONY_MARKER}`;
const EVIDENCE_MARKER = 'EvidenceMarker-Hn27';
/** an evidence file of three records whose every page would show the marker, were it stored in the clear */
const EVIDENCE = new TextEncoder().encode(`Screenshot of his messages. ${EVIDENCE_MARKER}\n`.repeat(4000));

let t: TestServer;
/** t with every request carrying a distinctive X-Forwarded-For and User-Agent */
let w: TestServer;
let admin: StaffActor;
let moderator: StaffActor;
let survivor: SurvivorActor;
let evidence: UploadedFile;
const printed: string[] = [];

beforeAll(async () => {
  // One trusted proxy hop: the forwarded address becomes the request's address (req.ip),
  // the strongest case, since then it reaches the rate limiter.
  t = await makeTestServer({ TRUST_PROXY_HOPS: '1' });
  const inner = t.app as unknown as (req: { headers: Record<string, string> }, res: unknown) => void;
  const app = (req: { headers: Record<string, string> }, res: unknown) => {
    req.headers['x-forwarded-for'] = ADDRESS;
    req.headers['user-agent'] = USER_AGENT;
    return inner(req, res);
  };
  w = { ...t, app: app as unknown as TestServer['app'] };

  // Catch anything printed outside the app's logger while the flow runs.
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true)),
    ...(['log', 'error', 'warn', 'info', 'debug'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' '))),
    ),
  ];
  try {
    console.log('privacy-canary'); // proves the capture works
    await flow();
  } finally {
    for (const s of spies) s.mockRestore();
  }
});
afterAll(async () => {
  // A successful staff request records its session's last-seen time after the response; let it land.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await t.close();
});

async function flow(): Promise<void> {
  admin = await setupAdmin(w);
  moderator = await addStaff(w, admin, 'mod.priv');
  survivor = await registerSurvivor(w);
  evidence = await uploadFile(w, survivor, EVIDENCE);
  expect(evidence.records.length).toBe(3);
  const { res, envelope } = await submitTestimony(w, survivor, TESTIMONY, [evidence.manifest]);
  expect(res.status).toBe(201);

  // The survivor comes back and reads it; the moderator reads it.
  const keys = await survivorKeys(survivor.codename, t.ctx.instanceId);
  const { challenge } = (await request(w.app).post('/api/survivor/challenge').send({})).body;
  const session = await request(w.app)
    .post('/api/survivor/session')
    .send({
      signPk: toBase64url(keys.sign.publicKey),
      challenge,
      sig: toBase64url(signLogin(t.ctx.instanceId, challenge, keys.sign.secretKey)),
    });
  expect(session.status).toBe(200);
  const mine = await request(w.app).get('/api/survivor/cases').set('Authorization', `Bearer ${session.body.token}`);
  expect(mine.status).toBe(200);
  const own = openEnvelope<{ testimony: { what: string } }>(findEnvelope(mine.body, envelope.caseId)!, {
    box: keys.box,
    expectedKind: 'testimony',
    expectedCaseId: envelope.caseId,
    trustedSigners: [keys.sign.publicKey],
  });
  expect(own.body.testimony.what).toBe(TESTIMONY);

  const login = request.agent(w.app);
  const params = await login.post('/api/staff/login/params').send({ username: 'mod.priv' });
  const { authKey } = await staffSecrets(moderator.password, fromBase64url(params.body.kdf.salt), params.body.kdf.params);
  expect(
    (await login.post('/api/staff/login').send({ username: 'mod.priv', authKey: toBase64url(authKey), totp: totpCode(t, moderator) }))
      .status,
  ).toBe(200);
  const detail = await login.get(`/api/staff/cases/${envelope.caseId}`);
  expect(detail.status).toBe(200);
  const read = openEnvelope<{ testimony: { what: string } }>(findEnvelope(detail.body, envelope.caseId)!, {
    box: moderator.box,
    expectedKind: 'testimony',
    expectedCaseId: envelope.caseId,
    trustedSigners: [fromBase64url(detail.body.survivorSignPk)],
  });
  expect(read.body.testimony.what).toBe(TESTIMONY);

  // A few bad requests, some carrying the testimony text itself.
  const bad = [
    await request(w.app)
      .post('/api/survivor/cases')
      .set('Authorization', `Bearer ${session.body.token}`)
      .set('Content-Type', 'application/json')
      .send(`{"what": "${TESTIMONY}"`),
    await request(w.app)
      .post('/api/survivor/cases')
      .set('Authorization', `Bearer ${session.body.token}`)
      .send({ envelope: { what: TESTIMONY }, keysetVersion: 2, pow: await pow(w) }),
    await request(w.app)
      .post('/api/survivor/register')
      .send({ signPk: `${TESTIMONY_MARKER}=`, boxPk: 1, pow: {}, sig: '' }),
    await request(w.app).get('/api/survivor/cases').set('Authorization', `Bearer ${TESTIMONY_MARKER}`),
    await request(w.app)
      .post('/api/staff/login')
      .send({ username: 'mod.priv', authKey: toBase64url(new Uint8Array(32)) }),
    await request(w.app).post('/api/survivor/session').set('Content-Type', 'text/plain').send(TESTIMONY),
    await request(w.app).get(`/api/${TESTIMONY_MARKER}`),
    await request(w.app)
      .post('/api/pow')
      .set('Content-Type', 'application/json')
      .send(`{"x":"${TESTIMONY_MARKER}${'a'.repeat(300 * 1024)}"}`),
  ];
  expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 401, 401, 415, 404, 413]);
  // One proof-of-work challenge left unused, so the challenges table has a row to inspect.
  expect((await request(w.app).post('/api/pow').send({})).status).toBe(200);
}

describe('(a) the schema', () => {
  const SURVIVOR_TABLES = ['survivors', 'cases', 'envelopes', 'challenges', 'attachments', 'attachment_records'];
  /** Every table's columns, from the engine's own catalog. */
  async function columns(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    if (TEST_ENGINE === 'pg') {
      const { rows } = await t.db.raw(
        'SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position',
      );
      for (const r of rows as { table: string; column: string }[]) (out[r.table] ??= []).push(r.column);
      return out;
    }
    const tables: { name: string }[] = await t.db.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'");
    for (const { name } of tables) out[name] = (await t.db.raw(`PRAGMA table_info("${name}")`)).map((c: { name: string }) => c.name);
    return out;
  }

  test('no column of any table is named for an address, a user agent or a forwarded header', async () => {
    const all = await columns();
    // The check covers the real schema, not an empty list.
    expect(Object.keys(all)).toEqual(
      expect.arrayContaining(['instance', 'staff', 'staff_invites', 'staff_sessions', 'keysets', ...SURVIVOR_TABLES, 'rate_limits']),
    );
    const offending = Object.entries(all).flatMap(([table, cols]) =>
      cols.filter((c) => /ip|addr|user_?agent|ua\b|remote|forwarded/i.test(c)).map((c) => `${table}.${c}`),
    );
    expect(offending).toEqual([]);
  });

  test('survivor tables keep no time finer than the UTC day', async () => {
    const all = await columns();
    // The four named tables, and any table hanging off a survivor, a case or an envelope.
    const related = Object.keys(all).filter((table) => all[table].some((c) => /^(survivor|case|envelope)_id$/.test(c)));
    const tables = [...new Set([...SURVIVOR_TABLES, ...related])];
    expect(tables).toEqual(expect.arrayContaining(SURVIVOR_TABLES));
    for (const table of tables) {
      const rows: Record<string, unknown>[] = await t.db(table).select();
      // The flow left rows in the named tables, so the checks below look at real values.
      if (SURVIVOR_TABLES.includes(table)) expect({ table, rows: rows.length > 0 }).toEqual({ table, rows: true });
      for (const col of all[table]) {
        const where = `${table}.${col}`;
        // *_day columns: only YYYY-MM-DD, and a real day (today, in this test).
        if (/_day$/.test(col)) {
          // cases.closed_day is null while a case is open (retention counts from it once closed).
          for (const r of rows)
            if (!(where === 'cases.closed_day' && r[col] === null)) expect({ where, value: r[col] }).toEqual({ where, value: utcDay() });
          continue;
        }
        // The one exception. Challenges (login and proof of work) are single-use, deleted when
        // spent, and carry no survivor id, key or handle: nothing links an expiry to a survivor,
        // and the server needs the minute to refuse a stale challenge.
        if (where === 'challenges.expires_at') {
          for (const r of rows) expect(Number(r[col])).toBeGreaterThan(Date.now());
          continue;
        }
        expect({ where, timeLikeName: /(_at|time|date|stamp|_ts|when|seen)$/i.test(col) }).toEqual({ where, timeLikeName: false });
        for (const r of rows) {
          const v = r[col];
          // epoch seconds or milliseconds from the last decades, as a number or a numeric string
          const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
          expect({ where, epochLike: n > 1e9 }).toEqual({ where, epochLike: false });
          expect({ where, isoTime: typeof v === 'string' && /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v) }).toEqual({
            where,
            isoTime: false,
          });
        }
      }
    }
    // Nothing in a challenge row names who asked for it.
    expect(all.challenges.filter((c) => /survivor|staff|case|user|sign|box|handle|key/i.test(c))).toEqual([]);
  });
});

describe('(b) the logs', () => {
  test('the capture works', () => {
    expect(printed).toContain('privacy-canary');
    t.ctx.log('log-canary');
    expect(t.logs).toContain('log-canary');
  });

  test.each([
    ['the address', ADDRESS],
    ['the user agent', USER_AGENT],
    ['the testimony', TESTIMONY_MARKER],
    ['the evidence file', EVIDENCE_MARKER],
  ])('neither the app log nor anything printed during the flow holds %s', (_what, secret) => {
    expect(t.logs.filter((l) => l.includes(secret))).toEqual([]);
    expect(printed.filter((l) => l.includes(secret))).toEqual([]);
  });

  test('nor the codename, nor a password', () => {
    for (const secret of [survivor.codename, admin.password, moderator.password]) {
      expect(t.logs.join('\n')).not.toContain(secret);
      expect(printed.join('\n')).not.toContain(secret);
    }
  });

  test('a failed query does not put its values into the error message (which the 500 handler logs)', async () => {
    const existing = await t.db('survivors').first();
    let message = '';
    try {
      await t.db('survivors').insert({ ...existing, handle: TESTIMONY_MARKER });
    } catch (e) {
      message = String((e as Error).message);
    }
    expect(message).toMatch(UNIQUE_VIOLATION);
    expect(message).not.toContain(TESTIMONY_MARKER);
    expect(message).not.toContain(existing.sign_pk);
  });
});

/** SQLite: the file and its WAL as raw bytes; PostgreSQL: every table read through the pool, and a pg_dump. */
describe(TEST_ENGINE === 'pg' ? '(c) the database: every table and a pg_dump' : '(c) the database file', () => {
  const fileBytes = () => storedBytes(t);

  test('holds the survivor (so the bytes read are the real data)', async () => {
    expect((await fileBytes()).includes(Buffer.from(survivor.handle, 'utf8'))).toBe(true);
  });

  test("holds the evidence file's sealed records (so its absence in the clear below means something)", async () => {
    // A record spans several pages, so look for short slices: most lie within one page.
    const bytes = await fileBytes();
    const slices = evidence.records.flatMap((r) =>
      Array.from({ length: Math.floor(r.length / 2000) }, (_, i) => Buffer.from(r.subarray(i * 2000, i * 2000 + 32))),
    );
    expect(slices.length).toBeGreaterThan(90);
    const found = slices.filter((slice) => bytes.includes(slice)).length;
    expect(found).toBeGreaterThan(slices.length * 0.8);
  });

  test.each([
    ['the testimony', () => TESTIMONY_MARKER],
    ['the evidence file', () => EVIDENCE_MARKER],
    ["the survivor's codename", () => survivor.codename],
    ['the address', () => ADDRESS],
    ['the user agent', () => USER_AGENT],
    ["the admin's password", () => admin.password],
  ])(TEST_ENGINE === 'pg' ? 'holds nowhere %s' : 'holds neither in the main file nor in the WAL %s', async (_what, secret) => {
    expect((await fileBytes()).includes(Buffer.from(secret(), 'utf8'))).toBe(false);
  });
});
