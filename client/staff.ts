/**
 * Staff workspace entry: sign in with password and a second factor (keys unwrapped in memory
 * only), two-factor enrolment for a member who has not done it yet (lib/staff-2fa.ts), then the
 * panels each role may use: team and invites (admin, lib/staff-team.ts), cases (moderator,
 * lib/staff-cases.ts), publishing (moderator and advocate, lib/staff-publishing.ts), the
 * member's own account (lib/staff-account.ts), and for admins the session settings and the
 * audit log (lib/staff-account.ts, lib/staff-audit.ts).
 */
import { api } from './lib/api';
import { byId, errorMessage, listen, nextFrame, onSubmit, say, show, showStep } from './lib/dom';
import type { StaffMe } from '../protocol/api';
import { kdfProgress, staffLogin, type StaffSession } from './lib/staff';
import { enrolTotp } from './lib/staff-2fa';
import { bindAccountPanels, initAccountPanel, initSettingsPanel } from './lib/staff-account';
import { bindAlertsPanel, initAlertsPanel } from './lib/staff-alerts';
import { bindAuditPanel, initAuditPanel } from './lib/staff-audit';
import { bindCasesPanel, initCasesPanel } from './lib/staff-cases';
import { bindPublishingPanel, initPublishingPanel } from './lib/staff-publishing';
import { bindRetentionPanel, initRetentionPanel } from './lib/staff-retention';
import { bindTeamPanel, initTeamPanel } from './lib/staff-team';

let session: StaffSession | undefined;

document.addEventListener('DOMContentLoaded', () => {
  const loginStatus = byId('login-status');
  onSubmit(byId<HTMLFormElement>('login-form'), loginStatus, async () => {
    say(loginStatus, kdfProgress('Signing in'));
    await nextFrame();
    session = await staffLogin(
      byId<HTMLInputElement>('username').value.trim(),
      byId<HTMLInputElement>('password').value,
      byId<HTMLInputElement>('code').value,
      () => say(loginStatus, kdfProgress("Signed in. Updating this account's key protection (only this once)")),
    );
    byId<HTMLInputElement>('password').value = '';
    byId<HTMLInputElement>('code').value = '';
    say(loginStatus, '');
    if (!session.me.totpEnrolled) {
      // Signed in with the password only: this session can do nothing but set up the second factor.
      await enrolTotp();
      session.me = await api<StaffMe>('GET', '/api/staff/me');
      session.recoveryCodesLeft = 10;
    }
    await openWorkspace(session);
  });

  listen(byId('logout'), 'click', async () => {
    await api('POST', '/api/staff/logout', {}).catch(() => undefined);
    session = undefined;
    location.replace('/staff');
  });

  bindTeamPanel();
  bindCasesPanel();
  bindPublishingPanel();
  bindAccountPanels();
  bindAuditPanel();
  bindAlertsPanel();
  bindRetentionPanel();
});

async function openWorkspace(current: StaffSession): Promise<void> {
  const me = current.me;
  byId('whoami-name').textContent = `${me.username} (${me.roles.join(', ')})`;
  show(byId('whoami'));
  showStep('step-workspace');
  show(byId('pending-note'), me.status !== 'active');
  initAccountPanel(current);
  if (me.status !== 'active') return;
  if (me.roles.includes('admin')) await initTeamPanel(current);
  if (me.roles.includes('moderator')) await initCasesPanel(current);
  if (me.roles.includes('moderator') || me.roles.includes('advocate')) await initPublishingPanel(current);
  if (me.roles.includes('admin')) {
    await initSettingsPanel().catch((e) => say(byId('settings-status'), errorMessage(e), 'error'));
    await initRetentionPanel().catch((e) => say(byId('retention-status'), errorMessage(e), 'error'));
    await initAuditPanel().catch((e) => say(byId('audit-verdict'), `The audit log could not be loaded: ${errorMessage(e)}`, 'error'));
  }
  // Last, so that the panels of the member's roles appear first.
  await initAlertsPanel().catch((e) => say(byId('alerts-status'), errorMessage(e), 'error'));
}
