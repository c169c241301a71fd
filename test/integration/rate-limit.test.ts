/**
 * Rate limits (DESIGN.md "Abuse"): every route counts against a general limit, the expensive
 * anonymous routes also against a sensitive one; both answer 429 with the error shape. The
 * counters are keyed by a salted, daily-rotated hash of the address, never the address.
 */
import request from 'supertest';
import nacl from 'tweetnacl';
import { RECORD_BYTES } from '../../protocol';
import { loadAddressKey } from '../../server/config';
import { hashAddress } from '../../server/http/rate-limit';
import {
  addStaff,
  asSurvivor,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  TEST_ENGINE,
  uploadFile,
  type TestServer,
} from '../support/harness';
import { expectError } from './expect-error';

const LIMITS = { RATE_LIMIT_SENSITIVE_PER_MINUTE: '3', RATE_LIMIT_PER_MINUTE: '10' };

/**
 * The limiter's windows are whole clock minutes (server/db/rate-limit-store.ts), so a sequence
 * that straddled a minute boundary would see its counters restart. The clock stands still in
 * the middle of a minute instead, and moves only when a test moves it.
 */
let clock = Math.floor(Date.now() / 60_000) * 60_000 + 20_000;
beforeAll(() => {
  jest.spyOn(Date, 'now').mockImplementation(() => clock);
});
afterAll(() => jest.restoreAllMocks());
const LOOPBACK = ['127.0.0.1', '::ffff:127.0.0.1', '::1'];

/** What the limiter stores for an address today (server/http/rate-limit.ts): keyed by the address key file. */
function hashedKey(t: TestServer, address: string): string {
  return hashAddress(loadAddressKey(t.ctx.config.addressKeyFile), address, t.ctx.clock.today());
}

/** The counters as the server keeps them: in the database on PostgreSQL, in its memory on SQLite (server/db/rate-limit-store.ts). */
const counterRows = (t: TestServer) => t.ctx.rateLimits.rows();

/** Every value of every counter, as text. */
async function rateLimitCells(t: TestServer): Promise<string[]> {
  return (await counterRows(t)).flatMap((r) => Object.values(r).map(String));
}

/** The keys of the counters whose key starts with `prefix`. */
async function counterKeys(t: TestServer, prefix = ''): Promise<string[]> {
  return (await counterRows(t)).map((r) => r.key).filter((k) => k.startsWith(prefix));
}

describe('directly connected clients (no proxy trusted)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await makeTestServer(LIMITS);
  });
  afterAll(() => t.close());

  test('the 4th POST /api/pow in a minute is 429, and it issues no challenge', async () => {
    for (let i = 1; i <= 3; i++) expect((await request(t.app).post('/api/pow').send({})).status).toBe(200);
    expect(await t.db('challenges').count({ n: '*' })).toEqual([{ n: 3 }]);
    const fourth = await request(t.app).post('/api/pow').send({});
    expectError(fourth, 429, 'rate_limited', 'too many requests');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
    expect(await t.db('challenges').count({ n: '*' })).toEqual([{ n: 3 }]);
    // The sensitive budget is shared by the other expensive routes.
    expectError(await request(t.app).post('/api/survivor/challenge').send({}), 429, 'rate_limited');
  });

  test('other routes run into the general limit at the 11th request of the minute', async () => {
    // 5 requests so far (4 pows and a challenge), all counted by the general limiter too.
    for (let i = 6; i <= 10; i++) expect({ i, status: (await request(t.app).get('/api/instance')).status }).toEqual({ i, status: 200 });
    const eleventh = await request(t.app).get('/api/instance');
    expectError(eleventh, 429, 'rate_limited');
    expect(eleventh.headers['ratelimit']).toBeDefined();
    // Pages, assets and the rest of the API are under the same limit.
    for (const path of ['/', '/share', '/assets/landing.js', '/api/nope']) expectError(await request(t.app).get(path), 429, 'rate_limited');
    expectError(await request(t.app).post('/api/staff/login/params').send({ username: 'someone' }), 429, 'rate_limited');
  });

  test('a spoofed X-Forwarded-For does not escape the limit when no proxy is trusted', async () => {
    const res = await request(t.app).get('/api/instance').set('X-Forwarded-For', '203.0.113.99');
    expectError(res, 429, 'rate_limited');
    expect((await rateLimitCells(t)).join('\n')).not.toContain('203.0.113.99');
    // The spoofed request was counted against the connection's own key, not a new one.
    expect(await counterKeys(t, 'all:')).toHaveLength(1);
  });

  test('the counters hold hashed keys, never the raw address', async () => {
    const rows = await counterRows(t);
    expect(rows.map((r) => r.key).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^all:/), expect.stringMatching(/^sensitive:/)]),
    );
    const cells = (await rateLimitCells(t)).join('\n');
    for (const address of LOOPBACK) expect(cells).not.toContain(address);
    expect(cells).not.toMatch(/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|::/);
    // The key is the keyed hash of the address that supertest connects from.
    const keys = rows.map((r) => r.key);
    const hashes = LOOPBACK.map((a) => hashedKey(t, a));
    expect(keys.some((k) => hashes.some((h) => k === `all:${h}`))).toBe(true);
    expect(keys.every((k) => /^(all|sensitive):[A-Za-z0-9_-]{32}$/.test(k))).toBe(true);
  });

  test(`the counters live ${TEST_ENGINE === 'pg' ? 'in the database, where every instance counts them' : 'in the process: the database holds none'}`, async () => {
    const held = await counterRows(t);
    expect(held.length).toBeGreaterThan(0);
    const stored: string[] = (await t.db('rate_limits').select('key')).map((r: { key: string }) => r.key);
    expect(stored.sort()).toEqual(TEST_ENGINE === 'pg' ? held.map((r) => r.key).sort() : []);
  });
});

