/**
 * Matches panel (matching counselors): the tags that two or more distinct survivors hold, as
 * the server reports them. Nothing is shown on the server's word: this browser opens every
 * sealed entry with the counselor's key and finds the identifier that entries of two distinct
 * survivors name (protocol/matching.ts checkMatch); a forged, altered or different entry is
 * listed as refused, and entries of two handles that name one case count as one survivor, with
 * a warning. Handles are the server's word too, so a match is confirmed only once the matched
 * cases' testimonies verify against two different survivor keys (caseSurvivorKey,
 * checkSurvivorKeys): a counselor who is also a moderator has them checked here as the panel
 * loads; one who is not sees the match as not confirmed yet. Such a counselor then reads each
 * case here, checked to be the case of the survivor who named it.
 */
import nacl from 'tweetnacl';
import { caseSurvivorKey, checkMatch, checkSurvivorKeys, type MatchCheck, type SurvivorKeyCheck } from '../../protocol/matching';
import type { StaffCaseDetail, StaffMatch } from '../../protocol/api';
import { api } from './api';
import { openThread } from './case-thread';
import { byId, el, errorMessage, listen, say, show } from './dom';
import type { StaffSession } from './staff';
import { renderTestimony } from './testimony';
import { currentTrustedHistory } from './trust';

let session: StaffSession;
/**
 * For this listing, by case and the handle that listed its entry: the case's survivor key once
 * its testimony verified against it, or why it could not be checked. A newer listing (Check
 * again) checks again: the server may list a case under another handle since.
 */
let caseChecks = new Map<string, { key: string } | { problem: string }>();
/** the listing shown: a newer one (Check again) drops what an older one was still checking */
let listing = 0;

const checkOf = (caseId: string, handle: string) => caseChecks.get(`${caseId} ${handle}`);
const box = () => nacl.box.keyPair.fromSecretKey(session.keys.boxSecretKey);
const status = () => byId('matching-status');
const canReadCases = () => session.me.roles.includes('moderator');

export function bindMatchingPanel(): void {
  listen(byId('matching-reload'), 'click', () => loadMatches().catch((e) => say(status(), errorMessage(e), 'error')));
}

export async function initMatchingPanel(current: StaffSession): Promise<void> {
  session = current;
  show(byId('matching-panel'));
  await loadMatches();
}

interface Shown {
  match: StaffMatch;
  check: MatchCheck;
  item: HTMLElement;
}

async function loadMatches(): Promise<void> {
  const mine = ++listing;
  const { matches } = await api<{ matches: StaffMatch[] }>('GET', '/api/staff/matches');
  if (mine !== listing) return;
  const list = byId('matching-list');
  list.replaceChildren();
  byId('matching-cases').replaceChildren();
  caseChecks = new Map();
  const reader = box();
  const shown: Shown[] = matches.map((match) => ({
    match,
    check: checkMatch(match.tag, match.keyVersion, match.entries, reader),
    item: el('article'),
  }));
  for (const s of shown) {
    renderMatch(s);
    list.append(s.item);
  }
  if (matches.length === 0) list.append(el('p', { text: 'No two survivors have named the same person.' }));
  const toCheck = shown.filter((s) => checkSurvivorKeys(s.check, s.match.entries, keysOf(s)).unchecked.length > 0);
  if (canReadCases() && toCheck.length > 0) {
    say(status(), `Checking the survivors' cases of ${toCheck.length} reported ${toCheck.length === 1 ? 'match' : 'matches'}…`);
    for (const s of toCheck) {
      await checkCasesOf(s);
      if (mine !== listing) return;
      renderMatch(s);
    }
  }
  const states = shown.map((s) => checkSurvivorKeys(s.check, s.match.entries, keysOf(s)).state);
  const confirmed = states.filter((state) => state === 'confirmed').length;
  const waiting = states.filter((state) => state === 'unchecked').length;
  say(
    status(),
    `${confirmed} confirmed ${confirmed === 1 ? 'match' : 'matches'}.` +
      (waiting > 0 ? ` ${waiting} not confirmed yet: their survivors' cases are not all checked.` : ''),
  );
}

/** Checks the survivor key of each case that the match's entries name, one case at a time. */
async function checkCasesOf({ match, check }: Shown): Promise<void> {
  const checks = caseChecks; // this listing's, even if Check again starts another meanwhile
  for (const c of check.confirmed) {
    const { caseId } = c.body;
    const handle = match.entries[c.index].handle;
    if (checks.has(`${caseId} ${handle}`)) continue;
    let result: { key: string } | { problem: string };
    try {
      const detail = await api<StaffCaseDetail>('GET', `/api/staff/cases/${caseId}`);
      result = { key: await caseSurvivorKey({ caseId, handle }, detail) };
    } catch (e) {
      result = { problem: errorMessage(e) };
    }
    checks.set(`${caseId} ${handle}`, result);
  }
}

/** The survivor key of each case the match's entries name, where it was checked as the case of the handle that listed it. */
function keysOf({ match, check }: Shown): Map<string, string> {
  const keys = new Map<string, string>();
  for (const c of check.confirmed) {
    const checked = checkOf(c.body.caseId, match.entries[c.index].handle);
    if (checked && 'key' in checked) keys.set(c.body.caseId, checked.key);
  }
  return keys;
}

