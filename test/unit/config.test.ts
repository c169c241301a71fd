/** Configuration is checked at start: a bad value stops the server with a message naming it. */
import { ConfigError, loadConfig } from '../../server/config';

test('defaults give the embedded SQLite file under ./data on localhost:8080', () => {
  const c = loadConfig({});
  expect(c.port).toBe(8080);
  expect(c.publicUrl).toBe('http://localhost:8080');
  expect(c.database).toEqual({ client: 'sqlite', filename: expect.stringMatching(/data\/awaaz\.sqlite3$/) });
  expect(c.cookieSecure).toBe(false);
  expect(loadConfig({ PUBLIC_URL: 'https://awaaz.example.org/' }).cookieSecure).toBe(true);
});

test('attachment limits default to 25 MB a file and 100 MB a testimony, in bytes of 1024 * 1024', () => {
  const c = loadConfig({});
  expect([c.attachmentMaxFileBytes, c.attachmentMaxTestimonyBytes]).toEqual([25 * 1048576, 100 * 1048576]);
  const set = loadConfig({ ATTACHMENT_MAX_FILE_MB: '5', ATTACHMENT_MAX_TESTIMONY_MB: '5', RATE_LIMIT_RECORDS_PER_MINUTE: '60' });
  expect([set.attachmentMaxFileBytes, set.attachmentMaxTestimonyBytes, set.rateLimitRecordsPerMinute]).toEqual([5 * 1048576, 5 * 1048576, 60]);
  expect(c.rateLimitRecordsPerMinute).toBe(1200);
});

test.each([
  ['PORT', { PORT: 'eighty' }],
  ['POW_BITS', { POW_BITS: '99' }],
  ['PUBLIC_URL', { PUBLIC_URL: 'not a url' }],
  ['COOKIE_SECURE', { COOKIE_SECURE: 'maybe' }],
  ['DATABASE_URL', { DATABASE_URL: 'postgres://user@localhost/awaaz' }],
  ['ATTACHMENT_MAX_FILE_MB', { ATTACHMENT_MAX_FILE_MB: '0' }],
  ['ATTACHMENT_MAX_FILE_MB', { ATTACHMENT_MAX_FILE_MB: '2.5' }],
  ['ATTACHMENT_MAX_TESTIMONY_MB', { ATTACHMENT_MAX_TESTIMONY_MB: 'lots' }],
  ['ATTACHMENT_MAX_TESTIMONY_MB', { ATTACHMENT_MAX_FILE_MB: '50', ATTACHMENT_MAX_TESTIMONY_MB: '40' }],
  ['RATE_LIMIT_RECORDS_PER_MINUTE', { RATE_LIMIT_RECORDS_PER_MINUTE: '0' }],
])('a bad %s is refused with its name in the message', (name, env) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(name);
});
