/**
 * Landing page: shows the instance fingerprint so a visitor can compare it out of band. It is
 * computed here from the keyset chain this browser verified (and checked against its pin),
 * never taken from the server's word; a chain that fails (or a server out of reach) shows why instead.
 */
import { byId, listen } from './lib/dom';
import { localize, unlocalize } from './lib/messages';
import { instanceInfo, reportError } from './lib/survivor-page';
import { currentTrustedHistory } from './lib/trust';

listen(document, 'DOMContentLoaded', async () => {
  const target = byId('fingerprint');
  try {
    const info = await instanceInfo();
    if (!info.setupComplete) {
      localize(target, 'landing.notSetUp');
      return;
    }
    const fingerprint = (await currentTrustedHistory(info, false)).current.fingerprint;
    unlocalize(target);
    target.textContent = fingerprint;
    target.dir = 'ltr';
  } catch (e) {
    // In the fingerprint's place, so no one compares a fingerprint that failed the check.
    reportError(target, e);
  }
});
