/**
 * The staff session cookie's name (server/http/auth.ts staffCookieName): `__Host-awaaz_staff`
 * when PUBLIC_URL is https (Secure, Path=/, no Domain, so a sibling subdomain cannot plant
 * one), `awaaz_staff` over plain http. On either, a Cookie header that carries the name twice
 * authenticates with neither (login CSRF by a cookie planted next to the real one).
 * supertest speaks http and its agent would not send a Secure cookie back: the Cookie header
 * is set by hand.
 */
import request from 'supertest';
import { issueSetupLink } from '../../server/setup-link';
import { firstAdminSetupBody, makeTestServer, type TestServer } from '../support/harness';
import { expectError } from './expect-error';

describe.each([
  { scheme: 'https', publicUrl: 'https://awaaz.example', name: '__Host-awaaz_staff', secure: '; Secure' },
  { scheme: 'http', publicUrl: 'http://awaaz.example', name: 'awaaz_staff', secure: '' },
])('over $scheme', ({ publicUrl, name, secure }) => {
  let t: TestServer;
  let setCookie: string;
  let token: string;
  const me = (cookie: string) => request(t.app).get('/api/staff/me').set('Cookie', cookie);
  beforeAll(async () => {
    t = await makeTestServer({ PUBLIC_URL: publicUrl });
    const link = await issueSetupLink(t.ctx.repos.instance, t.ctx.config.publicUrl, t.ctx.clock);
    const res = await request(t.app)
      .post('/api/setup')
      .send(await firstAdminSetupBody(t, link.url.split('#')[1]));
    expect(res.status).toBe(201);
    const cookies = res.headers['set-cookie'] as unknown as string[];
    expect(cookies).toHaveLength(1);
    setCookie = cookies[0];
    token = setCookie.slice(name.length + 1, setCookie.indexOf(';'));
  });
  afterAll(() => t.close());

  test(`the session cookie is ${name} (HttpOnly, SameSite=Strict, Path=/, no Domain${secure ? ', Secure' : ''}) and the session works with it`, async () => {
    expect(setCookie).toMatch(new RegExp(`^${name}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly${secure}; SameSite=Strict$`));
    expect(setCookie).not.toMatch(/Domain/i);
    const res = await me(`${name}=${token}`);
    expect(res.status).toBe(200);
    expect(res.body.username).toBe('first');
  });

  test('the cookie name twice (a planted one next to the real one, in either order, or the same twice) is refused with 401 and cleared', async () => {
    for (const cookie of [`${name}=${token}; ${name}=planted`, `${name}=planted; ${name}=${token}`, `${name}=${token}; ${name}=${token}`]) {
      const res = await me(cookie);
      expectError(res, 401, 'unauthorized', 'conflicting session cookies', 'sign in again');
      expect(String(res.headers['set-cookie'])).toMatch(
        new RegExp(`^${name}=; Path=/; Expires=[^;]+; HttpOnly${secure}; SameSite=Strict$`),
      );
    }
    // Logging out with both cookies ends neither session: the real one still works alone.
    expect(
      (await request(t.app).post('/api/staff/logout').set('Cookie', `${name}=${token}; ${name}=planted`).send({})).status,
    ).toBeLessThan(300);
    expect((await me(`${name}=${token}`)).status).toBe(200);
  });

  if (name !== 'awaaz_staff')
    test('the unprefixed name, which any subdomain could set for the parent domain, is not read', async () => {
      expectError(await me(`awaaz_staff=${token}`), 401, 'unauthorized', 'login required');
      expect((await me(`awaaz_staff=planted; ${name}=${token}`)).status).toBe(200);
    });
});
