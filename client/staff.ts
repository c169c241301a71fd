/**
 * Staff workspace entry: sign in with password and a second factor (keys unwrapped in memory
 * only, and kept sealed for a reload of this tab: lib/staff-reload.ts), two-factor enrolment
 * for a member who has not done it yet (lib/staff-2fa.ts), then the views each role may use,
 * each at its own address (lib/staff-views.ts): Cases (moderator, lib/staff-cases.ts),
 * Publishing (moderator and advocate, lib/staff-publishing.ts), Team (admin: members, invites,
 * session settings; lib/staff-team.ts, lib/staff-account.ts), Audit (admin, lib/staff-audit.ts)
 * and Account (everyone, lib/staff-account.ts, with alerts in lib/staff-alerts.ts and new
 * recovery codes in lib/staff-security.ts), Matches (matching counselor, lib/staff-matching.ts).
 * Admins also set retention (lib/staff-retention.ts) and take stories down (lib/staff-takedown.ts).
 * Lists refresh by themselves (lib/staff-live.ts).
 */
import nacl from 'tweetnacl';
import { memberFingerprint } from '../protocol';
import { api } from './lib/api';
import { byId, errorMessage, listen, nextFrame, onSubmit, say, show, showStep } from './lib/dom';
import type { StaffMe } from '../protocol/api';
import { kdfProgress, staffLogin, type StaffSession } from './lib/staff';
import { enrolTotp } from './lib/staff-2fa';
import { bindAccountPanels, initAccountPanel, initSettingsPanel } from './lib/staff-account';
import { bindAlertsPanel, initAlertsPanel } from './lib/staff-alerts';
import { bindAuditPanel, initAuditPanel } from './lib/staff-audit';
import { bindCasesPanel, closeCase, initCasesPanel, openCaseId, refreshCases, showCase } from './lib/staff-cases';
import { startLiveUpdates } from './lib/staff-live';
import { bindMatchingPanel, initMatchingPanel } from './lib/staff-matching';
import {
  bindPublishingPanel,
  closePublishingCase,
  initPublishingPanel,
  refreshPublishing,
  showPublishingCase,
} from './lib/staff-publishing';
import { forgetKeptSession, hasKeptSession, keepForReload, restoreKeptSession } from './lib/staff-reload';
import { bindRetentionPanel, initRetentionPanel } from './lib/staff-retention';
import { bindRecoveryCodesForm } from './lib/staff-security';
import { bindTakedownPanel, initTakedownPanel } from './lib/staff-takedown';
import { bindTeamPanel, initTeamPanel } from './lib/staff-team';
import { addressOf, placeOf, placeSections, renderNavigation, showView, viewsFor, type StaffView } from './lib/staff-views';

let session: StaffSession | undefined;
let views: StaffView[] = [];
/** The panels are filled: a case the address names can be opened. */
let panelsReady = false;

document.addEventListener('DOMContentLoaded', () => {
  placeSections();
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
    await keepForReload(session.keys, session.recoveryCodesLeft);
    await openWorkspace(session);
  });

  listen(byId('logout'), 'click', async () => {
    forgetKeptSession();
    await api('POST', '/api/staff/logout', {}).catch(() => undefined);
    session = undefined;
    location.replace('/staff');
  });

  bindTeamPanel();
  bindCasesPanel();
  bindPublishingPanel();
  bindAccountPanels();
  bindAuditPanel();
  bindMatchingPanel();
  bindRecoveryCodesForm(() => session);
  bindTakedownPanel();
  bindAlertsPanel();
  bindRetentionPanel();

  if (hasKeptSession()) void reopen();
});

/** A reload of a signed-in tab: the kept keys, opened with this session's key, or the sign-in form. */
async function reopen(): Promise<void> {
  showStep('step-restoring');
  try {
    const kept = await restoreKeptSession();
    if (kept) {
      session = kept;
      await openWorkspace(kept);
      return;
    }
    showStep('step-login');
  } catch (e) {
    showStep('step-login');
    say(
      byId('login-status'),
      `Your workspace could not be reopened: ${errorMessage(e)} Reload the page to try again, or sign in.`,
      'error',
    );
  }
}

