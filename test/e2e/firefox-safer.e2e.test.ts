/**
 * Tor Browser at its Safer security level (Firefox ESR with the preferences Tor Browser sets: no WebAssembly, no JIT):
 * everything a survivor and a moderator do works. See firefox-flows.ts firefoxJourney.
 */
import { firefoxPresent } from '../support/firefox';
import { firefoxJourney } from './firefox-flows';
import { ADMIN } from './flows';
import { describeInBrowser } from './support';

const describeInFirefox = firefoxPresent() ? describeInBrowser : describe.skip;

describeInFirefox('Tor Browser at Safer, in Firefox ESR', () => {
  firefoxJourney('safer', ADMIN);
});
