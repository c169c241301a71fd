/**
 * Second-factor upkeep on the staff page: a member makes new recovery codes (the password and
 * a fresh TOTP code again; the old codes stop working), and an admin resets another member's
 * two-factor sign-in (their sessions end; they set it up again at their next sign-in).
 *
 * The page needs `#recovery-codes-form` (in the account block) with `#recovery-password`,
 * `#recovery-totp`, `#recovery-codes-status` and `#new-recovery-codes`.
 */
import { fromBase64url, staffSecrets, toBase64url } from '../../protocol';
import type { RecoveryCodes, StaffLoginParams, StaffMemberSummary } from '../../protocol/api';
import { api } from './api';
import { byId, copyText, el, errorMessage, onSubmit, say, show } from './dom';
import { browserArgon2 } from './kdf';
import { kdfProgress, type StaffSession } from './staff';

/** Binds the account block's "new recovery codes" form; `current()` is the signed-in session. */
export function bindRecoveryCodesForm(current: () => StaffSession | undefined): void {
  const status = byId('recovery-codes-status');
  const list = byId('new-recovery-codes');
  onSubmit(byId<HTMLFormElement>('recovery-codes-form'), status, async () => {
    const session = current();
    if (!session) throw new Error('Sign in first.');
    const password = byId<HTMLInputElement>('recovery-password');
    const code = byId<HTMLInputElement>('recovery-totp');
    const totp = code.value.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(totp)) throw new Error('Type the 6 digits your authenticator app shows now.');
    say(status, kdfProgress('Checking your password'));
    const { kdf } = await api<StaffLoginParams>('POST', '/api/staff/login/params', { username: session.me.username });
    const { authKey, wrapKey } = await staffSecrets(password.value, fromBase64url(kdf.salt), kdf.params, browserArgon2);
    wrapKey.fill(0);
    let answer: RecoveryCodes;
    try {
      answer = await api<RecoveryCodes>('POST', '/api/staff/recovery-codes', { currentAuthKey: toBase64url(authKey), totp });
    } finally {
      authKey.fill(0);
    }
    password.value = '';
    code.value = '';
    session.recoveryCodesLeft = answer.recoveryCodes.length;
    const copy = el('button', { text: 'Copy the codes', className: 'secondary', attrs: { type: 'button' } });
    // copyText shows a failure on the button itself and never rejects: nothing to wait for.
    copy.addEventListener('click', () => void copyText(answer.recoveryCodes.join('\n'), copy));
    list.replaceChildren(
      el(
        'ol',
        { className: 'recovery-codes' },
        answer.recoveryCodes.map((c) => el('li', { text: c })),
      ),
      copy,
    );
    show(list);
    show(byId('recovery-left'), false);
    say(status, 'Your new recovery codes are below; the old ones no longer work. Save these now: they are shown only once.');
  });
}

/** The Team list's "Reset 2FA" button for another member (admins only). */
export function resetTotpButton(member: StaffMemberSummary, after: () => Promise<unknown>): HTMLButtonElement {
  const button = el('button', {
    text: 'Reset 2FA',
    className: 'secondary',
    attrs: { type: 'button', 'aria-label': `Reset two-factor sign-in of ${member.username}` },
  });
  button.addEventListener('click', () => {
    if (
      !confirm(
        `Reset two-factor sign-in of ${member.username}? Their authenticator app and recovery codes stop working, they are signed out everywhere, and at their next sign-in they must set up a new authenticator app. Do this only when they asked for it and are ready to sign in.`,
      )
    )
      return;
    const status = byId('workspace-status');
    api<{ sessionsEnded: number }>('POST', `/api/staff/members/${member.id}/totp-reset`, {})
      .then(async ({ sessionsEnded }) => {
        say(
          status,
          `Two-factor sign-in of ${member.username} was reset (${sessionsEnded} session${sessionsEnded === 1 ? '' : 's'} ended). At their next sign-in they set up a new authenticator app.`,
        );
        await after();
      })
      .catch((e) => say(status, errorMessage(e), 'error'));
  });
  return button;
}
