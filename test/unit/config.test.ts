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

test.each([
  ['PORT', { PORT: 'eighty' }],
  ['POW_BITS', { POW_BITS: '99' }],
  ['PUBLIC_URL', { PUBLIC_URL: 'not a url' }],
  ['COOKIE_SECURE', { COOKIE_SECURE: 'maybe' }],
  ['DATABASE_URL', { DATABASE_URL: 'postgres://user@localhost/awaaz' }],
])('a bad %s is refused with its name in the message', (name, env) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(name);
});
