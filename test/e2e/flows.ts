/** What each person does in the browser, step by step, as page actions shared by the e2e tests. */
import type { Browser, Page } from 'playwright-core';
import { base32Decode, hotp, totpStep } from '../../server/http/totp';

export const ADMIN = { username: 'amina', password: 'a long admin passphrase' };
export const MODERATOR = { username: 'bilal.mod', password: 'a long moderator passphrase' };

/**
 * What each staff member's authenticator app holds, by username: the TOTP secret read from the
 * enrolment page, the last step a code was typed for (a code cannot be used twice), and the
 * recovery codes the page showed.
 */
export interface Authenticator {
  secret: Uint8Array;
  lastStep?: number;
  recoveryCodes: string[];
}
export const authenticators = new Map<string, Authenticator>();

/**
 * Plays the authenticator app on the enrolment step that follows the password step of setup
 * and of an invite: reads the secret shown under the QR code, types the current code, keeps
 * the recovery codes, ticks that they are saved and continues.
 */
export async function finishTotpEnrolment(page: Page, username: string): Promise<Authenticator> {
  await page.getByRole('heading', { name: 'Set up two-factor sign-in' }).waitFor({ timeout: 30_000 });
  await page.getByRole('img', { name: /QR code/ }).waitFor();
  const app: Authenticator = { secret: base32Decode((await page.locator('#totp-secret').textContent())!), recoveryCodes: [] };
  await page.getByLabel('Type the 6-digit code the app shows now').fill(nextTotpCode(app, 'now')!);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor({ timeout: 30_000 });
  app.recoveryCodes = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
  await page.getByLabel('I have saved these codes somewhere safe').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  authenticators.set(username, app);
  return app;
}

/**
 * A TOTP code the server accepts now and has not seen: of the current step or the next one
 * (both stay valid long enough to be typed). `when: 'now'` returns undefined if both were
 * used; `'wait'` then waits for the next step.
 */
export function nextTotpCode(app: Authenticator, when: 'now'): string | undefined;
export function nextTotpCode(app: Authenticator, when: 'wait'): Promise<string>;
export function nextTotpCode(app: Authenticator, when: 'now' | 'wait'): string | undefined | Promise<string> {
  const current = totpStep(Date.now());
  const step = Math.max(current, (app.lastStep ?? -1) + 1);
  if (step <= current + 1) {
    app.lastStep = step;
    return when === 'now' ? hotp(app.secret, step) : Promise.resolve(hotp(app.secret, step));
  }
  if (when === 'now') return undefined;
  const waitMs = (step - 1) * 30_000 - Date.now() + 200;
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs))).then(() => nextTotpCode(app, 'wait'));
}

export async function setUpFirstAdmin(page: Page, setupLink: string, alsoModerator: boolean): Promise<string> {
  await page.goto(setupLink);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password', { exact: false }).first().fill(ADMIN.password);
  await page.getByLabel('Password again').fill(ADMIN.password);
  await page.getByLabel('I will also read testimonies as a moderator').setChecked(alsoModerator);
  await page.getByRole('button', { name: 'Create admin' }).click();
  await finishTotpEnrolment(page, ADMIN.username);
  await page.getByRole('heading', { name: 'Awaaz is set up' }).waitFor({ timeout: 30_000 });
  return (await page.locator('#fingerprint').textContent())!.trim();
}

/**
 * Signs in with password and second factor. `factor`: 'totp' types a fresh TOTP code (waiting
 * for the next 30-second step if both usable ones were spent); 'recovery' types a recovery
 * code; 'auto' (the default) types a TOTP code if one is usable now, else a recovery code, so
 * that tests signing the same person in several times in a row need not wait.
 */
export async function staffSignIn(
  page: Page,
  baseUrl: string,
  who: { username: string; password: string },
  factor: 'auto' | 'totp' | 'recovery' = 'auto',
): Promise<void> {
  const app = authenticators.get(who.username);
  if (!app) throw new Error(`${who.username} has not enrolled TOTP in this run (finishTotpEnrolment)`);
  await page.goto(`${baseUrl}/staff`);
  // A tab that is still signed in reopens its workspace (client/lib/staff-reload.ts): sign out first.
  await page.locator('#step-login:visible, #step-workspace:visible').waitFor({ timeout: 30_000 });
  if (await page.locator('#step-workspace').isVisible()) {
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.locator('#step-login:visible').waitFor({ timeout: 30_000 });
  }
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  const now = factor === 'recovery' ? undefined : nextTotpCode(app, 'now');
  const code = now ?? (factor === 'totp' || app.recoveryCodes.length === 0 ? await nextTotpCode(app, 'wait') : app.recoveryCodes.shift()!);
  await page.getByLabel('Code from your authenticator app').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Either the workspace opens, or the page says why not (say that, rather than time out).
  const refused = page.locator('#login-status[data-kind="error"]');
  await page.getByRole('heading', { name: 'Workspace', exact: true }).or(refused).waitFor({ timeout: 30_000 });
  if (await refused.isVisible()) throw new Error(`${who.username} could not sign in: ${await refused.textContent()}`);
}

/** Opens a view of the workspace by its link in the navigation, and waits until it shows. */
export async function openView(page: Page, name: 'Cases' | 'Publishing' | 'Matches' | 'Team' | 'Audit' | 'Account'): Promise<void> {
  await page.getByRole('navigation', { name: 'Workspace' }).getByRole('link', { name }).click();
  await page.locator(`#view-${name.toLowerCase()}:visible`).waitFor();
}