describe('behind a trusted proxy (TRUST_PROXY_HOPS=1)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await makeTestServer({ ...LIMITS, TRUST_PROXY_HOPS: '1' });
  });
  afterAll(() => t.close());
  const from = (address: string) => ({
    get: (path: string) => request(t.app).get(path).set('X-Forwarded-For', address),
    post: (path: string) => request(t.app).post(path).set('X-Forwarded-For', address),
  });

  test('each address has its own budget', async () => {
    const a = from('198.51.100.7');
    const b = from('2001:db8::42');
    for (let i = 1; i <= 3; i++) expect((await a.post('/api/pow').send({})).status).toBe(200);
    expectError(await a.post('/api/pow').send({}), 429, 'rate_limited');
    // Another address still has its whole sensitive budget...
    expect((await b.post('/api/pow').send({})).status).toBe(200);
    // ... and its general one: 10 requests in all, the 11th refused.
    for (let i = 2; i <= 10; i++) expect({ i, status: (await b.get('/api/instance')).status }).toEqual({ i, status: 200 });
    expectError(await b.get('/api/instance'), 429, 'rate_limited');
    // The first address has used 4 of its 10.
    for (let i = 5; i <= 10; i++) expect({ i, status: (await a.get('/api/instance')).status }).toEqual({ i, status: 200 });
    expectError(await a.get('/api/instance'), 429, 'rate_limited');
    expect((await from('192.0.2.1').get('/api/instance')).status).toBe(200);
  });

  test('neither forwarded address nor the socket address is stored, only their keyed hashes', async () => {
    const cells = (await rateLimitCells(t)).join('\n');
    for (const address of ['198.51.100.7', '2001:db8::42', '192.0.2.1', ...LOOPBACK]) expect(cells).not.toContain(address);
    const keys = await counterKeys(t);
    expect(keys.sort()).toEqual(
      [
        `all:${hashedKey(t, '198.51.100.7')}`,
        `all:${hashedKey(t, '2001:db8::42')}`,
        `all:${hashedKey(t, '192.0.2.1')}`,
        `sensitive:${hashedKey(t, '198.51.100.7')}`,
        `sensitive:${hashedKey(t, '2001:db8::42')}`,
      ].sort(),
    );
    const hits = Object.fromEntries((await counterRows(t)).map((r) => [r.key, r.hits]));
    expect(hits[`all:${hashedKey(t, '198.51.100.7')}`]).toBe(11);
    expect(hits[`sensitive:${hashedKey(t, '198.51.100.7')}`]).toBe(4);
  });

  test('a minute later the budget is back', async () => {
    const a = from('198.51.100.7');
    expectError(await a.post('/api/pow').send({}), 429, 'rate_limited');
    clock += 60_000;
    expect((await a.post('/api/pow').send({})).status).toBe(200);
    expect((await a.get('/api/instance')).status).toBe(200);
  });

  test('IPv6 clients count by their /56 prefix: changing the low bits of the address does not escape the limit', async () => {
    clock += 60_000;
    for (const [i, address] of ['2001:db8:aa:1::1', '2001:db8:aa:2::99', '2001:db8:aa:ff:1:2:3:4'].entries())
      expect({ i, status: (await from(address).post('/api/pow').send({})).status }).toEqual({ i, status: 200 });
    expectError(await from('2001:db8:aa:42::7').post('/api/pow').send({}), 429, 'rate_limited');
    // Another /56 has its own budget.
    expect((await from('2001:db8:ab::1').post('/api/pow').send({})).status).toBe(200);
    // One counter for the whole prefix, keyed by its hash.
    const prefixKey = `sensitive:${hashedKey(t, '2001:db8:aa::')}`;
    expect((await counterRows(t)).find((r) => r.key === prefixKey)?.hits).toBe(4);
  });
});

