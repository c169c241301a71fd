/**
 * Right-to-left layout without a second stylesheet: client/styles.css may only use logical
 * properties (margin-inline-start, inset-inline-end, text-align: start…). A physical left or
 * right, or a four-value shorthand whose left and right differ, would break the Urdu layout.
 */
import fs from 'node:fs';
import path from 'node:path';

const css = ['styles.css', 'public.css']
  .map((f) => fs.readFileSync(path.resolve(__dirname, '../../client', f), 'utf8'))
  .join('\n')
  .replace(/\/\*[\s\S]*?\*\//g, '');
/** Declarations inside rule blocks (innermost braces, so @media contents count and selectors do not). */
const declarations = [...css.matchAll(/\{([^{}]*)\}/g)]
  .flatMap((block) => block[1].split(';'))
  .map((d) => d.trim())
  .filter(Boolean)
  .map((d) => ({ prop: d.slice(0, d.indexOf(':')).trim(), value: d.slice(d.indexOf(':') + 1).trim() }));

function problems(decls: { prop: string; value: string }[]): string[] {
  const out: string[] = [];
  for (const { prop, value } of decls) {
    const where = `${prop}: ${value}`;
    if (/^(margin|padding|border|scroll-margin|scroll-padding)-(left|right)\b/.test(prop)) out.push(where);
    if (/^border-(top|bottom)-(left|right)-radius$/.test(prop)) out.push(where);
    if (prop === 'left' || prop === 'right') out.push(where);
    if (/^(float|clear|text-align|caption-side|justify-self|justify-items)$/.test(prop) && /\b(left|right)\b/.test(value)) out.push(where);
    if (/^background(-position)?$/.test(prop) && /\b(left|right)\b/.test(value)) out.push(where);
    if (/^(margin|padding|inset|border-width|border-style|border-color|scroll-margin|scroll-padding)$/.test(prop)) {
      const parts = value
        .replace(/!important/, '')
        .trim()
        .split(/\s+/);
      if (parts.length === 4 && parts[1] !== parts[3]) out.push(where);
    }
    if (prop === 'border-radius') {
      const parts = value.split('/')[0].trim().split(/\s+/);
      if (parts.length > 1 && new Set(parts).size > 1) out.push(where);
    }
    if (/translateX|translate\(/.test(value)) out.push(where);
  }
  return out;
}

test('the stylesheet has declarations to check', () => {
  expect(declarations.length).toBeGreaterThan(50);
});

test('no physical left/right property or value in client/styles.css', () => {
  expect(problems(declarations)).toEqual([]);
});

test('the check itself catches physical properties', () => {
  const bad = [
    'margin-left: 1rem',
    'padding-right: 0',
    'text-align: left',
    'float: right',
    'left: 0',
    'margin: 0 1rem 0 2rem',
    'border-radius: 6px 0 0 6px',
    'border-top-left-radius: 3px',
  ];
  const found = problems(bad.map((b) => ({ prop: b.split(':')[0], value: b.split(':')[1].trim() })));
  expect(found).toHaveLength(bad.length);
  expect(
    problems([
      { prop: 'margin-inline-start', value: '1rem' },
      { prop: 'padding', value: '0.5rem 1rem' },
      { prop: 'text-align', value: 'start' },
    ]),
  ).toEqual([]);
});

test('Urdu gets an Urdu-capable system font stack and taller lines; nothing is downloaded', () => {
  expect(css).toMatch(/(^|\s):lang\(ur\)\s*\{[^}]*font-family:[^;]*'Noto Nastaliq Urdu'[^;]*'Noto Naskh Arabic'/);
  expect(css).toMatch(/:root:lang\(ur\)\s*\{[^}]*line-height:\s*2/);
  expect(css).not.toMatch(/@font-face|@import|url\(/);
});