export async function createInvite(page: Page, role: 'moderator' | 'advocate' | 'admin' | 'moderator,matching_counselor'): Promise<string> {
  await openView(page, 'Team');
  await page.getByLabel('Invite a new member as').selectOption(role);
  // The link of an invite made before on this page may still be shown: wait for a new one.
  const shown = page.locator('#invite-link');
  const before = (await shown.count()) ? ((await shown.textContent()) ?? '').trim() : '';
  await page.getByRole('button', { name: 'Create invite link' }).click();
  for (let tries = 0; tries < 600; tries++) {
    await shown.filter({ hasText: '/invite#' }).waitFor();
    const link = ((await shown.textContent()) ?? '').trim();
    if (link !== before) return link;
    await page.waitForTimeout(50);
  }
  throw new Error('no new invite link was shown within 30 s');
}

export async function acceptInvite(page: Page, link: string, who: { username: string; password: string }): Promise<void> {
  await page.goto(link);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: false }).first().fill(who.password);
  await page.getByLabel('Password again').fill(who.password);
  // The page derives the keys (argon2id, 64 MiB) on its main thread right after the click; on a
  // loaded machine Playwright's wait for navigations the click might start (it starts none: the
  // form is handled by script) outlasted the click's timeout. The heading below is what counts.
  await page.getByRole('button', { name: 'Create my account' }).click({ noWaitAfter: true });
  const refused = page.locator('#invite-status[data-kind="error"]');
  await page.getByRole('heading', { name: 'Set up two-factor sign-in' }).or(refused).waitFor({ timeout: 30_000 });
  if (await refused.isVisible()) throw new Error(`${who.username} could not accept the invite: ${await refused.textContent()}`);
  await finishTotpEnrolment(page, who.username);
  await page.getByRole('heading', { name: 'Your account is ready' }).waitFor({ timeout: 30_000 });
}

/**
 * Signs the waiting members in. The admin confirms each one's key code first: `codes` holds
 * what each member's own screen shows, by username, and only a member whose code matches the
 * admin's is ticked; without `codes`, every waiting member is ticked.
 */
export async function signWaitingMembers(page: Page, codes?: Record<string, string>): Promise<void> {
  await openView(page, 'Team');
  await page.locator('#waiting-members input[type=checkbox]').first().waitFor({ timeout: 30_000 });
  for (const [username, code] of Object.entries(codes ?? {})) {
    const shown = (await page.locator(`[data-key-code-of="${username}"]`).textContent())?.trim();
    if (shown === code) await page.getByLabel(`The codes match for ${username}`).check();
  }
  if (!codes) for (const box of await page.locator('#waiting-members input[type=checkbox]').all()) await box.check();
  await page.getByRole('button', { name: 'Sign and publish' }).click();
  const refused = page.locator('#workspace-status[data-kind="error"]');
  await page.locator('#workspace-status').filter({ hasText: 'Signed version' }).or(refused).waitFor({ timeout: 30_000 });
  if (await refused.isVisible()) throw new Error(`signing the waiting members failed: ${await refused.textContent()}`);
}

export interface Shared {
  codename: string;
  handle: string;
}

export async function shareTestimony(page: Page, baseUrl: string, what: string): Promise<Shared> {
  await page.goto(baseUrl);
  await page.getByRole('link', { name: 'Share what happened' }).click();
  await page.getByRole('button', { name: 'Create my codename' }).click();
  const codename = (await page.getByTestId('codename').textContent())!.trim();
  await page.getByLabel('To be sure you kept it').fill(codename);
  await page.getByRole('button', { name: 'I have kept my codename' }).click();
  await page.getByLabel('What happened').fill(what);
  await page.getByLabel('Roughly when').fill('spring 2018');
  await page.getByLabel('Where did it happen?').selectOption('workplace');
  await page.getByRole('button', { name: 'Encrypt and send' }).click();
  await page.getByRole('heading', { name: 'Your testimony was sent' }).waitFor({ timeout: 60_000 });
  const handle = (await page.locator('#handle').textContent())!.trim();
  return { codename, handle };
}

export async function openOwnTestimonies(page: Page, baseUrl: string, codename: string): Promise<string> {
  await page.goto(`${baseUrl}/return`);
  await page.getByLabel('Your codename').fill(codename);
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByRole('heading', { name: 'Your testimonies', exact: true }).waitFor({ timeout: 60_000 });
  return (await page.locator('#cases').textContent()) ?? '';
}

export async function readFirstCase(page: Page): Promise<string> {
  await page
    .getByRole('button', { name: /^Open case of/ })
    .first()
    .click();
  await page.locator('#case-body article').first().waitFor({ timeout: 30_000 });
  return (await page.locator('#case-body').textContent()) ?? '';
}

/**
 * The admin sets the instance up (also a moderator) and invites `counselor` as a moderator who
 * is also the matching counselor; the admin signs the new member in. Returns the counselor's page.
 */
export async function setUpMatchingTeam(
  browser: Browser,
  newPage: (browser: Browser) => Promise<{ page: Page; context: { close(): Promise<void> } }>,
  on: { url: string; setupLink: string },
  counselor: { username: string; password: string },
): Promise<Page> {
  const admin = await newPage(browser);
  await setUpFirstAdmin(admin.page, on.setupLink, true);
  await staffSignIn(admin.page, on.url, ADMIN);
  const invite = await createInvite(admin.page, 'moderator,matching_counselor');
  const member = await newPage(browser);
  await acceptInvite(member.page, invite, counselor);
  await staffSignIn(admin.page, on.url, ADMIN);
  await signWaitingMembers(admin.page);
  await admin.context.close();
  return member.page;
}
