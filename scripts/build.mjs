// Builds Awaaz into dist/: the server and CLI (bundled, node_modules left external) and the
// pages (minified scripts). Every <script> and stylesheet gets a Subresource Integrity hash,
// so a tampered asset is refused by the browser.
//
// Survivor pages share their code through "layers" instead of each carrying its own copy of
// tweetnacl, argon2 and the word list (DESIGN.md: 80 KB gzipped for all survivor pages):
//   survivor-base.js    language, the English catalog, quick exit, DOM and API helpers (every survivor
//                       page, loaded blocking in the head so the language is set before the body is
//                       drawn; other languages' catalogs are lazy assets, catalog-<lang>.js)
//   survivor-crypto.js  protocol/ and the survivor's crypto helpers (share and return)
//   <page>.js           what is particular to one page
// A layer exposes each of its first-party modules (client/, protocol/, i18n/) on globalThis.AwaazCore,
// keyed by source path; later layers and page scripts import those modules as usual, and the
// plugin below turns such an import into a read of that global, so every module ships once.
// Staff pages stay self-contained bundles.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';
import zopfli from '@gfx/zopfli';
import { build, transformSync } from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const clientOut = path.join(dist, 'client');
const assetsOut = path.join(clientOut, 'assets');

export const PAGE_ENTRIES = ['landing', 'share', 'return', 'safety', 'public', 'setup', 'invite', 'staff'];

/** Shared survivor scripts, in load order. `entry` runs for its side effects; `roots` are what it must contain. */
export const LAYERS = [
  {
    name: 'survivor-base',
    entry: 'client/survivor-base.ts',
    roots: [
      'client/lib/messages.ts',
      'client/lib/i18n.ts',
      'client/lib/dom.ts',
      'client/lib/api.ts',
      'client/lib/quick-exit.ts',
      'client/lib/survivor-page.ts',
    ],
    blocking: true,
  },
  {
    name: 'survivor-crypto',
    roots: [
      'protocol/survivor.ts',
      'client/lib/survivor.ts',
      'client/lib/testimony.ts',
      'client/lib/trust.ts',
      'client/lib/sharing.ts',
      'client/lib/survivor-publishing.ts',
      'client/lib/case-thread.ts',
      'client/lib/attachment-view.ts',
      'client/lib/evidence-slot.ts',
      // Both pages offer the matching escrow (share once the testimony is sent, return after sign-in).
      'client/lib/matching-loader.ts',
    ],
  },
];

/**
 * Scripts a page loads only when it needs them, by name and hash (not counted in the survivor
 * pages' budget: bench/page-size.ts LAZY_ASSETS). `define` names the constants through which
 * the loading code learns the script's path (_SRC) and its Subresource Integrity hash (_SRI).
 */
export const LAZY_SCRIPTS = [
  { name: 'pdf-cleaner', entry: 'client/pdf-cleaner.ts', define: 'AWAAZ_PDF_CLEANER' },
  // A Worker script (argon2id in pure JavaScript, proof of work) for browsers without WebAssembly.
  { name: 'kdf-worker', entry: 'client/kdf-worker.ts', define: 'AWAAZ_KDF_WORKER' },
];

/**
 * Pages whose own script loads blocking in the head, right after its layers: the public pages'
 * script registers their messages, which must be there before survivor-base translates the body.
 */
export const BLOCKING_PAGES = ['public'];

/** Which layers each survivor page loads before its own script; other pages load none. */
export const PAGE_LAYERS = {
  // landing verifies the keyset chain to show the fingerprint: it needs the crypto too
  landing: ['survivor-base', 'survivor-crypto'],
  safety: ['survivor-base'],
  public: ['survivor-base'],
  share: ['survivor-base', 'survivor-crypto'],
  return: ['survivor-base', 'survivor-crypto'],
};

const BROWSER = {
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  format: 'iife',
  minify: true,
  legalComments: 'none',
  // Urdu text as UTF-8, not \u escapes (three times smaller); pages are served as UTF-8.
  charset: 'utf8',
  // tweetnacl looks for node's crypto as a fallback; browsers use crypto.getRandomValues.
  external: ['crypto'],
  logLevel: 'warning',
};

fs.rmSync(clientOut, { recursive: true, force: true });
fs.mkdirSync(assetsOut, { recursive: true });

