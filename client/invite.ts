/**
 * Invite page: a new staff member chooses a password; their browser makes and wraps their keys;
 * then they set up two-factor sign-in (lib/staff-2fa.ts) before anything else.
 */
import type { StaffMe } from '../protocol/api';
import { api, ApiFailure } from './lib/api';
import { memberFingerprint } from '../protocol';
import { byId, fragmentToken, listen, nextFrame, onSubmit, say, showStep } from './lib/dom';
import { checkPassword, kdfProgress, makeStaffKeys } from './lib/staff';
import { enrolTotp } from './lib/staff-2fa';
import { keepForReload } from './lib/staff-reload';
import { fingerprintInFragment, pinAfterLink } from '../protocol/pin';
import { readPin, writePin } from './lib/pin-store';

listen(document, 'DOMContentLoaded', async () => {
  const inviteToken = fragmentToken();
  // The admin's page adds the instance fingerprint to the link (`&fp=`): pinned now, before this
  // browser has seen any list of readers, the workspace refuses one signed by another key.
  const fp = fingerprintInFragment(location.hash);
  if (fp !== undefined) writePin(pinAfterLink(readPin(), fp));
  const invalid = (reason: string) => {
    byId('invalid-reason').textContent = reason;
    showStep('step-invalid');
  };
  if (!inviteToken) return invalid('This page needs the whole invite link, including the part after #.');
  try {
    const { roles } = await api<{ roles: string[] }>('POST', '/api/staff/invites/check', { inviteToken });
    byId('roles').textContent = roles.join(' and ');
  } catch (e) {
    return invalid(e instanceof ApiFailure ? e.message : 'The invite could not be checked.');
  }

  const status = byId('invite-status');
  onSubmit(byId<HTMLFormElement>('invite-form'), status, async () => {
    const username = byId<HTMLInputElement>('username').value.trim();
    const password = byId<HTMLInputElement>('password').value;
    checkPassword(password, byId<HTMLInputElement>('password2').value);
    say(status, kdfProgress('Creating your keys'));
    await nextFrame();
    const keys = await makeStaffKeys(username, password, false);
    await api<StaffMe>('POST', '/api/staff/enrol', { inviteToken, ...keys.material });
    history.replaceState(null, '', '/invite');
    say(status, '');
    await enrolTotp();
    // The session is open: the workspace opens without a second sign-in (lib/staff-reload.ts).
    await keepForReload({ boxSecretKey: keys.box.secretKey, signSecretKey: keys.sign.secretKey }, 10);
    byId('own-key-code').textContent = memberFingerprint(keys.box.publicKey, keys.sign.publicKey);
    showStep('step-done');
  });
  byId<HTMLButtonElement>('invite-submit').disabled = false;
});
