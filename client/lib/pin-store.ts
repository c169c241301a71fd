/**
 * The instance pin in this browser (localStorage `awaaz.pin`, one per origin), and the
 * fingerprint link: a survivor page opened as `…#fp=<fingerprint>&v=<version>` records that
 * fingerprint and lowest version (protocol/pin.ts decides how) and takes the fragment out of the address bar, so it is neither
 * left in the history nor copied along. Pages move between each other with location.replace,
 * which drops fragments: what the link said lives on in the pin.
 */
import { fingerprintInFragment, parsePin, pinAfterLink, type Pin } from '../../protocol/pin';

const PIN_KEY = 'awaaz.pin';

export function readPin(): Pin | undefined {
  try {
    return parsePin(localStorage.getItem(PIN_KEY));
  } catch {
    return undefined; // storage disabled: every visit is a first visit
  }
}

export function writePin(pin: Pin): void {
  try {
    localStorage.setItem(PIN_KEY, JSON.stringify(pin));
  } catch {
    // storage disabled: nothing is remembered
  }
}

/** Reads a fingerprint link in the address, records it in the pin and removes it from the address bar; true if there was one. */
export function takeFingerprintLink(): boolean {
  const link = fingerprintInFragment(location.hash);
  if (link === undefined) return false;
  writePin(pinAfterLink(readPin(), link, location.hash));
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}
