#!/usr/bin/env node
/**
 * Shares of a server's CPU profile (node --cpu-prof) by part of the stack, for bench/README.md:
 * `node scripts/profile-shares.mjs /tmp/prof/CPU.*.cpuprofile`. Self time of each function,
 * grouped by the package or node module it belongs to; idle time is left out, so the shares
 * are of the time the main thread was busy. The app's own code is bundled into one file by
 * scripts/build.mjs, so its functions are listed by name below the groups. A native function
 * (no url: a C++ binding such as OpenSSL's one-shot verify) is counted with the part that called
 * it, so that "native: run" does not hide which part of the stack spent the time; the bench's own
 * call that stops the profiler (node:inspector) is left out.
 */
import fs from 'node:fs';

const GROUPS = [
  ['sqlite3 driver', /node_modules\/sqlite3\//],
  ['knex (query building, transactions, pool)', /node_modules\/(knex|tarn|pg-connection-string|getopts|rechoir|interpret|lodash)\//],
  ['pg driver', /node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass)\//],
  [
    'express and its body parser',
    /node_modules\/(express|router|body-parser|raw-body|finalhandler|send|serve-static|on-finished|statuses|content-type|type-is|iconv-lite|qs|http-errors|depd|mime-types|mime-db|media-typer|negotiator|accepts|debug|ms|cookie|content-disposition|vary|encodeurl|escape-html|etag|fresh|range-parser|parseurl|path-to-regexp|proxy-addr|forwarded|ipaddr\.js|merge-descriptors|safe-buffer|setprototypeof|toidentifier|unpipe|bytes|destroy|ee-first|inherits|once|wrappy|is-promise|call-bound|math-intrinsics|side-channel[^/]*|object-inspect|es-[^/]*|get-intrinsic|function-bind|has-symbols|hasown|gopd|dunder-proto|get-proto)\//,
  ],
  ['helmet', /node_modules\/helmet\//],
  ['express-rate-limit', /node_modules\/express-rate-limit\//],
  ['zod', /node_modules\/zod\//],
  [
    'node http, net, streams, events',
    /^node:(_http|http|net|internal\/(http|stream|streams|net|js_stream|timers|dns)|stream|events|internal\/event_target|timers)/,
  ],
  ['node crypto', /^node:(internal\/crypto|crypto)/],
  ['other node internals', /^node:/],
  ['app code (dist bundle)', /\/dist\//],
];

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/profile-shares.mjs PROFILE.cpuprofile');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const selfMs = new Map();
profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));

const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);

function groupOfUrl(url) {
  return GROUPS.find(([, re]) => re.test(url))?.[0] ?? `other: ${url.replace(/.*node_modules\//, '').split('/')[0]}`;
}
/** The nearest caller with a url, or undefined; null when the node runs under node:inspector. */
function callerUrl(node) {
  for (let up = parentOf.get(node.id); up; up = parentOf.get(up.id)) {
    if (up.callFrame.url.startsWith('node:inspector')) return null;
    if (up.callFrame.url) return up.callFrame.url;
  }
  return undefined;
}
const underInspector = (node) => node.callFrame.url.startsWith('node:inspector') || callerUrl(node) === null;

const byGroup = new Map();
const byAppFunction = new Map();
let busy = 0;
for (const node of profile.nodes) {
  const ms = selfMs.get(node.id) ?? 0;
  if (ms === 0) continue;
  const { url, functionName } = node.callFrame;
  if (functionName === '(idle)' || underInspector(node)) continue;
  busy += ms;
  let group;
  if (functionName === '(garbage collector)') group = 'garbage collection';
  else if (functionName === '(program)') group = 'native, outside JavaScript ((program))';
  else if (!url) {
    const caller = callerUrl(node);
    group = caller ? groupOfUrl(caller) : `native: ${functionName}`;
  } else group = groupOfUrl(url);
  byGroup.set(group, (byGroup.get(group) ?? 0) + ms);
  if (group === 'app code (dist bundle)')
    byAppFunction.set(functionName || '(anonymous)', (byAppFunction.get(functionName || '(anonymous)') ?? 0) + ms);
}
const rows = [...byGroup].sort((a, b) => b[1] - a[1]);
console.log(`busy main-thread time: ${(busy / 1000).toFixed(2)} s`);
let small = 0;
for (const [group, ms] of rows) {
  const share = (100 * ms) / busy;
  if (share < 0.5) small += share;
  else console.log(`${share.toFixed(1).padStart(5)} %  ${group}`);
}
console.log(`${small.toFixed(1).padStart(5)} %  (groups under 0.5 % each)`);
console.log('\napp code, by function (top 12):');
for (const [fn, ms] of [...byAppFunction].sort((a, b) => b[1] - a[1]).slice(0, 12))
  console.log(`${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${fn}`);
