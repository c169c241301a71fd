/** What each person does in the browser, step by step, as page actions shared by the e2e tests. */
import type { Page } from 'playwright-core';

export const ADMIN = { username: 'amina', password: 'a long admin passphrase' };
export const MODERATOR = { username: 'bilal.mod', password: 'a long moderator passphrase' };

export async function setUpFirstAdmin(page: Page, setupLink: string, alsoModerator: boolean): Promise<string> {
  await page.goto(setupLink);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password', { exact: false }).first().fill(ADMIN.password);
  await page.getByLabel('Password again').fill(ADMIN.password);
  await page.getByLabel('I will also read testimonies as a moderator').setChecked(alsoModerator);
  await page.getByRole('button', { name: 'Create admin' }).click();
  await page.getByRole('heading', { name: 'Awaaz is set up' }).waitFor({ timeout: 30_000 });
  return (await page.locator('#fingerprint').textContent())!.trim();
}

export async function staffSignIn(page: Page, baseUrl: string, who: { username: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/staff`);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspace' }).waitFor({ timeout: 30_000 });
}

export async function createInvite(page: Page, role: 'moderator' | 'advocate' | 'admin'): Promise<string> {
  await page.getByLabel('Invite a new member as').selectOption(role);
  await page.getByRole('button', { name: 'Create invite link' }).click();
  await page.locator('#invite-link').filter({ hasText: '/invite#' }).waitFor();
  return (await page.locator('#invite-link').textContent())!.trim();
}

export async function acceptInvite(page: Page, link: string, who: { username: string; password: string }): Promise<void> {
  await page.goto(link);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: false }).first().fill(who.password);
  await page.getByLabel('Password again').fill(who.password);
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.getByRole('heading', { name: 'Your account is ready' }).waitFor({ timeout: 30_000 });
}

export async function signWaitingMembers(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign and publish' }).click();
  await page.locator('#workspace-status').filter({ hasText: 'Signed version' }).waitFor({ timeout: 30_000 });
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
  await page.getByRole('button', { name: /^Open case of/ }).first().click();
  await page.locator('#case-body article').first().waitFor({ timeout: 30_000 });
  return (await page.locator('#case-body').textContent()) ?? '';
}
