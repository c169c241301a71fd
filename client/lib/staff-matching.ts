/**
 * Matches panel (matching counselors): the tags that two or more distinct survivors hold, as
 * the server reports them. Nothing is shown on the server's word: this browser opens every
 * sealed entry with the counselor's key and confirms a match only when entries of two distinct
 * survivors name the same identifier (protocol/matching.ts checkMatch); a forged, altered or
 * different entry is listed as refused, and entries of two handles that name one case count as
 * one survivor, with a warning. A counselor who is also a moderator then reads each
 * case here, checked to be the case of the survivor who named it.
 */
import nacl from 'tweetnacl';
import { checkMatch } from '../../protocol/matching';
import type { StaffCaseDetail, StaffMatch } from '../../protocol/api';
import { api } from './api';
import { openThread } from './case-thread';
import { byId, el, errorMessage, listen, say, show } from './dom';
import type { StaffSession } from './staff';
import { renderTestimony } from './testimony';
import { currentTrustedHistory } from './trust';

let session: StaffSession;

const box = () => nacl.box.keyPair.fromSecretKey(session.keys.boxSecretKey);
const status = () => byId('matching-status');

export function bindMatchingPanel(): void {
  listen(byId('matching-reload'), 'click', () => loadMatches().catch((e) => say(status(), errorMessage(e), 'error')));
}

export async function initMatchingPanel(current: StaffSession): Promise<void> {
  session = current;
  show(byId('matching-panel'));
  await loadMatches();
}

async function loadMatches(): Promise<void> {
  const { matches } = await api<{ matches: StaffMatch[] }>('GET', '/api/staff/matches');
  const list = byId('matching-list');
  list.replaceChildren();
  byId('matching-cases').replaceChildren();
  const reader = box();
  let confirmed = 0;
  for (const m of matches) {
    const check = checkMatch(m.tag, m.keyVersion, m.entries, reader);
    const item = el('article', {
      className: 'match',
      attrs: { 'data-confirmed': String(check.isMatch), 'data-forged': String(check.forged) },
    });
    if (check.isMatch) {
      confirmed++;
      const id = check.confirmed[0].body.identifier;
      item.append(el('h3', { text: `Match: ${id.type} ${id.value}` }));
      item.append(
        el('p', {
          className: 'hint',
          text: `${check.survivors} survivors named this ${id.type}. This browser opened their sealed entries and checked that they name the same one.`,
        }),
      );
    } else if (check.notForMe.length > 0) {
      item.append(el('h3', { text: 'A reported match that this browser cannot open yet' }));
    } else {
      item.append(el('h3', { text: 'A reported match that this browser could not confirm' }));
    }
    if (check.forged)
      item.append(
        el('p', {
          className: 'hint',
          attrs: { role: 'alert' },
          text: 'Two handles list entries that name the same case: the server listed one entry twice, or one person used two accounts. They count as one survivor here. Tell the administrator.',
        }),
      );
    const rows = el('ul');
    for (const c of check.confirmed) {
      const entry = m.entries[c.index];
      const read = el('button', { className: 'secondary', text: `Read the case of ${entry.handle}`, attrs: { type: 'button' } });
      listen(read, 'click', () => readCase(c.body.caseId, entry.handle).catch((e) => say(status(), errorMessage(e), 'error')));
      const canRead = session.me.roles.includes('moderator');
      rows.append(el('li', { className: 'match-entry' }, [`${entry.handle}, named on ${entry.createdDay} `, ...(canRead ? [read] : [])]));
    }
    for (const r of check.refused) {
      const entry = m.entries[r.index];
      rows.append(
        el('li', {
          className: 'match-refused',
          attrs: { role: 'alert' },
          text: `Refused: the entry of ${entry.handle} (${entry.createdDay}): ${r.reason}`,
        }),
      );
    }
    for (const index of check.undecided) {
      const entry = m.entries[index];
      rows.append(
        el('li', {
          className: 'match-waiting',
          text: `${entry.handle}, named on ${entry.createdDay}: opened here; whether it matches waits for the entries below.`,
        }),
      );
    }
    for (const index of check.notForMe) {
      const entry = m.entries[index];
      rows.append(
        el('li', {
          className: 'match-waiting',
          text: `Not sealed to you yet: the entry of ${entry.handle} (${entry.createdDay}) was sealed before you were a matching counselor; it opens here once that survivor visits again.`,
        }),
      );
    }
    item.append(rows);
    list.append(item);
  }
  if (matches.length === 0) list.append(el('p', { text: 'No two survivors have named the same person.' }));
  say(status(), `${confirmed} confirmed ${confirmed === 1 ? 'match' : 'matches'}.`);
}

/** One matched case's testimony, decrypted here, after checking that it is the case of the survivor who named it. */
async function readCase(caseId: string, handle: string): Promise<void> {
  const [detail, history] = await Promise.all([api<StaffCaseDetail>('GET', `/api/staff/cases/${caseId}`), currentTrustedHistory()]);
  const target = byId('matching-cases');
  const section = el('section', { className: 'match-case', attrs: { 'aria-label': `Case of ${detail.handle}` } });
  section.append(el('h3', { text: `Case of ${detail.handle}` }));
  if (detail.handle !== handle) {
    section.append(
      el('p', { attrs: { role: 'alert' }, text: `Refused: this case belongs to ${detail.handle}, not to ${handle} who named it.` }),
    );
  } else {
    try {
      const entries = await openThread(detail.caseId, detail.thread, { box: box() }, { survivorSignPk: detail.survivorSignPk, history });
      const first = entries[0];
      if (first.kind === 'testimony')
        section.append(renderTestimony(first.testimony, { day: detail.createdDay, status: detail.status, handle: detail.handle }));
    } catch (e) {
      section.append(el('p', { attrs: { role: 'alert' }, text: `This case could not be opened safely: ${errorMessage(e)}` }));
    }
  }
  target.append(section);
  section.scrollIntoView({ block: 'nearest' });
}
