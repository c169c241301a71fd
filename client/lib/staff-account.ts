/**
 * The signed-in member's own account (log out everywhere, change the password, recovery codes
 * left) and, for admins, the staff session settings.
 */
import type { SessionSettings, StaffActivity } from '../../protocol/api';
import { api } from './api';
import { byId, listen, onSubmit, say, show } from './dom';
import { changePassword, checkPassword, kdfProgress, type StaffSession } from './staff';
import { forgetKeptSession } from './staff-reload';

let session: StaffSession | undefined;

export function initAccountPanel(current: StaffSession): void {
  session = current;
  show(byId('account-panel'));
  const left = current.recoveryCodesLeft;
  const note = byId('recovery-left');
  note.textContent =
    left === 0
      ? 'You have no recovery codes left: make new ones below now. If you lose your phone without one, only an admin can let you back in, by resetting your two-factor sign-in.'
      : `You have ${left} recovery code${left === 1 ? '' : 's'} left.`;
  show(note, left <= 3);
}

export async function initSettingsPanel(): Promise<void> {
  show(byId('settings-panel'));
  fillSettings(await api<SessionSettings>('GET', '/api/staff/settings'));
}

function fillSettings(s: SessionSettings): void {
  const idle = byId<HTMLInputElement>('idle-minutes');
  const absolute = byId<HTMLInputElement>('absolute-hours');
  idle.value = String(s.sessionIdleMinutes);
  idle.min = String(s.bounds.sessionIdleMinutes.min);
  idle.max = String(s.bounds.sessionIdleMinutes.max);
  absolute.value = String(s.sessionAbsoluteHours);
  absolute.min = String(s.bounds.sessionAbsoluteHours.min);
  absolute.max = String(s.bounds.sessionAbsoluteHours.max);
}

export function bindAccountPanels(): void {
  listen(byId('logout-everywhere'), 'click', async () => {
    if (!confirm('Sign out of Awaaz on every device, this one included?')) return;
    forgetKeptSession();
    try {
      await api('POST', '/api/staff/logout/everywhere', {});
    } finally {
      session = undefined;
      location.replace('/staff');
    }
  });

  const passwordStatus = byId('password-status');
  onSubmit(byId<HTMLFormElement>('password-form'), passwordStatus, async () => {
    if (!session) throw new Error('Sign in first.');
    const current = byId<HTMLInputElement>('current-password');
    const next = byId<HTMLInputElement>('new-password');
    const again = byId<HTMLInputElement>('new-password2');
    checkPassword(next.value, again.value);
    if (next.value === current.value) throw new Error('The new password is the same as the current one.');
    say(passwordStatus, kdfProgress('Locking your keys with the new password'));
    await new Promise((r) => setTimeout(r, 30));
    await changePassword(session, current.value, next.value);
    for (const input of [current, next, again]) input.value = '';
    say(passwordStatus, 'Your password is changed. Your other sessions were signed out; use the new password from now on.');
  });

  const settingsStatus = byId('settings-status');
  onSubmit(byId<HTMLFormElement>('settings-form'), settingsStatus, async () => {
    const saved = await api<SessionSettings>('POST', '/api/staff/settings', {
      sessionIdleMinutes: Number(byId<HTMLInputElement>('idle-minutes').value),
      sessionAbsoluteHours: Number(byId<HTMLInputElement>('absolute-hours').value),
    });
    fillSettings(saved);
    say(
      settingsStatus,
      `Saved: staff are signed out after ${saved.sessionIdleMinutes} minutes without activity, and after ${saved.sessionAbsoluteHours} hours in any case.`,
    );
  });
}

/** The "Last seen" cell of the admin's team list. */
export function lastSeenText(activity: StaffActivity['members'][number] | undefined): string {
  if (!activity) return '';
  if (activity.activeSessions > 0) return `${activity.lastSeenDay ?? 'today'} (signed in)`;
  return activity.lastSeenDay ?? 'never';
}
