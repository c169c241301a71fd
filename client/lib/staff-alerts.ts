/**
 * The member's own alerts (the "Alerts" block, <section id="alerts-panel">): an email address
 * and, for new cases and for answers in cases assigned to them, off, as it happens, or a daily
 * digest; and, optionally, the OpenPGP public key alerts are encrypted to, shown back by its
 * fingerprint (with a warning when it no longer encrypts: alerts are then held, not sent). When
 * the server has no mail server configured the block says so and the forms are off.
 */
import type { AlertKeyInfo, AlertKeyProblem, AlertMode, StaffAlertSettings } from '../../protocol/api';
import { api } from './api';
import { byId, errorMessage, listen, onSubmit, say, show } from './dom';

export async function initAlertsPanel(): Promise<void> {
  show(byId('alerts-panel'));
  fill(await api<StaffAlertSettings>('GET', '/api/staff/me/alerts'));
}

const KEY_PROBLEMS: Record<AlertKeyProblem, string> = {
  expired: 'This key has expired.',
  revoked: 'This key is revoked.',
  cannot_encrypt: 'This key can no longer encrypt.',
};

/** A fingerprint as groups of four, to read aloud or compare by eye. */
export const fingerprintGroups = (hex: string): string => hex.replace(/(.{4})(?=.)/g, '$1 ');

function fillKey(key: AlertKeyInfo | null): void {
  show(byId('alerts-key-current'), key !== null);
  if (!key) return;
  byId('alerts-key-fingerprint').textContent = fingerprintGroups(key.fingerprint);
  byId('alerts-key-details').textContent = [
    key.userIds.length ? `The key says it belongs to: ${key.userIds.join('; ')}.` : 'The key names no one.',
    key.expires ? `It expires on ${key.expires.slice(0, 10)}.` : 'It does not expire.',
  ].join(' ');
  const problem = byId('alerts-key-problem');
  problem.textContent = key.problem
    ? `${KEY_PROBLEMS[key.problem]} Your alerts are held, not sent, until you paste a key that works, or remove this one to receive them unencrypted.`
    : '';
  show(problem, key.problem !== null);
}

function fill(s: StaffAlertSettings): void {
  byId<HTMLInputElement>('alerts-email').value = s.email ?? '';
  byId<HTMLSelectElement>('alerts-new-case').value = s.newCase;
  byId<HTMLSelectElement>('alerts-answer').value = s.answer;
  byId('alerts-timing').textContent =
    `"As it happens" sends at most one alert of each kind every ${s.pauseMinutes} minutes; ` +
    `what arrives meanwhile waits for the next one. The daily digest goes out at ${String(s.digestHourUtc).padStart(2, '0')}:00 UTC.`;
  show(byId('alerts-off'), !s.available);
  fillKey(s.pgpKey);
  for (const id of ['alerts-form', 'alerts-key-form']) {
    const form = byId<HTMLFormElement>(id);
    for (const control of Array.from(form.elements)) (control as HTMLInputElement).disabled = !s.available;
  }
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

  const keyStatus = byId('alerts-key-status');
  const keyField = byId<HTMLTextAreaElement>('alerts-key');
  onSubmit(byId<HTMLFormElement>('alerts-key-form'), keyStatus, async () => {
    const publicKey = keyField.value.trim();
    if (!publicKey) throw new Error('Paste your public key first.');
    // A private key pasted by mistake never leaves this page (the server refuses one too, but
    // would have received it): the field is emptied, and nothing is sent.
    if (/-----BEGIN PGP (PRIVATE|SECRET) KEY BLOCK-----/i.test(publicKey)) {
      keyField.value = '';
      throw new Error(
        'This is a private key: it was not sent, and the field was emptied. Paste your public key (gpg --armor --export), never the private one.',
      );
    }
    const saved = await api<StaffAlertSettings>('POST', '/api/staff/me/alerts/key', { publicKey });
    keyField.value = '';
    fill(saved);
    say(keyStatus, 'Saved: your alerts are encrypted to this key. Check that the fingerprint above is your key’s.');
  });
  const remove = byId<HTMLButtonElement>('alerts-key-remove');
  listen(remove, 'click', async () => {
    remove.disabled = true;
    say(keyStatus, '');
    try {
      fill(await api<StaffAlertSettings>('POST', '/api/staff/me/alerts/key/remove', {}));
      say(keyStatus, 'Removed: your alerts are sent unencrypted again.');
    } catch (e) {
      say(keyStatus, errorMessage(e), 'error');
    } finally {
      remove.disabled = false;
    }
  });
}
