/**
 * Tor Browser at its Standard security level (Firefox ESR with the preferences Tor Browser sets):
 * everything a survivor and a moderator do works. See firefox-flows.ts firefoxJourney.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import { firefoxPresent } from '../support/firefox';
import { firefoxJourney } from './firefox-flows';
import { ADMIN } from './flows';
import { describeInBrowser } from './support';

const describeInFirefox = firefoxPresent() ? describeInBrowser : describe.skip;

describeInFirefox('Tor Browser at Standard, in Firefox ESR', () => {
  firefoxJourney('standard', ADMIN);
});
