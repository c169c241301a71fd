/**
 * The member's own alerts (the "Alerts" block, <section id="alerts-panel">): an email address
 * and, for new cases and for answers in cases assigned to them, off, as it happens, or a daily
 * digest. When the server has no mail server configured the block says so and the form is off.
 */
import type { AlertMode, StaffAlertSettings } from '../../protocol/api';
import { api } from './api';
import { byId, onSubmit, say, show } from './dom';

export async function initAlertsPanel(): Promise<void> {
  show(byId('alerts-panel'));
  fill(await api<StaffAlertSettings>('GET', '/api/staff/me/alerts'));
}

function fill(s: StaffAlertSettings): void {
  byId<HTMLInputElement>('alerts-email').value = s.email ?? '';
  byId<HTMLSelectElement>('alerts-new-case').value = s.newCase;
  byId<HTMLSelectElement>('alerts-answer').value = s.answer;
  byId('alerts-timing').textContent =
    `"As it happens" sends at most one alert of each kind every ${s.pauseMinutes} minutes; ` +
    `what arrives meanwhile waits for the next one. The daily digest goes out at ${String(s.digestHourUtc).padStart(2, '0')}:00 UTC.`;
  show(byId('alerts-off'), !s.available);
  const form = byId<HTMLFormElement>('alerts-form');
  for (const control of Array.from(form.elements)) (control as HTMLInputElement).disabled = !s.available;
}

export function bindAlertsPanel(): void {
  const status = byId('alerts-status');
  onSubmit(byId<HTMLFormElement>('alerts-form'), status, async () => {
    const email = byId<HTMLInputElement>('alerts-email').value.trim();
    const newCase = byId<HTMLSelectElement>('alerts-new-case').value as AlertMode;
    const answer = byId<HTMLSelectElement>('alerts-answer').value as AlertMode;
    if (!email && (newCase !== 'off' || answer !== 'off')) throw new Error('Give an email address, or turn both kinds of alert off.');
    const saved = await api<StaffAlertSettings>('POST', '/api/staff/me/alerts', { email: email || null, newCase, answer });
    fill(saved);
    say(
      status,
      saved.newCase === 'off' && saved.answer === 'off' ? 'Saved: you receive no alerts.' : `Saved: alerts go to ${saved.email}.`,
    );
  });
}