async function openWorkspace(current: StaffSession): Promise<void> {
  const me = current.me;
  const active = me.status === 'active';
  byId('whoami-name').textContent = `${me.username} (${me.roles.join(', ')})`;
  show(byId('whoami'));
  document.body.classList.add('workspace');
  showStep('step-workspace');
  show(byId('pending-note'), !active);
  if (!active)
    // From the keys this browser holds, not from what the server says: that is what makes the comparison worth it.
    byId('own-key-code').textContent = memberFingerprint(
      nacl.box.keyPair.fromSecretKey(current.keys.boxSecretKey).publicKey,
      nacl.sign.keyPair.fromSecretKey(current.keys.signSecretKey).publicKey,
    );
  views = viewsFor(me.roles, active);
  renderNavigation(views);
  initAccountPanel(current);
  window.addEventListener('hashchange', () => void route());
  await route();
  if (!active) return;
  const roles = me.roles;
  const failed = (what: string) => (e: unknown) =>
    say(byId('workspace-status'), `${what} could not be loaded: ${errorMessage(e)}`, 'error');
  await initAlertsPanel().catch((e) => say(byId('alerts-status'), errorMessage(e), 'error'));
  if (roles.includes('admin')) await initTeamPanel(current).catch(failed('The team'));
  if (roles.includes('moderator')) await initCasesPanel(current).catch(failed('The cases'));
  if (roles.includes('moderator') || roles.includes('advocate')) await initPublishingPanel(current).catch(failed('Publishing'));
  if (roles.includes('matching_counselor'))
    await initMatchingPanel(current).catch((e) =>
      say(byId('matching-status'), `The matches could not be loaded: ${errorMessage(e)}`, 'error'),
    );
  if (roles.includes('admin') || roles.includes('advocate')) initTakedownPanel();
  if (roles.includes('admin')) {
    await initSettingsPanel().catch((e) => say(byId('settings-status'), errorMessage(e), 'error'));
    await initRetentionPanel().catch((e) => say(byId('retention-status'), errorMessage(e), 'error'));
    await initAuditPanel().catch((e) => say(byId('audit-verdict'), `The audit log could not be loaded: ${errorMessage(e)}`, 'error'));
  }
  panelsReady = true;
  await route(); // open the case the address names, if any
  // Live: the cases (and the navigation's unread count) for a moderator; the publishing list
  // while its view is shown (drafts approved, changes asked), for moderators and advocates.
  const publishes = roles.includes('moderator') || roles.includes('advocate');
  if (roles.includes('moderator') || publishes)
    startLiveUpdates(
      async () => {
        if (roles.includes('moderator')) await refreshCases();
        if (publishes && placeOf(location.hash)?.view === 'publishing') await refreshPublishing();
      },
      () => say(byId('workspace-status'), 'You were signed out (the session ended). Reload the page to sign in again.', 'error'),
    );
}

/** Shows what the address names: a view this member may use (else their first), and the case open in it. */
async function route(): Promise<void> {
  if (views.length === 0) return;
  const place = placeOf(location.hash);
  if (!place || !views.some((v) => v.id === place.view)) {
    history.replaceState(null, '', addressOf({ view: views[0].id }));
    return route();
  }
  showView(place.view);
  if (!panelsReady) return;
  const failed = (e: unknown) => say(byId('workspace-status'), errorMessage(e), 'error');
  if (place.view === 'cases' && session?.me.roles.includes('moderator')) {
    if (!place.caseId) closeCase();
    else if (place.caseId !== openCaseId()) await showCase(place.caseId).catch(failed);
  }
  if (place.view === 'publishing') {
    if (!place.caseId) {
      closePublishingCase();
      await refreshPublishing().catch(failed);
    } else await showPublishingCase(place.caseId).catch(failed);
  }
}
