/**
 * The catalogs' small markup, without the DOM (so tests and the server side can use it):
 * `**bold**`, `[link text](/path)`, and `{name}` for a parameter or a slot.
 */
export type Params = Record<string, string | number>;

const TOKEN = /\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|\{(\w+)\}/g;

/** The markup of one message, in pieces: text, bold, link or placeholder. */
export type Piece = { text: string } | { bold: string } | { link: string; href: string } | { slot: string };

export function parseMessage(template: string): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of template.matchAll(TOKEN)) {
    if (m.index > last) pieces.push({ text: template.slice(last, m.index) });
    if (m[1] !== undefined) pieces.push({ bold: m[1] });
    else if (m[2] !== undefined) pieces.push({ link: m[2], href: m[3] });
    else pieces.push({ slot: m[4] });
    last = m.index + m[0].length;
  }
  if (last < template.length) pieces.push({ text: template.slice(last) });
  return pieces;
}

/** Fills parameters into a plain string (used inside bold and link text too). */
export function fill(text: string, params: Params = {}, isolate = false): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in params)) return whole;
    // First-strong isolates keep a Latin handle or date from reordering right-to-left text.
    return isolate ? `\u2068${params[name]}\u2069` : String(params[name]);
  });
}

/** A message as plain text: markup dropped, parameters filled in. */
export function plain(template: string, params: Params = {}, isolate = false): string {
  return parseMessage(template)
    .map((p) =>
      'text' in p
        ? fill(p.text, params, isolate)
        : 'bold' in p
          ? fill(p.bold, params, isolate)
          : 'link' in p
            ? fill(p.link, params, isolate)
            : fill(`{${p.slot}}`, params, isolate),
    )
    .join('');
}

/**
 * A date as people write it, with the catalog's month names (`months`: twelve, space-separated)
 * and its `at` ("{date}, {time}"): a UTC day "2026-11-29" becomes "29 November 2026" (Urdu:
 * "29 نومبر 2026"), a camera's "2024:03:14 21:07:33" "14 March 2024, 21:07". Anything else is
 * returned as it is. The same in every browser, unlike Intl, whose Urdu data may be missing.
 */
export function formatDate(value: string, months: string, at: string): string {
  const m = /^(\d{4})[-:](\d\d)[-:](\d\d)(?:[ T](\d\d):(\d\d)(?::\d\d)?)?$/.exec(value);
  const month = m && months.split(' ')[Number(m[2]) - 1];
  if (!m || !month || !(Number(m[3]) >= 1 && Number(m[3]) <= 31)) return value;
  const date = `${Number(m[3])} ${month} ${m[1]}`;
  return m[4] ? at.replace('{date}', date).replace('{time}', `${m[4]}:${m[5]}`) : date;
}

/** Parameters named {day} or {date} hold a date: shown by formatDate in the reader's language. */
export function withDates(params: Params | undefined, months: string, at: string): Params | undefined {
  if (!params || !('day' in params || 'date' in params)) return params;
  const out = { ...params };
  for (const name of ['day', 'date']) if (typeof out[name] === 'string') out[name] = formatDate(out[name], months, at);
  return out;
}
