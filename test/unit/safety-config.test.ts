/**
 * SUPPORT_CONTACTS: the organisation's own support contacts for the safety page, one line of
 * text, none by default.
 * QUICK_EXIT_URL: validated as an http(s) address at start, with a neutral default that the
 * pages bake in too (client/lib/exit-url.ts and the quick-exit link's href), so quick exit
 * works before any request has answered and without JavaScript.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_QUICK_EXIT_URL as CLIENT_DEFAULT, isExitUrl } from '../../client/lib/exit-url';
import { ConfigError, DEFAULT_QUICK_EXIT_URL, loadConfig } from '../../server/config';

const header = fs.readFileSync(path.resolve(__dirname, '../../client/pages/partials/header.html'), 'utf8');

test('the server default, the client default and the link in the page header are one address', () => {
  expect(loadConfig({}).quickExitUrl).toBe(DEFAULT_QUICK_EXIT_URL);
  expect(CLIENT_DEFAULT).toBe(DEFAULT_QUICK_EXIT_URL);
  const link = /<a\b[^>]*\sdata-quick-exit\b[^>]*>/.exec(header)?.[0] ?? '';
  expect(link).toContain(`href="${DEFAULT_QUICK_EXIT_URL}"`);
  expect(new URL(DEFAULT_QUICK_EXIT_URL).protocol).toBe('https:');
});

test.each(['https://www.bbc.com/weather', 'http://127.0.0.1:9999/neutral', 'https://example.org/a?b=c'])('accepts %s', (url) => {
  expect(loadConfig({ QUICK_EXIT_URL: url }).quickExitUrl).toBe(url);
  expect(isExitUrl(url)).toBe(true);
});

test.each(['javascript:alert(1)', 'data:text/html,hello', 'ftp://example.org/', '/share', 'weather.com', '', 'file:///etc/passwd'])(
  'refuses %j, naming the variable',
  (url) => {
    expect(() => loadConfig({ QUICK_EXIT_URL: url })).toThrow(ConfigError);
    expect(() => loadConfig({ QUICK_EXIT_URL: url })).toThrow(/QUICK_EXIT_URL/);
    expect(isExitUrl(url)).toBe(false);
  },
);

test('SUPPORT_CONTACTS: none by default; one line of text, trimmed, refused with control characters or beyond 300 characters', () => {
  expect(loadConfig({}).supportContacts).toBe('');
  expect(loadConfig({ SUPPORT_CONTACTS: '  Helpline 0800-00000, مددگار لائن ' }).supportContacts).toBe('Helpline 0800-00000, مددگار لائن');
  for (const bad of ['line one\nline two', 'bell\u0007', 'x'.repeat(301)])
    expect(() => loadConfig({ SUPPORT_CONTACTS: bad })).toThrow(/SUPPORT_CONTACTS/);
});
