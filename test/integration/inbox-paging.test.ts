/**
 * The staff inbox pages by keyset (cursor): paging through hundreds of cases with each filter
 * and both orders gives every matching case exactly once, in order; cases that arrive or
 * change status between pages move no other case across the cursor; bad cursors and page
 * numbers are refused and write nothing. Runs on SQLite, and on PostgreSQL with
 * TEST_DATABASE_URL.
 */
import nacl from 'tweetnacl';
import { randomId, STATUS_VALUES, toBase64url } from '../../protocol';
import type { CaseList, CaseStatus } from '../../protocol/api';
import { INBOX_COUNT_LIMIT, INBOX_PAGE_SIZE } from '../../server/db/case-repo';
import { newHandle } from '../../server/services/pseudonyms';
import { expectError, MARKER } from './expect-error';
import { addStaff, makeTestServer, setupAdmin, unchanged, type StaffActor, type TestServer } from '../support/harness';

const STATUSES: readonly CaseStatus[] = STATUS_VALUES;
/** Enough for several pages of every filter; many cases share a day, so ties are ordered by id. */
const CASES = 330;

interface Seeded {
  id: string;
  day: string;
  status: CaseStatus;
  assignee: string | null;
}

let t: TestServer;
let mod: StaffActor;
let other: StaffActor;
let seeded: Seeded[] = [];

/** Cases written straight through the repositories (the inbox reads only case rows), spread over 2020. */
async function seed(count: number, dayOf: (n: number) => string): Promise<Seeded[]> {
  const made: Seeded[] = [];
  await t.db.transaction(async (trx) => {
    for (let n = 0; n < count; n++) {
      const survivorId = randomId();
      await t.ctx.repos.survivors.insert(
        trx,
        { id: survivorId, handle: newHandle(), signPk: toBase64url(nacl.randomBytes(32)), boxPk: toBase64url(nacl.randomBytes(32)) },
        dayOf(n),
      );
      const c: Seeded = {
        id: randomId(),
        day: dayOf(n),
        status: STATUSES[n % STATUSES.length],
        assignee: [mod.staffId, other.staffId, null][n % 3],
      };
      await t.ctx.repos.cases.insert(trx, { id: c.id, survivorId, advocatesMayRead: false, day: c.day });
      await t.ctx.repos.cases.update(trx, c.id, { status: c.status, assigneeId: c.assignee, day: c.day });
      made.push(c);
    }
  });
  return made;
}

const day2020 = (n: number) => `2020-${String(1 + (n % 12)).padStart(2, '0')}-${String(1 + ((n * 7) % 5)).padStart(2, '0')}`;

/** What the inbox should list, in order, computed here from what was seeded. */
function expected(
  cases: Seeded[],
  f: { status?: CaseStatus; assignee?: string | null; from?: string; to?: string; sort?: 'newest' | 'oldest' },
): string[] {
  const byKey = (a: Seeded, b: Seeded) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const kept = cases
    .filter(
      (c) =>
        (f.status === undefined || c.status === f.status) &&
        (f.assignee === undefined || c.assignee === f.assignee) &&
        (!f.from || c.day >= f.from) &&
        (!f.to || c.day <= f.to),
    )
    .sort(byKey);
  return (f.sort === 'oldest' ? kept : kept.reverse()).map((c) => c.id);
}

async function page(query: string, cursor?: string): Promise<CaseList> {
  const res = await mod.agent.get(`/api/staff/cases?${query}${cursor ? `${query ? '&' : ''}cursor=${cursor}` : ''}`);
  expect(res.status).toBe(200);
  const list = res.body as CaseList;
  expect(list.pageSize).toBe(INBOX_PAGE_SIZE);
  expect(list.cases.length).toBeLessThanOrEqual(INBOX_PAGE_SIZE);
  return list;
}