describe('attachment records: a budget per survivor or staff member, not per address', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await makeTestServer({ RATE_LIMIT_PER_MINUTE: '80', RATE_LIMIT_SENSITIVE_PER_MINUTE: '80', RATE_LIMIT_RECORDS_PER_MINUTE: '4' });
  });
  afterAll(async () => {
    await new Promise((resolve) => setTimeout(resolve, 50)); // staff sessions are touched after the response
    await t.close();
  });

  /** Requests counted against addresses (everyone here shares the loopback one). */
  async function addressHits(): Promise<number> {
    const rows = (await counterRows(t)).filter((r) => r.key.startsWith('all:'));
    return rows.reduce((n, r) => n + r.hits, 0);
  }

  test("a survivor's record uploads use her own budget, and leave the shared address budget alone", async () => {
    clock += 60_000;
    const [a, b] = [await registerSurvivor(t), await registerSurvivor(t)];
    const up = await uploadFile(t, a, nacl.randomBytes(5 * RECORD_BYTES), { upTo: 0 });
    const before = await addressHits();
    for (let i = 0; i < 4; i++)
      expect({ i, status: (await asSurvivor(t, a).putRecord(up.id, i, up.records[i])).status }).toEqual({ i, status: 200 });
    expectError(await asSurvivor(t, a).putRecord(up.id, 4, up.records[4]), 429, 'rate_limited');
    expect((await asSurvivor(t, a).get(`/api/survivor/attachments/${up.id}`)).body.received).toBe(4);
    // Only that one status request counted against the address.
    expect(await addressHits()).toBe(before + 1);

    // Another survivor behind the same address still has her whole budget.
    const other = await uploadFile(t, b, nacl.randomBytes(10));
    expect((await asSurvivor(t, b).get(`/api/survivor/attachments/${other.id}`)).body).toMatchObject({ received: 1, closed: true });

    // The counters name neither survivor: a keyed hash of each, rotated daily like the address key.
    const keys = await counterKeys(t, 'records:');
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).toMatch(/^records:s\.[A-Za-z0-9_-]{32}$/);
    const ids: string[] = (await t.db('survivors').select('id')).map((r: { id: string }) => r.id);
    for (const id of ids) expect(keys.join('\n')).not.toContain(id);

    // A record request without a valid token counts against the address, and is refused.
    const counted = await addressHits();
    expectError(
      await request(t.app)
        .put(`/api/survivor/attachments/${up.id}/records/4`)
        .set('Authorization', 'Bearer forged.token')
        .set('Content-Type', 'application/octet-stream')
        .send(Buffer.from(up.records[4])),
      401,
      'unauthorized',
    );
    expect(await addressHits()).toBe(counted + 1);

    // A minute later her budget is back.
    clock += 60_000;
    expect((await asSurvivor(t, a).putRecord(up.id, 4, up.records[4])).status).toBe(200);
  });

  test("a moderator's record downloads use their own budget", async () => {
    clock += 60_000;
    const admin = await setupAdmin(t, ['admin']);
    const mod = await addStaff(t, admin, 'mod.limits');
    const s = await registerSurvivor(t);
    const up = await uploadFile(t, s, nacl.randomBytes(100));
    expect((await submitTestimony(t, s, 'with a file', [up.manifest])).res.status).toBe(201);
    const before = await addressHits();
    for (let i = 1; i <= 4; i++)
      expect({ i, status: (await mod.agent.get(`/api/staff/attachments/${up.id}/records/0`)).status }).toEqual({ i, status: 200 });
    expectError(await mod.agent.get(`/api/staff/attachments/${up.id}/records/0`), 429, 'rate_limited');
    expect(await addressHits()).toBe(before);
    expect(await counterKeys(t, 'records:t.')).toHaveLength(1);
  });

  test('a made-up staff cookie gets a record request past no limit: refused, it counts against its address', async () => {
    clock += 60_000;
    const forged = () => request(t.app).get('/api/staff/attachments/x/records/0').set('Cookie', 'awaaz_staff=made-up');
    const thisMinute = async () =>
      (await counterRows(t)).filter((r) => r.key.startsWith('all:') && r.resetAt > clock).reduce((n, r) => n + r.hits, 0);
    expect(await thisMinute()).toBe(0);
    expectError(await forged(), 401, 'unauthorized');
    expect(await thisMinute()).toBe(1);
    // The address's general budget (80 a minute here) runs out like any other client's.
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) statuses.push((await forged()).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(79);
    expectError(await forged(), 429, 'rate_limited');
    expect(statuses.at(-1)).toBe(429);
  });
});
