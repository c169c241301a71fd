/**
 * The survivor pages' words after the wording review (docs in /work/shared/reviews are not in
 * the repository; the terms are listed here): one Urdu term per thing, gender-neutral forms,
 * and dates written as people write them, in the reader's language.
 */
import fs from 'node:fs';
import path from 'node:path';
import { en } from '../../i18n/en';
import { evidenceUr } from '../../i18n/evidence';
import { draftsUr } from '../../i18n/drafts';
import { matchingUr } from '../../i18n/matching';
import { publicUr } from '../../i18n/public';
import { ur as urCore } from '../../i18n/ur';
import { formatDate, withDates } from '../../i18n/format';

const ROOT = path.resolve(__dirname, '../..');
const ur = { ...urCore, ...evidenceUr, ...publicUr, ...matchingUr, ...draftsUr };

/** Urdu wording that the glossary replaced, and why (each would mislead or leave someone out). */
const DEPRECATED: [RegExp, string][] = [
  [/زیادتی/, 'usually means rape in Pakistani usage: say بدسلوکی for "abuse"'],
  [/وکالت کار/, 'an invented word that suggests a lawyer or a court: say آگاہی ٹیم'],
  [/موڈریٹر/, 'spelled ماڈریٹرز everywhere'],
  [/کوڈ نیم/, 'the codename is خفیہ نام'],
  [/بے ترتیب/, 'means "without order", yet the words must be kept in order: say اتفاقیہ (رینڈم)'],
  [/خفیہ کر کے/, 'the same button says انکرپٹ کر کے'],
  [/آمد/, 'plainer: آپ کا یہاں آنا'],
  [/آلہ|آلے/, 'plainer: فون یا کمپیوٹر'],
  // Forms that assume the reader is a woman: men and khawaja sira survivors write here too.
  [/بدل سکتی ہیں|لے سکتی ہیں|چنیں گی/, 'feminine "you": use an impersonal form (بدلا جا سکتا ہے، جو آپ چنیں)'],
  [/\S+تی ہوں/, 'feminine "I" (میں سمجھتی ہوں): say مجھے معلوم ہے'],
  [/مصنفہ/, 'feminine "author": say جس نے یہ لکھا'],
];

/** Every place a survivor reads Urdu: the Urdu catalog and the pages' HTML (fallbacks, noscript). */
function urduSources(): { where: string; text: string }[] {
  const pages = path.join(ROOT, 'client/pages');
  const html = fs
    .readdirSync(pages, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.html'))
    .map((f) => ({ where: `client/pages/${f}`, text: fs.readFileSync(path.join(pages, f), 'utf8') }));
  return [...Object.entries(ur).map(([key, text]) => ({ where: `ur.ts ${key}`, text })), ...html];
}

function deprecatedIn(sources: { where: string; text: string }[]): string[] {
  return sources.flatMap(({ where, text }) =>
    DEPRECATED.filter(([term]) => term.test(text)).map(([term, why]) => `${where}: ${term.source} (${why})`),
  );
}

describe('Urdu wording', () => {
  test('no replaced term or feminine-only form appears in the Urdu catalog or the pages', () => {
    expect(deprecatedIn(urduSources())).toEqual([]);
  });

  test('the check finds each replaced term where it is planted', () => {
    const planted = [
      'ہراسانی یا زیادتی',
      'وکالت کار',
      'موڈریٹرز',
      'کوڈ نیم',
      'بے ترتیب چنے',
      'خفیہ کر کے بھیجیں',
      'یہ آمد',
      'اس آلے پر',
      'بدل سکتی ہیں',
      'میں سمجھتی ہوں',
      'اس کی مصنفہ',
    ];
    expect(planted.map((text, i) => deprecatedIn([{ where: String(i), text }]).length)).toEqual(planted.map(() => 1));
  });

  test('the glossary terms are the ones used', () => {
    const all = Object.values(ur).join('\n');
    for (const term of ['خفیہ نام', 'شناختی کوڈ', 'بیان', 'ماڈریٹرز', 'آگاہی ٹیم', 'انکرپٹ', 'فوراً نکلیں', 'بدسلوکی'])
      expect({ term, used: all.includes(term) }).toEqual({ term, used: true });
    // One label for one button: sending a testimony and sending a reply.
    expect(ur['thread.send']).toBe(ur['share.send']);
  });

  test('who can read is said in full wherever the landing and safety pages promise it', () => {
    for (const key of ['landing.intro', 'safety.protects1'] as const) {
      expect(en[key]).toMatch(/advocates/);
      expect(ur[key]).toContain('آگاہی ٹیم');
    }
  });
});

describe("dates in the reader's language", () => {
  const EN = [en['date.months'], en['date.at']] as const;
  const UR = [ur['date.months'], ur['date.at']] as const;

  test('each catalog names twelve months', () => {
    for (const months of [EN[0], UR[0]]) expect(months.split(' ')).toHaveLength(12);
  });

  test('a UTC day', () => {
    expect(formatDate('2026-11-29', ...EN)).toBe('29 November 2026');
    expect(formatDate('2026-11-29', ...UR)).toBe('29 نومبر 2026');
    expect(formatDate('2025-01-05', ...UR)).toBe('5 جنوری 2025');
  });

  test("a camera's date and time (EXIF)", () => {
    expect(formatDate('2024:03:14 21:07:33', ...EN)).toBe('14 March 2024, 21:07');
    expect(formatDate('2024:03:14 21:07:33', ...UR)).toBe('14 مارچ 2024، 21:07');
  });

  test('anything else is shown as it is', () => {
    for (const odd of ['', 'spring 2018', '2024-13-01', '2024-00-10', '2024-05-00', '2024-05-32', '2024:03:14 garbage', 'Galaxy A10'])
      expect(formatDate(odd, ...UR)).toBe(odd);
  });

  test('only the {day} and {date} parameters are dates', () => {
    expect(withDates({ day: '2026-11-29', date: '2024:03:14 21:07:33', name: '2026-11-29', n: 3 }, ...EN)).toEqual({
      day: '29 November 2026',
      date: '14 March 2024, 21:07',
      name: '2026-11-29',
      n: 3,
    });
    expect(withDates(undefined, ...EN)).toBeUndefined();
  });
});