/** Follows nextCursor to the end; `between` runs after each page but the last. */
async function pageThrough(query: string, between?: (pageNumber: number) => Promise<void>): Promise<{ ids: string[]; pages: CaseList[] }> {
  const pages: CaseList[] = [];
  let cursor: string | undefined;
  for (;;) {
    const list = await page(query, cursor);
    pages.push(list);
    if (list.nextCursor === null) break;
    expect(list.cases).toHaveLength(INBOX_PAGE_SIZE); // only the last page is short
    cursor = list.nextCursor;
    await between?.(pages.length);
  }
  return { ids: pages.flatMap((p) => p.cases.map((c) => c.caseId)), pages };
}

beforeAll(async () => {
  t = await makeTestServer();
  const admin = await setupAdmin(t, ['admin']);
  mod = await addStaff(t, admin, 'mod.pager');
  other = await addStaff(t, admin, 'mod.other');
  seeded = await seed(CASES, day2020);
});
afterAll(() => t.close());

describe('paging through every case with each filter', () => {
  const listings: [string, string, (me: string, them: string) => Parameters<typeof expected>[1]][] = [
    ['no filter, newest first', '', () => ({})],
    ['no filter, oldest first', 'sort=oldest', () => ({ sort: 'oldest' })],
    ...STATUSES.map((s): [string, string, () => Parameters<typeof expected>[1]] => [`status=${s}`, `status=${s}`, () => ({ status: s })]),
    ['assignee=me', 'assignee=me', (me) => ({ assignee: me })],
    ['assignee=none, oldest first', 'assignee=none&sort=oldest', () => ({ assignee: null, sort: 'oldest' })],
    ['assignee=another moderator', '', (_me, them) => ({ assignee: them })],
    ['from and to', 'from=2020-03-01&to=2020-09-03', () => ({ from: '2020-03-01', to: '2020-09-03' })],
    [
      'status, assignee, from and to, oldest first',
      'status=closed&assignee=none&from=2020-02-01&sort=oldest',
      () => ({ status: 'closed', assignee: null, from: '2020-02-01', sort: 'oldest' }),
    ],
  ];
  test.each(listings)('%s: every matching case once, in order, over pages of 50', async (label, query, filter) => {
    const q = label === 'assignee=another moderator' ? `assignee=${other.staffId}` : query;
    const want = expected(seeded, filter(mod.staffId, other.staffId));
    const { ids, pages } = await pageThrough(q);
    expect(ids).toEqual(want);
    expect(pages).toHaveLength(Math.max(1, Math.ceil(want.length / INBOX_PAGE_SIZE)));
    for (const p of pages) expect([p.total, p.totalCapped]).toEqual([want.length, false]);
  });

  test('the unfiltered listing spans several pages and a filter that matches nothing gives one empty page', async () => {
    expect((await pageThrough('')).pages.length).toBeGreaterThanOrEqual(7);
    const none = await page('from=2001-01-01&to=2001-12-31');
    expect(none).toEqual({ cases: [], pageSize: INBOX_PAGE_SIZE, total: 0, totalCapped: false, nextCursor: null });
  });
});

