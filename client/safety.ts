/**
 * Safety page: its text comes from the catalogs (filled in by the survivor-base script). This
 * script shows where Quick exit really goes on this instance, once the server has said, and
 * the organisation's own support contacts if it names any (SUPPORT_CONTACTS), and how long a
 * closed case is kept (retention).
 */
import type { InstanceInfo } from '../protocol/api';
import { byId } from './lib/dom';
import { quickExitUrl } from './lib/quick-exit';
import { instanceInfo } from './lib/survivor-page';

function showExitSite(): void {
  byId('exit-site').textContent = new URL(quickExitUrl()).host;
}

/** The organisation's text, as it wrote it (in whichever language), inside the catalog's sentence. */
function showSupportContacts(info: InstanceInfo): void {
  if (!info.supportContacts) return;
  byId('support-contacts-text').textContent = info.supportContacts;
  byId('support-contacts').hidden = false;
}

/** How long a closed case is kept on this instance (the admin's setting). */
function showRetention(info: InstanceInfo): void {
  byId('retention-days').textContent = String(info.retention.closedCaseDays);
  byId('retention').hidden = false;
}

document.addEventListener('DOMContentLoaded', () => {
  showExitSite();
  instanceInfo()
    .then((info) => {
      showExitSite();
      showSupportContacts(info);
      showRetention(info);
    })
    .catch(() => undefined);
});
