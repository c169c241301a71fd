/**
 * Staff account security in a real Chromium against the built server: the first admin enrols
 * TOTP with a QR code drawn in the page (decoded here with jsQR: it carries the same secret
 * as the text shown for typing), saves the recovery codes, signs in with password and code; a
 * replayed code and a wrong password get the same refusal; a recovery code signs in; the admin
 * sets the session timeouts, changes the password in the browser (the old one stops working,
 * the other session ends), logs out everywhere; and the audit panel verifies the chain in the
 * browser and warns loudly when the database is altered or history is cut.
 */
import type { Knex } from 'knex';
import jsQR from 'jsqr';
import type { Page } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { base32Decode, hotp, totpStep } from '../../server/http/totp';
import { ADMIN, authenticators, finishTotpEnrolment, openView, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

/** Draws the page's QR code SVG onto a canvas (in the page) and returns its RGBA pixels. */
async function qrPixels(page: Page): Promise<{ pixels: Uint8ClampedArray; size: number }> {
  const { data, size } = await page.evaluate<{ data: string; size: number }>(`(async () => {
    const svg = document.querySelector('.totp-qr svg').cloneNode(true);
    const size = 400;
    svg.setAttribute('width', String(size));
    svg.setAttribute('height', String(size));
    const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' }));
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = size;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0, size, size);
    URL.revokeObjectURL(url);
    const px = ctx.getImageData(0, 0, size, size).data;
    let s = '';
    for (let i = 0; i < px.length; i += 8192) s += String.fromCharCode.apply(null, px.subarray(i, i + 8192));
    return { data: btoa(s), size };
  })()`);
  return { pixels: new Uint8ClampedArray(Buffer.from(data, 'base64')), size };
}

async function signInExpectingRefusal(page: Page, baseUrl: string, username: string, password: string, code: string): Promise<string> {
  await page.goto(`${baseUrl}/staff`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Code from your authenticator app').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#login-status[data-kind="error"]').waitFor({ timeout: 30_000 });
  return (await page.locator('#login-status').textContent()) ?? '';
}

describeInBrowser('staff two-factor sign-in in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Knex;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    db = server.openDb();
  });
  afterAll(async () => {
    await db?.destroy();
    await browser?.close();
    await server?.stop();
  });

  test('enrol TOTP from a locally drawn QR code, sign in with password and code, and manage the account', async () => {
    // 1. First admin: password step, then the two-factor step with the QR code.
    const admin = await newGuardedPage(browser, problems);
    const page = admin.page;
    await page.goto(server.setupLink);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password', { exact: false }).first().fill(ADMIN.password);
    await page.getByLabel('Password again').fill(ADMIN.password);
    await page.getByLabel('I will also read testimonies as a moderator').setChecked(true);
    await page.getByRole('button', { name: 'Create admin' }).click();
    await page.getByRole('heading', { name: 'Set up two-factor sign-in' }).waitFor({ timeout: 30_000 });

    const qr = page.getByRole('img', { name: 'QR code that adds your Awaaz account to an authenticator app' });
    expect(await qr.isVisible()).toBe(true);
    const box = (await qr.boundingBox())!;
    expect(box.width).toBeGreaterThan(150);
    expect(Math.abs(box.width - box.height)).toBeLessThan(2);
    const secretText = ((await page.locator('#totp-secret').textContent()) ?? '').trim();
    expect(secretText).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const { pixels, size } = await qrPixels(page);
    const decoded = jsQR(pixels, size, size);
    expect(decoded).not.toBeNull();
    const uri = new URL(decoded!.data);
    expect(`${uri.protocol}//${uri.host}${decodeURIComponent(uri.pathname)}`).toBe(`otpauth://totp/Awaaz:${ADMIN.username}`);
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: secretText.replace(/ /g, ''),
      issuer: 'Awaaz',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });

    // A wrong code is refused on the page; then the app's code is accepted and recovery codes shown once.
    const secret = base32Decode(secretText);
    const valid = new Set([-1, 0, 1, 2].map((d) => hotp(secret, totpStep(Date.now()) + d)));
    const wrong = ['000000', '111111', '222222', '333333', '444444'].find((c) => !valid.has(c))!;
    await page.getByLabel('Type the 6-digit code the app shows now').fill(wrong);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('#totp-status').filter({ hasText: 'code does not match' }).waitFor();
    const app = await finishTotpEnrolment(page, ADMIN.username);
    expect(app.recoveryCodes).toHaveLength(10);
    for (const c of app.recoveryCodes) expect(c).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
    await page.getByRole('heading', { name: 'Awaaz is set up' }).waitFor({ timeout: 30_000 });

    // 2. Sign in with password and a TOTP code; the page sends the "sign-in started" ticket it got
    // from /login/params, so the code is judged by when sign-in began (a slow derivation does not expire it).
    const loginRequest = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/staff/login');
    await staffSignIn(page, server.url, ADMIN, 'totp');
    expect((await loginRequest).postDataJSON().ticket).toMatch(/^[A-Za-z0-9_-]{54}$/);
    const usedCode = hotp(app.secret, app.lastStep!);
    await openView(page, 'Audit');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.locator('#audit-verdict').filter({ hasText: 'Verified in this browser' }).waitFor({ timeout: 30_000 });

    // 3. The same code again, elsewhere: refused, with the same words as a wrong password.
    const other = await newGuardedPage(browser, problems);
    expect(totpStep(Date.now())).toBeLessThanOrEqual(app.lastStep! + 1); // still inside the code's window: refused as a replay, not as stale
    const replay = await signInExpectingRefusal(other.page, server.url, ADMIN.username, ADMIN.password, usedCode);
    expect(replay).toContain('wrong username, password or code');
    const wrongPassword = await signInExpectingRefusal(other.page, server.url, ADMIN.username, 'not the password at all', '123456');
    expect(wrongPassword).toBe(replay);

    // 4. A recovery code signs in instead of a TOTP code.
    await staffSignIn(other.page, server.url, ADMIN, 'recovery');
    expect(app.recoveryCodes).toHaveLength(9);

    // 5. The audit panel shows the sign-ins and failures, verified; the team list shows who is signed in.
    await page.getByRole('button', { name: 'Reload and verify' }).click();
    await page.locator('#audit-verdict').filter({ hasText: 'Verified in this browser' }).waitFor();
    const auditText = (await page.locator('#audit-entries').textContent()) ?? '';
    for (const label of ['set up two-factor sign-in', 'signed in', 'failed to sign in', 'signed and published the list of readers'])
      expect(auditText).toContain(label);
    expect(auditText).toContain('method: recovery_code');
    expect(await page.locator('#members').textContent()).toContain('(signed in)');

    // 6. Session settings.
    await openView(page, 'Team');
    await page.getByLabel('Sign staff out after this many minutes without activity').fill('45');
    await page.getByRole('button', { name: 'Save session settings' }).click();
    await page.locator('#settings-status').filter({ hasText: 'after 45 minutes without activity' }).waitFor();

    // 7. Change the password in the browser: the other session ends, the old password stops working.
    const newPassword = 'an entirely new admin passphrase';
    await openView(page, 'Account');
    await page.getByLabel('Current password').fill(ADMIN.password);
    await page.getByLabel('New password', { exact: false }).first().fill(newPassword);
    await page.getByLabel('New password again').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#password-status').filter({ hasText: 'Your password is changed' }).waitFor({ timeout: 30_000 });
    expect((await other.context.request.get(`${server.url}/api/staff/me`)).status()).toBe(401);
    expect((await admin.context.request.get(`${server.url}/api/staff/me`)).status()).toBe(200);
    expect(await signInExpectingRefusal(other.page, server.url, ADMIN.username, ADMIN.password, app.recoveryCodes[0])).toContain(
      'wrong username, password or code',
    );
    const renewed = { username: ADMIN.username, password: newPassword };
    await staffSignIn(other.page, server.url, renewed); // the keys open with the new password
    await openView(other.page, 'Team');
    expect(await other.page.locator('#admin-panel').isVisible()).toBe(true);

    // 8. Log out everywhere, from the first browser: both are signed out.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Log out everywhere' }).click();
    await page.getByRole('heading', { name: 'Staff sign in' }).waitFor();
    expect((await other.context.request.get(`${server.url}/api/staff/me`)).status()).toBe(401);
    expect((await admin.context.request.get(`${server.url}/api/staff/me`)).status()).toBe(401);

    // 9. Tampering with the audit log in the database: the admin's browser says so.
    await staffSignIn(page, server.url, renewed);
    await openView(page, 'Audit');
    await page.locator('#audit-verdict').filter({ hasText: 'Verified in this browser' }).waitFor({ timeout: 30_000 });
    const second = await db('audit_log').where({ seq: 2 }).first();
    await db('audit_log')
      .where({ seq: 2 })
      .update({ detail: JSON.stringify({ recoveryCodes: 11 }) });
    await page.getByRole('button', { name: 'Reload and verify' }).click();
    await page.locator('#audit-alert').filter({ hasText: 'does not verify' }).waitFor();
    expect(await page.locator('#audit-alert').textContent()).toContain('entry #2 was changed');
    await db('audit_log').where({ seq: 2 }).update({ detail: second.detail });
    await page.getByRole('button', { name: 'Reload and verify' }).click();
    await page.locator('#audit-verdict').filter({ hasText: 'Verified in this browser' }).waitFor();
    expect(await page.locator('#audit-alert').isVisible()).toBe(false);
    // Cutting the newest entries leaves a chain that links, but not the one this browser saw.
    const newest = Number((await db('audit_log').max({ n: 'seq' }))[0].n);
    await db('audit_log')
      .where('seq', '>=', newest - 1)
      .delete();
    await page.getByRole('button', { name: 'Reload and verify' }).click();
    await page.locator('#audit-alert').filter({ hasText: 'history of the audit log was rewritten' }).waitFor();
    expect(await page.getByRole('button', { name: 'Trust the log as it is now' }).isVisible()).toBe(true);

    expect(authenticators.get(ADMIN.username)).toBe(app);
    expect(problems).toEqual([]);
  }, 240_000);
});
