/**
 * Entry of the survivor-base script, loaded (blocking, with SRI) in the head of every
 * survivor page before the page's own script: it sets the language and direction before the
 * body is drawn and arms quick exit before anything else runs. scripts/build.mjs also exposes
 * its modules to the page scripts, so each is shipped once (see client/README.md).
 */
import { startSurvivorPage } from './lib/survivor-page';

startSurvivorPage();
