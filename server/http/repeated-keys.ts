/**
 * A JSON object that names a key twice has two readings (JSON.parse keeps the last, other
 * parsers the first), so a body with one is refused (docs/api.md 1.1). The check runs on every
 * request body, the submit path's included, so it is made cheap twice over:
 *
 * - a gate: every string token of the raw text (a key or a string value) is one pair of `"`,
 *   and JSON.parse drops only the pairs of a repeated key. When the raw text holds exactly
 *   two `"` per key and string value of the parsed body, nothing was dropped and no key was
 *   repeated. Counting `"` is a native byte search per quote, not per byte, and the parsed
 *   body has few strings (an envelope's ciphertext is one string however long);
 * - only when the counts differ (a repeated key, or a `\"` inside a string), one linear scan
 *   over the bytes that jumps over each string's content with the same native search.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Keys that look like field names are named in the message; any other key is input the client chose, not echoed. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/** How many `"` bytes the raw body holds. */
export function countQuotes(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(QUOTE); i !== -1; i = buf.indexOf(QUOTE, i + 1)) n++;
  return n;
}

/** How many keys and string values the parsed body holds. */
function countStrings(value: unknown): number {
  if (typeof value === 'string') return 1;
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const v of value) n += countStrings(v);
  } else {
    for (const k in value) n += 1 + countStrings((value as Record<string, unknown>)[k]);
  }
  return n;
}

/** Where the string token opening at `start` (a `"`) closes: the next `"` not escaped by an odd run of backslashes. */
function stringEnd(buf: Buffer, start: number): number {
  let end = buf.indexOf(QUOTE, start + 1);
  while (end !== -1) {
    let slashes = 0;
    while (buf[end - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return end;
    end = buf.indexOf(QUOTE, end + 1);
  }
  return buf.length; // unterminated: JSON.parse already refused it
}

interface Frame {
  /** null for an array */
  keys: Set<string> | null;
  /** the current key (object) or index (array), for the path */
  at: string | number;
  expectingKey: boolean;
}

/** The path of the first key repeated within one object (its segments), scanning the raw body once. */
export function findRepeatedKey(buf: Buffer): (string | number)[] | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === QUOTE) {
      const end = stringEnd(buf, i);
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectingKey) {
        const raw = buf.toString('utf8', i + 1, end);
        // "\u0061" and "a" are the same key once decoded.
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        top.at = key;
        if (top.keys.has(key)) return stack.map((f) => f.at);
        top.keys.add(key);
        top.expectingKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), at: '', expectingKey: true });
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: null, at: 0, expectingKey: false });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectingKey = true;
      else if (top) top.at = (top.at as number) + 1;
    }
  }
  return undefined;
}

/** The message for a body whose object repeats a key, or undefined when none does. `buf` parsed as `body`. */
export function repeatedKeyProblem(buf: Buffer, body: unknown): string | undefined {
  if (countQuotes(buf) === 2 * countStrings(body)) return undefined;
  const path = findRepeatedKey(buf);
  if (!path) return undefined;
  const key = path[path.length - 1] as string;
  const where = path
    .slice(0, -1)
    .map((p) => (typeof p === 'number' ? `[${p}]` : FIELD_NAME.test(p) ? `.${p}` : '.…'))
    .join('')
    .replace(/^\./, '');
  const named = FIELD_NAME.test(key) ? `the key ${key}` : 'a key';
  return `${where ? where : 'body'} has ${named} twice: send each key of an object once`;
}
