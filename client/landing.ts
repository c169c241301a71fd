/** Landing page: shows the instance fingerprint so a visitor can compare it out of band. */
import { byId } from './lib/dom';
import { localize, unlocalize } from './lib/messages';
import { instanceInfo } from './lib/survivor-page';

document.addEventListener('DOMContentLoaded', async () => {
  const target = byId('fingerprint');
  try {
    const info = await instanceInfo();
    if (info.fingerprint) {
      unlocalize(target);
      target.textContent = info.fingerprint;
      target.dir = 'ltr';
    } else localize(target, 'landing.notSetUp');
  } catch {
    localize(target, 'landing.fingerprintError');
  }
});
