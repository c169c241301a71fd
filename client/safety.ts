/**
 * Safety page: its text comes from the catalogs (filled in by the survivor-base script). This
 * script shows where Quick exit really goes on this instance, once the server has said.
 */
import { byId } from './lib/dom';
import { quickExitUrl } from './lib/quick-exit';
import { instanceInfo } from './lib/survivor-page';

function showExitSite(): void {
  byId('exit-site').textContent = new URL(quickExitUrl()).host;
}

document.addEventListener('DOMContentLoaded', () => {
  showExitSite();
  instanceInfo()
    .then(showExitSite)
    .catch(() => undefined);
});
