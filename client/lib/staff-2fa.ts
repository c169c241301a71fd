/**
 * Two-factor enrolment, shown right after the password step of setup and of an invite (and at
 * sign-in for a member who stopped before it): the server makes a TOTP secret, this page draws
 * its QR code locally (qrcode-generator, no network) as SVG built with DOM methods, shows the
 * secret for typing by hand, checks a code, then shows the recovery codes once.
 *
 * The page needs an empty `<section id="step-totp" data-step hidden></section>`.
 */
import qrcode from 'qrcode-generator';
import type { RecoveryCodes, TotpSetup } from '../../protocol/api';
import { api } from './api';
import { byId, copyText, el, onSubmit, say, showStep } from './dom';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A QR code (error correction M, 4-module quiet zone) as an SVG element: one path of dark modules. */
export function qrSvg(text: string, label: string): SVGSVGElement {
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Byte');
  qr.make();
  const count = qr.getModuleCount();
  const quiet = 4;
  const size = count + 2 * quiet;
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG_NS, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#ffffff');
  let d = '';
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) if (qr.isDark(row, col)) d += `M${col + quiet} ${row + quiet}h1v1h-1z`;
  }
  const modules = document.createElementNS(SVG_NS, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000000');
  svg.append(background, modules);
  return svg;
}

/**
 * Runs the enrolment in `#step-totp` and resolves once the member has confirmed a code and
 * said they saved the recovery codes.
 */
export async function enrolTotp(): Promise<void> {
  const section = byId('step-totp');
  const setup = await api<TotpSetup>('POST', '/api/staff/totp/setup', {});
  const status = el('p', { attrs: { id: 'totp-status', role: 'alert', hidden: '' } });
  const codeInput = el('input', {
    attrs: {
      type: 'text',
      id: 'totp-code',
      name: 'code',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      pattern: '[0-9 ]{6,7}',
      maxlength: '7',
      required: '',
      spellcheck: 'false',
    },
  });
  const form = el('form', { attrs: { id: 'totp-form' } }, [
    el('label', { text: 'Type the 6-digit code the app shows now', attrs: { for: 'totp-code' } }),
    codeInput,
    status,
    el('button', { text: 'Confirm', attrs: { type: 'submit' } }),
  ]);
  section.replaceChildren(
    el('h1', { text: 'Set up two-factor sign-in' }),
    el('p', {
      text: 'Every staff account needs a second step at sign-in: a 6-digit code from an authenticator app on your phone (for example Aegis, FreeOTP, 2FAS or Google Authenticator). Scan this QR code with the app. This page drew it itself; it was not sent anywhere.',
    }),
    el('figure', { className: 'totp-qr' }, [qrSvg(setup.uri, 'QR code that adds your Awaaz account to an authenticator app')]),
    el('p', { text: 'Cannot scan it? Add an account by hand, time-based, with this key:' }),
    el('p', { className: 'totp-secret', text: setup.secret, attrs: { id: 'totp-secret' } }),
    form,
  );
  showStep('step-totp');

  const recoveryCodes = await new Promise<string[]>((resolve) => {
    onSubmit(form, status, async () => {
      const code = codeInput.value.replace(/\s+/g, '');
      if (!/^\d{6}$/.test(code)) throw new Error('Type the 6 digits the app shows.');
      const confirmed = await api<RecoveryCodes>('POST', '/api/staff/totp/confirm', { code });
      resolve(confirmed.recoveryCodes);
    });
  });

  const done = el('form', { attrs: { id: 'recovery-form' } });
  const copy = el('button', { text: 'Copy the codes', className: 'secondary', attrs: { type: 'button', id: 'copy-recovery' } });
  // copyText shows a failure on the button itself and never rejects: nothing to wait for.
  copy.addEventListener('click', () => void copyText(recoveryCodes.join('\n'), copy));
  const doneStatus = el('p', { attrs: { role: 'alert', hidden: '' } });
  done.append(
    el('label', { className: 'inline' }, [
      el('input', { attrs: { type: 'checkbox', id: 'recovery-saved', required: '' } }),
      'I have saved these codes somewhere safe',
    ]),
    doneStatus,
    el('button', { text: 'Continue', attrs: { type: 'submit' } }),
  );
  section.replaceChildren(
    el('h1', { text: 'Save your recovery codes' }),
    el('p', {
      text: 'Two-factor sign-in is on. If you lose your phone, each of these codes signs you in once instead of a code from the app. Keep them apart from your password: printed, or in a password manager. They are shown only now.',
    }),
    el(
      'ol',
      { className: 'recovery-codes', attrs: { id: 'recovery-codes' } },
      recoveryCodes.map((c) => el('li', { text: c })),
    ),
    copy,
    done,
  );
  showStep('step-totp');
  await new Promise<void>((resolve) => {
    onSubmit(done, doneStatus, () => {
      say(doneStatus, '');
      resolve();
    });
  });
}
