/**
 * What a public story's title and text may hold: no control character (U+0000 to U+001F) but
 * tab and line feed. XML 1.0, so the Atom feed, cannot carry most of them, and no page shows
 * them. The API refuses such a story (protocol/api.ts); the staff page checks before a draft
 * is proposed, so a survivor is never asked to approve a story that cannot be published.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B-\u001F]/;

/** The first control character of `text` that a story may not hold: its code point (U+XXXX) and its position, counted from 1. */
export function storyControlCharacter(text: string): { codePoint: string; position: number } | undefined {
  const found = CONTROL_CHARACTER.exec(text);
  if (!found) return undefined;
  return { codePoint: `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`, position: found.index + 1 };
}