const benchEntries = fs.existsSync(path.join(root, 'bench'))
  ? fs
      .readdirSync(path.join(root, 'bench'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `bench/${f}`)
  : [];

await build({
  absWorkingDir: root,
  entryPoints: ['server/main.ts', 'server/admin-cli.ts', ...benchEntries],
  outdir: dist,
  outbase: '.',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

const sri = (file) => 'sha384-' + crypto.createHash('sha384').update(fs.readFileSync(file)).digest('base64');

/** Bundles a TypeScript module for node and returns its exports (the build reads the catalogs and the noscript notice this way). */
async function nodeModule(entry) {
  const out = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    write: false,
    logLevel: 'warning',
  });
  const loaded = { exports: {} };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- runs the CommonJS bundle esbuild just built from our own TypeScript
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(loaded, loaded.exports, createRequire(import.meta.url));
  return loaded.exports;
}

// Lazy scripts first: the code that loads them is built with their path and hash.
BROWSER.define = {};

// Every language but English: one data script each (i18n/lazy-catalogs.ts), which
// client/lib/i18n.ts loads under its hash only for a reader of that language, so no survivor
// page carries another language's messages up front (bench/page-size.ts LAZY_ASSETS).
const { LAZY_CATALOGS, catalogAsset } = await nodeModule('i18n/lazy-catalogs.ts');
const { catalogAssetPath } = await nodeModule('i18n/languages.ts');
const catalogAssets = {};
for (const lang of Object.keys(LAZY_CATALOGS)) {
  const url = catalogAssetPath(lang);
  const out = path.join(clientOut, url);
  // JSON is a JavaScript expression; the text stays UTF-8, like the scripts (charset: 'utf8').
  fs.writeFileSync(
    out,
    `(globalThis.AwaazCatalogs=globalThis.AwaazCatalogs||{})[${JSON.stringify(lang)}]=${JSON.stringify(catalogAsset(lang))};\n`,
  );
  catalogAssets[lang] = { src: url, sri: sri(out) };
}
BROWSER.define.AWAAZ_CATALOGS = JSON.stringify(catalogAssets);
for (const lazy of LAZY_SCRIPTS) {
  const out = path.join(assetsOut, `${lazy.name}.js`);
  await build({ ...BROWSER, entryPoints: [lazy.entry], outfile: out });
  BROWSER.define[`${lazy.define}_SRC`] = JSON.stringify(`/assets/${lazy.name}.js`);
  BROWSER.define[`${lazy.define}_SRI`] = JSON.stringify(sri(out));
}

const rel = (abs) => path.relative(root, abs).split(path.sep).join('/');
const firstParty = (p) => /^(client|protocol|i18n)\//.test(p);
const SKIP = Symbol('awaaz-layers: inner resolve');

/** Resolves imports of modules that an already built layer exposes to a read of globalThis.AwaazCore. */
function layerImports(layers) {
  return {
    name: 'awaaz-layers',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === SKIP) return undefined;
        const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SKIP });
        if (r.errors.length > 0 || r.external || r.namespace !== 'file') return undefined;
        const id = rel(r.path);
        for (const layer of layers) {
          if (layer.exposed.has(id)) return { path: id, namespace: 'awaaz-layer', pluginData: layer.name };
          if (layer.inputs.has(id))
            return {
              errors: [
                {
                  text: `${id} is bundled inside ${layer.name}.js but not exposed by it: import it through a first-party module of that layer`,
                },
              ],
            };
        }
        return undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'awaaz-layer' }, (args) => ({
        loader: 'js',
        contents:
          `var m = (globalThis.AwaazCore || {})[${JSON.stringify(args.path)}];\n` +
          `if (!m) throw new Error(${JSON.stringify(`Awaaz: ${args.path} is missing; load ${args.pluginData}.js before this script`)});\n` +
          'module.exports = m;\n',
      }));
    },
  };
}

/**
 * The English text of a message that only the survivor pages' HTML names (data-i18n,
 * data-i18n-attr) and no code does is already in the page, as its no-JavaScript fallback
 * (test/unit/i18n-catalog.test.ts checks it is the catalog's): survivor-base.js ships such a
 * message's key with an empty value, and lib/i18n.ts shows the page's own text for it when
 * the reader switches back to English. About 4 KB gzipped of the survivor pages' 80 KB (the
 * safety page's text, mostly). A key any code names (client/, protocol/, server/, the other
 * catalogs), literally or by a `prefix.${...}` template or a 'prefix.' + concatenation, keeps its English.
 */
