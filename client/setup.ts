/**
 * First-admin setup: the admin's browser makes the instance signing key and the admin's own
 * keys, signs keyset version 1, and sends only public keys and wrapped private keys; then the
 * admin sets up two-factor sign-in (lib/staff-2fa.ts) and sees the instance fingerprint and the
 * link to publish, both computed here from the instance key.
 */
import { fingerprint, fingerprintLink, signKeyset, utcDay, type StaffRole } from '../protocol';
import type { InstanceInfo, StaffMe } from '../protocol/api';
import { api, serverNow } from './lib/api';
import { byId, fragmentToken, nextFrame, onSubmit, say, showStep } from './lib/dom';
import { checkPassword, kdfProgress, makeStaffKeys } from './lib/staff';
import { enrolTotp } from './lib/staff-2fa';
import { keepForReload } from './lib/staff-reload';

document.addEventListener('DOMContentLoaded', () => {
  const status = byId('setup-status');
  const setupToken = fragmentToken();
  if (!setupToken)
    say(
      status,
      'This page needs the one-time setup link printed by the server (it ends with #…). Run `npm run admin -- init` for a new one.',
      'error',
    );

  onSubmit(byId<HTMLFormElement>('setup-form'), status, async () => {
    if (!setupToken) throw new Error('Open the one-time setup link printed by the server.');
    const username = byId<HTMLInputElement>('username').value.trim();
    const password = byId<HTMLInputElement>('password').value;
    checkPassword(password, byId<HTMLInputElement>('password2').value);
    const roles: StaffRole[] = byId<HTMLInputElement>('also-moderator').checked ? ['admin', 'moderator'] : ['admin'];

    say(status, kdfProgress('Creating keys'));
    await nextFrame();
    const info = await api<InstanceInfo>('GET', '/api/instance');
    const keys = await makeStaffKeys(username, password, true);
    const keyset = signKeyset(
      {
        v: 1,
        instanceId: info.instanceId,
        version: 1,
        prev: null,
        issuedDay: utcDay(serverNow()),
        members: [{ staffId: keys.staffId, username, roles, boxPk: keys.material.boxPk, signPk: keys.material.signPk }],
      },
      keys.instance!,
    );
    await api<StaffMe>('POST', '/api/setup', { setupToken, staffId: keys.staffId, roles, keyset, ...keys.material });
    history.replaceState(null, '', '/setup'); // the token is spent; keep it out of history
    say(status, '');
    await enrolTotp();
    // The session is open: "Go to the staff workspace" opens it without a second sign-in (lib/staff-reload.ts).
    await keepForReload(
      { boxSecretKey: keys.box.secretKey, signSecretKey: keys.sign.secretKey, instanceSecretKey: keys.instance!.secretKey },
      10,
    );
    // From the key this browser made, not from what the server says.
    const fp = fingerprint(keys.instance!.publicKey);
    byId('fingerprint').textContent = fp;
    byId('fingerprint-link').textContent = fingerprintLink(location.origin, fp);
    say(status, '');
    showStep('step-done');
  });
});
