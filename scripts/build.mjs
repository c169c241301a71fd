// Builds Awaaz into dist/: the server and CLI (bundled, node_modules left external) and the
// pages (one script per page, minified). Every <script> and stylesheet gets a Subresource
// Integrity hash, so a tampered asset is refused by the browser.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const clientOut = path.join(dist, 'client');
const assetsOut = path.join(clientOut, 'assets');

export const PAGE_ENTRIES = ['landing', 'share', 'return', 'setup', 'invite', 'staff'];

fs.rmSync(clientOut, { recursive: true, force: true });
fs.mkdirSync(assetsOut, { recursive: true });

const benchEntries = fs.existsSync(path.join(root, 'bench'))
  ? fs.readdirSync(path.join(root, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => `bench/${f}`)
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

await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(PAGE_ENTRIES.map((p) => [p, `client/${p}.ts`])),
  outdir: assetsOut,
  bundle: true,
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  format: 'iife',
  minify: true,
  legalComments: 'none',
  // tweetnacl looks for node's crypto as a fallback; browsers use crypto.getRandomValues.
  external: ['crypto'],
  logLevel: 'warning',
});
fs.copyFileSync(path.join(root, 'client/styles.css'), path.join(assetsOut, 'awaaz.css'));

const sri = (file) => 'sha384-' + crypto.createHash('sha384').update(fs.readFileSync(file)).digest('base64');
const pagesDir = path.join(root, 'client/pages');
for (const file of fs.readdirSync(pagesDir).filter((f) => f.endsWith('.html'))) {
  const html = fs.readFileSync(path.join(pagesDir, file), 'utf8')
    .replace(/\{\{style\}\}/g, () => `<link rel="stylesheet" href="/assets/awaaz.css" integrity="${sri(path.join(assetsOut, 'awaaz.css'))}">`)
    .replace(/\{\{script:([a-z]+)\}\}/g, (_m, name) => {
      const js = path.join(assetsOut, `${name}.js`);
      if (!fs.existsSync(js)) throw new Error(`${file} names a script "${name}" that was not built`);
      return `<script defer src="/assets/${name}.js" integrity="${sri(js)}"></script>`;
    });
  fs.writeFileSync(path.join(clientOut, file), html);
}
console.log(`built server, ${PAGE_ENTRIES.length} pages and ${benchEntries.length} benchmarks into dist/`);