describe('cases that arrive or change between pages', () => {
  test('none is skipped or repeated: newest first with a status filter', async () => {
    const before = new Set(expected(seeded, { status: 'new' }));
    const leftEarly: string[] = [];
    const arrived: string[] = [];
    const { ids } = await pageThrough('status=new', async () => {
      // A case arrives today (ahead of the cursor in this order)…
      const [fresh] = await seed(1, () => t.ctx.clock.today());
      arrived.push(fresh.id);
      seeded.push(fresh);
      // …and the oldest case still listed as new, which no page has reached yet, is closed.
      const still = expected(seeded, { status: 'new' });
      const leaving = still[still.length - 1];
      if (leaving) {
        await t.db.transaction((trx) => t.ctx.repos.cases.update(trx, leaving, { status: 'closed', day: t.ctx.clock.today() }));
        seeded.find((c) => c.id === leaving)!.status = 'closed';
        leftEarly.push(leaving);
      }
    });
    expect(new Set(ids).size).toBe(ids.length); // nothing repeated
    const stayed = [...before].filter((id) => !leftEarly.includes(id));
    expect(ids.filter((id) => before.has(id))).toEqual(expected(seeded, { status: 'new' }).filter((id) => before.has(id))); // order kept
    expect(ids).toEqual(expect.arrayContaining(stayed)); // nothing that stayed was skipped
    for (const id of leftEarly) expect(ids).not.toContain(id);
    for (const id of arrived) expect(ids).not.toContain(id); // they arrived before the cursor
    expect(leftEarly.length).toBeGreaterThan(0);
  });

  test('oldest first, cases that arrive are listed once at the end, and listed cases that change status move nothing', async () => {
    const before = expected(seeded, { sort: 'oldest' });
    const arrived: string[] = [];
    const { ids } = await pageThrough('sort=oldest', async (n) => {
      const [fresh] = await seed(1, () => t.ctx.clock.today());
      arrived.push(fresh.id);
      seeded.push(fresh);
      // A case already shown changes status and assignee: it must not reappear, nor shift others.
      const shown = before[(n - 1) * INBOX_PAGE_SIZE];
      await t.db.transaction((trx) =>
        t.ctx.repos.cases.update(trx, shown, { status: 'in_review', assigneeId: null, day: t.ctx.clock.today() }),
      );
      Object.assign(
        seeded.find((c) => c.id === shown)!,
        { status: 'in_review', assignee: null },
      );
    });
    // Every case once, in order, the arrivals among them (they sort after every earlier day).
    expect(ids).toEqual(expected(seeded, { sort: 'oldest' }));
    expect(ids).toEqual(expect.arrayContaining([...before, ...arrived]));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('bad cursors and page numbers are refused, name the cursor and write nothing', () => {
  let good: string;
  beforeAll(async () => {
    good = (await page('status=new')).nextCursor!;
    expect(good).toEqual(expect.any(String));
  });
  const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  test.each<[string, () => string, string, string[]]>([
    ['characters outside base64url', () => `cursor=${encodeURIComponent('not a cursor!')}`, 'bad_cursor', ['cursor']],
    ['base64url that is not JSON', () => `cursor=${Buffer.from(MARKER).toString('base64url')}`, 'bad_cursor', ['cursor']],
    ['JSON of the wrong shape', () => `cursor=${forge({ l: 'newest||||', d: MARKER, i: 1 })}`, 'bad_cursor', ['cursor']],
    [
      'JSON with an unknown field',
      () => `cursor=${forge({ l: 'newest||||', d: '2020-01-01', i: randomId(), x: MARKER })}`,
      'bad_cursor',
      ['cursor'],
    ],
    ['a cursor of another status', () => `status=closed&cursor=${good}`, 'bad_cursor', ['cursor', 'same status']],
    ['a cursor of another order', () => `status=new&sort=oldest&cursor=${good}`, 'bad_cursor', ['cursor']],
    ['a cursor without its filters', () => `cursor=${good}`, 'bad_cursor', ['cursor']],
    ['a page number beside a cursor', () => `status=new&page=2&cursor=${good}`, 'invalid_request', ['page:', 'cursor']],
    ['an empty cursor', () => 'cursor=', 'invalid_request', ['cursor:']],
  ])('%s', async (_label, query, code, mentions) => {
    await unchanged(t, async () => expectError(await mod.agent.get(`/api/staff/cases?${query()}`), 400, code, ...mentions));
    // and the server keeps serving: the good cursor still gives the next page
    expect((await page('status=new', good)).cases.length).toBeGreaterThan(0);
  });
});

test('past INBOX_COUNT_LIMIT matching cases the total stops there and says so, and paging still reaches every case', async () => {
  seeded.push(...(await seed(INBOX_COUNT_LIMIT + 1 - seeded.length, day2020)));
  const first = await page('');
  expect([first.total, first.totalCapped]).toEqual([INBOX_COUNT_LIMIT, true]);
  const { ids } = await pageThrough('sort=oldest');
  expect(ids).toEqual(expected(seeded, { sort: 'oldest' }));
  const closed = await page('status=closed');
  expect([closed.total, closed.totalCapped]).toEqual([expected(seeded, { status: 'closed' }).length, false]);
});