/** The match as this browser judges it now: the entries, then who stands behind them. */
function renderMatch(shown: Shown): void {
  const { match, check, item } = shown;
  const survivors = checkSurvivorKeys(check, match.entries, keysOf(shown));
  item.replaceChildren();
  item.className = 'match';
  item.setAttribute('data-confirmed', String(survivors.state === 'confirmed'));
  item.setAttribute('data-survivors', survivors.state);
  item.setAttribute('data-forged', String(check.forged));
  item.append(...headingOf(check, survivors, new Set(check.confirmed.map((c) => match.entries[c.index].handle)).size));
  if (check.forged)
    item.append(
      el('p', {
        className: 'hint',
        attrs: { role: 'alert' },
        text: 'Two handles list entries that name the same case: the server listed one entry twice, or one person used two accounts. They count as one survivor here. Tell the administrator.',
      }),
    );
  for (const handles of survivors.sameKey)
    item.append(
      el('p', {
        className: 'hint',
        attrs: { role: 'alert', 'data-same-key': handles.join(' ') },
        text: `The cases listed under ${handles.join(' and ')} are signed by one survivor key: they are cases of one survivor, listed under ${handles.length} handles, and count as one survivor here. A survivor account has one handle, so the server listed them wrongly. Tell the administrator.`,
      }),
    );
  const rows = el('ul');
  const unchecked = new Set(survivors.unchecked);
  for (const c of check.confirmed) {
    const entry = match.entries[c.index];
    const read = el('button', { className: 'secondary', text: `Read the case of ${entry.handle}`, attrs: { type: 'button' } });
    listen(read, 'click', () => readCase(c.body.caseId, entry.handle).catch((e) => say(status(), errorMessage(e), 'error')));
    const checked = checkOf(c.body.caseId, entry.handle);
    const problem = checked && 'problem' in checked ? checked.problem : undefined;
    const note = !unchecked.has(c.index)
      ? ''
      : problem !== undefined
        ? ` (its case could not be checked: ${problem})`
        : canReadCases()
          ? ' (its case is not checked yet)'
          : ' (its case is not checked: that needs the moderator role)';
    rows.append(
      el('li', { className: unchecked.has(c.index) ? 'match-entry match-unchecked' : 'match-entry' }, [
        `${entry.handle}, named on ${entry.createdDay}${note} `,
        ...(canReadCases() ? [read] : []),
      ]),
    );
  }
  for (const r of check.refused) {
    const entry = match.entries[r.index];
    rows.append(
      el('li', {
        className: 'match-refused',
        attrs: { role: 'alert' },
        text: `Refused: the entry of ${entry.handle} (${entry.createdDay}): ${r.reason}`,
      }),
    );
  }
  for (const index of check.undecided) {
    const entry = match.entries[index];
    rows.append(
      el('li', {
        className: 'match-waiting',
        text: `${entry.handle}, named on ${entry.createdDay}: opened here; whether it matches waits for the entries below.`,
      }),
    );
  }
  for (const index of check.notForMe) {
    const entry = match.entries[index];
    rows.append(
      el('li', {
        className: 'match-waiting',
        text: `Not sealed to you yet: the entry of ${entry.handle} (${entry.createdDay}) was sealed before you were a matching counselor; it opens here once that survivor visits again.`,
      }),
    );
  }
  item.append(rows);
}

function headingOf(check: MatchCheck, survivors: SurvivorKeyCheck, handles: number): HTMLElement[] {
  if (!check.isMatch)
    return [
      el('h3', {
        text:
          check.notForMe.length > 0
            ? 'A reported match that this browser cannot open yet'
            : 'A reported match that this browser could not confirm',
      }),
    ];
  const id = check.confirmed[0].body.identifier;
  if (survivors.state === 'confirmed')
    return [
      el('h3', { text: `Match: ${id.type} ${id.value}` }),
      el('p', {
        className: 'hint',
        text:
          `${survivors.survivors} survivors named this ${id.type}. This browser opened their sealed entries, checked that they name the same one, and checked that their cases are signed by ${survivors.survivors} different survivor keys.` +
          (survivors.unchecked.length > 0 ? ' Some cases below are not checked: see why beside each.' : ''),
      }),
    ];
  if (survivors.state === 'one-survivor')
    return [
      el('h3', { text: `Not a match: one survivor named ${id.type} ${id.value}` }),
      el('p', {
        className: 'hint',
        text: `The entries name the same ${id.type}, but every case they name is signed by the same survivor key: these are the cases of one survivor, listed under ${handles} handles, not ${handles} survivors.`,
      }),
    ];
  return [
    el('h3', { text: `Not confirmed yet: ${id.type} ${id.value}` }),
    el('p', {
      className: 'hint',
      text: `Entries listed under ${handles} handles name this ${id.type}. Whether they are different survivors shows only in the keys that signed their cases${
        canReadCases()
          ? ', and some cases are not checked: see why beside each.'
          : ': checking them needs the moderator role. Ask a colleague who is a moderator and matching counselor to look.'
      }`,
    }),
  ];
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
