/**
 * Staff workspace entry: sign in (keys unwrapped in memory only), then the panels each role
 * may use: team and invites (admin, lib/staff-team.ts), cases (moderator, lib/staff-cases.ts).
 */
import { api } from './lib/api';
import { byId, nextFrame, onSubmit, say, show, showStep } from './lib/dom';
import { staffLogin, type StaffSession } from './lib/staff';
import { bindCasesPanel, initCasesPanel } from './lib/staff-cases';
import { bindTeamPanel, initTeamPanel } from './lib/staff-team';

let session: StaffSession | undefined;

document.addEventListener('DOMContentLoaded', () => {
  const loginStatus = byId('login-status');
  onSubmit(byId<HTMLFormElement>('login-form'), loginStatus, async () => {
    say(loginStatus, 'Signing in… this takes a few seconds.');
    await nextFrame();
    session = await staffLogin(byId<HTMLInputElement>('username').value.trim(), byId<HTMLInputElement>('password').value);
    byId<HTMLInputElement>('password').value = '';
    say(loginStatus, '');
    await openWorkspace(session);
  });

  byId('logout').addEventListener('click', async () => {
    await api('POST', '/api/staff/logout', {}).catch(() => undefined);
    session = undefined;
    location.replace('/staff');
  });

  bindTeamPanel();
  bindCasesPanel();
});

async function openWorkspace(current: StaffSession): Promise<void> {
  const me = current.me;
  byId('whoami-name').textContent = `${me.username} (${me.roles.join(', ')})`;
  show(byId('whoami'));
  showStep('step-workspace');
  show(byId('pending-note'), me.status !== 'active');
  if (me.status !== 'active') return;
  if (me.roles.includes('admin')) await initTeamPanel(current);
  if (me.roles.includes('moderator')) await initCasesPanel(current);
}