const htmlOnlyEnglish = await (async () => {
  const { en } = await nodeModule('i18n/en.ts');
  /** Every file under dir whose path passes keep, with its path relative to root. */
  const filesUnder = (dir, keep) =>
    fs
      .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
      .map((f) => `${dir}/${f}`)
      .filter(keep)
      .map((f) => fs.readFileSync(path.join(root, f), 'utf8'));
  const html = filesUnder('client/pages', (f) => f.endsWith('.html')).join('\n');
  const code = ['client', 'protocol', 'server', 'i18n']
    .flatMap((dir) => filesUnder(dir, (f) => f.endsWith('.ts') && f !== 'i18n/en.ts' && f !== 'i18n/ur.ts'))
    .join('\n');
  const named = new Set();
  for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) named.add(m[1]);
  for (const m of html.matchAll(/data-i18n-attr="([^"]+)"/g)) for (const pair of m[1].split(';')) named.add(pair.split(':')[1]?.trim());
  const prefixes = [...code.matchAll(/`([A-Za-z]+\.)\$\{|['"]([A-Za-z]+\.)['"]\s*\+/g)].map((m) => m[1] ?? m[2]);
  const inCode = (key) => ["'", '"', '`'].some((q) => code.includes(q + key + q)) || prefixes.some((p) => key.startsWith(p));
  const stripped = Object.fromEntries(Object.entries(en).map(([key, value]) => [key, named.has(key) && !inCode(key) ? '' : value]));
  return {
    name: 'awaaz-html-only-english',
    setup(b) {
      b.onLoad({ filter: /[\\/]i18n[\\/]en\.ts$/ }, () => ({ loader: 'js', contents: `export const en = ${JSON.stringify(stripped)};` }));
    },
  };
})();

/** Builds one layer: a first pass finds its modules, the second exposes every first-party one. */
async function buildLayer(layer, before) {
  const imports = [...(layer.entry ? [layer.entry] : []), ...layer.roots].map((p) => `import ${JSON.stringify('./' + p)};`).join('\n');
  const probe = await build({
    ...BROWSER,
    stdin: { contents: imports, resolveDir: root, sourcefile: `${layer.name}.probe.js` },
    write: false,
    outfile: 'probe.js',
    metafile: true,
    plugins: [htmlOnlyEnglish, layerImports(before)],
  });
  const inputs = new Set(Object.keys(probe.metafile.inputs).filter((p) => !p.includes(':') && !p.endsWith('.probe.js')));
  const exposed = [...inputs].filter(firstParty).sort();
  const entry = [
    ...exposed.map((p, i) => `import * as m${i} from ${JSON.stringify('./' + p)};`),
    ...(layer.entry ? [`import ${JSON.stringify('./' + layer.entry)};`] : []),
    'var core = globalThis.AwaazCore || (globalThis.AwaazCore = {});',
    ...exposed.map((p, i) => `core[${JSON.stringify(p)}] = m${i};`),
  ].join('\n');
  await build({
    ...BROWSER,
    stdin: { contents: entry, resolveDir: root, sourcefile: `${layer.name}.entry.js` },
    outfile: path.join(assetsOut, `${layer.name}.js`),
    plugins: [htmlOnlyEnglish, layerImports(before)],
  });
  return { ...layer, inputs, exposed: new Set(exposed) };
}

const builtLayers = [];
for (const layer of LAYERS) builtLayers.push(await buildLayer(layer, [...builtLayers]));
const layerByName = Object.fromEntries(builtLayers.map((l) => [l.name, l]));

/**
 * Scripts built against the survivor layers and loaded by a page only on a survivor's action:
 * the page names each in <meta name="awaaz-<name>" content="<path> <sri>"> ({{lazy:<name>}}).
 * Not counted in the survivor pages' budget (bench/page-size.ts LAZY_ASSETS).
 */
export const LAZY_LAYERED = [
  { name: 'evidence-tools', entry: 'client/evidence-tools.ts' },
  // The matching escrow (the OPRF of @noble/curves), loaded by the share and return pages only when a survivor adds an identifier.
  { name: 'matching', entry: 'client/matching.ts' },
  // The drafts proposed to a survivor, loaded by the return page only for a case that has one.
  { name: 'drafts', entry: 'client/drafts.ts' },
];
for (const lazy of LAZY_LAYERED) {
  await build({
    ...BROWSER,
    entryPoints: [lazy.entry],
    outfile: path.join(assetsOut, `${lazy.name}.js`),
    plugins: [layerImports(builtLayers)],
  });
}

for (const page of PAGE_ENTRIES) {
  const layers = (PAGE_LAYERS[page] ?? []).map((n) => layerByName[n]);
  await build({
    ...BROWSER,
    entryPoints: { [page]: `client/${page}.ts` },
    outdir: assetsOut,
    plugins: layers.length ? [layerImports(layers)] : [],
  });
}
// Stylesheets are minified like the scripts (comments and spaces are a third of them, a
// kilobyte of the survivor pages' 80 KB once gzipped); same targets, so nothing is rewritten
// for older browsers and the logical properties stay as written.
const writeStyle = (src, out) =>
  fs.writeFileSync(
    out,
    transformSync(fs.readFileSync(src, 'utf8'), {
      loader: 'css',
      minify: true,
      target: BROWSER.target,
      charset: 'utf8',
      logLevel: 'warning',
    }).code,
  );
writeStyle(path.join(root, 'client/styles.css'), path.join(assetsOut, 'awaaz.css'));

// {{style:<name>}}: an extra stylesheet, client/<name>.css (staff.css for the staff, setup and invite pages).
const extraStyle = (name) => {
  const src = path.join(root, 'client', `${name}.css`);
  if (!fs.existsSync(src)) throw new Error(`a page names a stylesheet "${name}" but client/${name}.css does not exist`);
  const out = path.join(assetsOut, `${name}.css`);
  writeStyle(src, out);
  return `<link rel="stylesheet" href="/assets/${name}.css" integrity="${sri(out)}">`;
};
const scriptTag = (name, blocking) => {
  const js = path.join(assetsOut, `${name}.js`);
  if (!fs.existsSync(js)) throw new Error(`a page names a script "${name}" that was not built`);
  return `<script${blocking ? '' : ' defer'} src="/assets/${name}.js" integrity="${sri(js)}"></script>`;
};
// {{noscript}}: what a page says when its scripts cannot run, rendered from the catalogs by
// server/http/html.ts (the module the server renders its public pages with).
const noscriptHtml = (await nodeModule('server/http/html.ts')).noscriptNotice();
const pagesDir = path.join(root, 'client/pages');
const partialsDir = path.join(pagesDir, 'partials');
for (const file of fs.readdirSync(pagesDir).filter((f) => f.endsWith('.html'))) {
  const html = fs
    .readFileSync(path.join(pagesDir, file), 'utf8')
    .replace(/\{\{include:([a-z-]+)\}\}\n?/g, (_m, name) => fs.readFileSync(path.join(partialsDir, `${name}.html`), 'utf8'))
    .replace(/\{\{noscript\}\}/g, () => noscriptHtml)
    .replace(
      /\{\{style\}\}/g,
      () => `<link rel="stylesheet" href="/assets/awaaz.css" integrity="${sri(path.join(assetsOut, 'awaaz.css'))}">`,
    )
    .replace(/\{\{style:([a-z]+)\}\}/g, (_m, name) => extraStyle(name))
    .replace(/\{\{lazy:([a-z-]+)\}\}/g, (_m, name) => {
      const js = path.join(assetsOut, `${name}.js`);
      if (!LAZY_LAYERED.some((l) => l.name === name) || !fs.existsSync(js))
        throw new Error(`a page names a lazy script "${name}" that was not built`);
      return `<meta name="awaaz-${name}" content="/assets/${name}.js ${sri(js)}">`;
    })
    .replace(/\{\{script:([a-z]+)\}\}/g, (_m, name) =>
      [...(PAGE_LAYERS[name] ?? []).map((n) => scriptTag(n, layerByName[n].blocking)), scriptTag(name, BLOCKING_PAGES.includes(name))].join(
        '\n',
      ),
    )
    // Indentation is only for the source (the pages hold no <pre>): it costs the survivor pages' budget.
    .replace(/\n[ \t]+/g, '\n');
  if (/\{\{/.test(html)) throw new Error(`${file} has a placeholder the build does not know`);
  fs.writeFileSync(path.join(clientOut, file), html);
}

/**
 * Compressed copies of every page, script and stylesheet, made once here at the highest levels
 * (brotli 11; gzip by zopfli, whose output any gzip reader reads and is about 6% smaller than
 * gzip -9: the copy Tor Browser gets from an onion service, which is http and so offered no br;
 * files over 256 KB, read only on demand, get gzip -9, which is much quicker to make) rather
 * than on each request: server/http/static.ts sends the one a
 * request's Accept-Encoding allows (its COMPRESSED_TYPES lists the same extensions). A copy
 * that would not be smaller is not written. Integrity hashes above are over these files'
 * decoded bytes, so they hold for every copy.
 */
const COMPRESSED_TYPES = ['.html', '.js', '.css'];
let compressed = 0;
for (const dir of [clientOut, assetsOut]) {
  for (const name of fs.readdirSync(dir).filter((f) => COMPRESSED_TYPES.includes(path.extname(f)))) {
    const file = path.join(dir, name);
    const bytes = fs.readFileSync(file);
    const copies = {
      br: zlib.brotliCompressSync(bytes, {
        params: {
          [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
          [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
      gz:
        bytes.length <= 256 * 1024 ? Buffer.from(await zopfli.gzipAsync(bytes, { numiterations: 15 })) : zlib.gzipSync(bytes, { level: 9 }),
    };
    for (const [suffix, copy] of Object.entries(copies)) {
      if (copy.length >= bytes.length) continue;
      fs.writeFileSync(`${file}.${suffix}`, copy);
      compressed++;
    }
  }
}
console.log(
  `built server, ${PAGE_ENTRIES.length} pages, ${LAYERS.length} survivor layers, ${LAZY_SCRIPTS.length + LAZY_LAYERED.length} lazy scripts, ${Object.keys(catalogAssets).length} lazy catalogs and ${benchEntries.length} benchmarks into dist/, with ${compressed} compressed copies`,
);
