/**
 * docs/api.md against the running app: every route the app answers (read from the Express
 * router stacks of createApp, not from the route files) is a row of section 3's route tables,
 * and every row there is a route the app answers. Each /api route also has a section of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeTestServer, ROOT, type TestServer } from '../support/harness';

interface RouteKey {
  method: string;
  path: string;
}

/** What this test needs of an Express 5 (router 2) layer. */
interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
}

/** Every method + path the app routes, with mount paths joined and `:params` as written. */
function appRoutes(stack: Layer[], prefix = ''): RouteKey[] {
  const out: RouteKey[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const p of ([] as string[]).concat(layer.route.path)) {
        for (const method of Object.keys(layer.route.methods)) {
          if (method === '_all') throw new Error(`${prefix}${p}: a route for every method; list its methods in docs/api.md instead`);
          out.push({ method: method.toUpperCase(), path: prefix + p });
        }
      }
    } else if (layer.handle?.stack) {
      if (typeof layer.rawPath !== 'string') throw new Error('a router mounted on a path this test cannot read');
      out.push(...appRoutes(layer.handle.stack, prefix + (layer.rawPath === '/' ? '' : layer.rawPath)));
    }
  }
  return out;
}

const DOC = path.join(ROOT, 'docs/api.md');
/** A route row: `| METHOD | `path` | …` */
const ROW = /^\|\s*(GET|HEAD|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`\s*\|/;

/** Section 3's route rows, one per method + path. */
function documentedRoutes(markdown: string): RouteKey[] {
  const start = markdown.indexOf('\n## 3. Routes');
  const end = markdown.indexOf('\n## 4. ', start);
  if (start < 0 || end < 0) throw new Error('docs/api.md has no "## 3. Routes" followed by "## 4."');
  return markdown
    .slice(start, end)
    .split('\n')
    .map((line) => ROW.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ method: m[1], path: m[2] }));
}

const key = (r: RouteKey) => `${r.method} ${r.path}`;

let t: TestServer;
let served: string[];
let documented: string[];
let markdown: string;
beforeAll(async () => {
  t = await makeTestServer();
  const router = (t.app as unknown as { router: { stack: Layer[] } }).router;
  served = appRoutes(router.stack).map(key);
  markdown = fs.readFileSync(DOC, 'utf8');
  documented = documentedRoutes(markdown).map(key);
});
afterAll(() => t.close());

test('the walk finds the routes (it can fail: a change in how Express keeps them would show here)', () => {
  expect(served).toEqual(
    expect.arrayContaining(['GET /api/instance', 'POST /api/survivor/cases/:caseId/messages', 'GET /stories/:alias', 'GET /']),
  );
  expect(served.length).toBeGreaterThan(60);
});

test('every route the app answers is in the route tables of docs/api.md', () => {
  expect(served.filter((r) => !documented.includes(r))).toEqual([]);
});

test('every route in the route tables of docs/api.md is one the app answers', () => {
  expect(documented.filter((r) => !served.includes(r))).toEqual([]);
});

test('no route is listed twice, in the app or in the document', () => {
  const twice = (list: string[]) => list.filter((r, i) => list.indexOf(r) !== i);
  expect(twice(served)).toEqual([]);
  expect(twice(documented)).toEqual([]);
});

test('every /api route has a section of its own (a #### heading naming it)', () => {
  const headings = markdown.split('\n').filter((line) => line.startsWith('#### '));
  const missing = served.filter((r) => r.includes(' /api/')).filter((r) => !headings.some((h) => h.includes('`' + r + '`')));
  expect(missing).toEqual([]);
});

test('the parser reads a route row and nothing else (it can fail)', () => {
  const sample =
    '\n## 3. Routes\n| method | path |\n|---|---|\n| GET | `/api/a/:id` | x |\n| 400 | `invalid_request` | y |\n## 4. Sequences\n| POST | `/api/b` | z |\n';
  expect(documentedRoutes(sample).map(key)).toEqual(['GET /api/a/:id']);
});
