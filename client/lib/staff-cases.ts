/**
 * Moderator panel: the inbox (filters, order, pages by cursor), one case (testimony, thread, notes,
 * status, assignee) decrypted in this browser, replies and notes encrypted here, and
 * re-wrapping older cases for newer moderators.
 */
import nacl from 'tweetnacl';
import { fromBase64url, makeGrantAsync, STATUS_VALUES, type Keyset, type VerifiedHistory } from '../../protocol';
import type { CaseList, CaseStatus, CaseSummary, PendingGrants, StaffCaseDetail } from '../../protocol/api';
import { api } from './api';
import { byId, el, errorMessage, formText, onSubmit, say, show } from './dom';
import { openNotes, sealNote } from './case-notes';
import { newestFirst, openThread, sealMessage, type ThreadEntry } from './case-thread';
import type { StaffSession } from './staff';
import { renderAttachments, revokeAttachmentUrls } from './staff-attachments';
import { noteGrants, unfinishedGrants } from './grant-resume';
import { renderTestimony, STATUS_LABELS } from './testimony';
import { currentTrustedHistory } from './trust';

/** Statuses as staff read them: the survivor's "A reply is waiting for you" is addressed to the survivor. */
const STAFF_STATUS_LABELS: Record<string, string> = { ...STATUS_LABELS, waiting_for_survivor: 'Waiting for survivor' };
/** The status menus' names (protocol/values.ts STATUS_VALUES gives the statuses; each must have a name here). */
const STATUS_MENU_LABELS: Record<CaseStatus, string> = {
  new: 'New',
  in_review: 'In review',
  waiting_for_survivor: 'Waiting for survivor',
  closed: 'Closed',
};

let session: StaffSession;
/**
 * The cursor of every inbox page reached since the filters last changed (undefined for the
 * first): the last is the page shown, and Previous goes back one. The server pages by
 * cursor only forward, so going back re-asks a page this browser already reached.
 */
let pageCursors: (string | undefined)[] = [undefined];
let nextCursor: string | null = null;
let openCaseDetail: StaffCaseDetail | undefined;

function box(): nacl.BoxKeyPair {
  return nacl.box.keyPair.fromSecretKey(session.keys.boxSecretKey);
}
function signer(): nacl.SignKeyPair {
  return nacl.sign.keyPair.fromSecretKey(session.keys.signSecretKey);
}

/** The keyset chain, verified and checked against this browser's pinned instance fingerprint. */
export async function keyset(): Promise<{ keyset: Keyset; history: VerifiedHistory }> {
  const history = await currentTrustedHistory();
  return { keyset: history.current.keyset, history };
}

export async function initCasesPanel(current: StaffSession): Promise<void> {
  session = current;
  show(byId('inbox-panel'));
  await loadInbox();
  await showGrantTargets();
}

export function bindCasesPanel(): void {
  for (const menu of ['filter-status', 'case-status-select'])
    byId(menu).append(...STATUS_VALUES.map((s) => el('option', { text: STATUS_MENU_LABELS[s], attrs: { value: s } })));
  const status = () => byId('workspace-status');
  byId('prev-page').addEventListener('click', () => {
    if (pageCursors.length > 1) pageCursors.pop();
    loadInbox().catch((e) => say(status(), errorMessage(e), 'error'));
  });
  byId('next-page').addEventListener('click', () => {
    if (nextCursor === null) return;
    pageCursors.push(nextCursor);
    loadInbox().catch((e) => say(status(), errorMessage(e), 'error'));
  });
  onSubmit(byId<HTMLFormElement>('inbox-filter'), status(), () => {
    pageCursors = [undefined];
    return loadInbox();
  });
  byId('close-case').addEventListener('click', () => {
    openCaseDetail = undefined;
    revokeAttachmentUrls();
    show(byId('case-panel'), false);
    show(byId('inbox-panel'));
    loadInbox().catch((e) => say(status(), errorMessage(e), 'error'));
  });
  onSubmit(byId<HTMLFormElement>('reply-form'), byId('case-status'), sendReply);
  onSubmit(byId<HTMLFormElement>('note-form'), byId('case-status'), addNote);
  onSubmit(byId<HTMLFormElement>('case-workflow'), byId('case-status'), saveWorkflow);
}

/** The filters as the form holds them; the same for every page of one listing. */
function inboxQuery(cursor: string | undefined): string {
  const form = new FormData(byId<HTMLFormElement>('inbox-filter'));
  const params = new URLSearchParams();
  for (const key of ['status', 'assignee', 'from', 'to', 'sort']) {
    const value = formText(form, key);
    if (value) params.set(key, value);
  }
  if (cursor) params.set('cursor', cursor);
  return params.toString();
}

/** Shows the page of the last cursor in pageCursors. */
async function loadInbox(): Promise<void> {
  const list = await api<CaseList>('GET', `/api/staff/cases?${inboxQuery(pageCursors[pageCursors.length - 1])}`);
  nextCursor = list.nextCursor;
  const page = pageCursors.length;
  const first = (page - 1) * list.pageSize + 1;
  const total = list.totalCapped ? `more than ${list.total}` : String(list.total);
  byId('page-label').textContent = list.cases.length
    ? `Page ${page}: cases ${first}–${first + list.cases.length - 1} of ${total}`
    : `Page ${page} (${total} cases)`;
  byId<HTMLButtonElement>('prev-page').disabled = page <= 1;
  byId<HTMLButtonElement>('next-page').disabled = nextCursor === null;
  byId('cases').replaceChildren(...list.cases.map(caseRow));
  if (list.cases.length === 0) byId('cases').append(el('tr', {}, [el('td', { text: 'No cases match.', attrs: { colspan: '5' } })]));
}

function caseRow(c: CaseSummary): HTMLTableRowElement {
  const open = el('button', {
    text: 'Open',
    className: 'secondary',
    attrs: { type: 'button', 'aria-label': `Open case of ${c.handle} from ${c.createdDay}` },
  });
  open.addEventListener('click', () => {
    openCase(c.caseId).catch((e) => say(byId('workspace-status'), errorMessage(e), 'error'));
  });
  const statusCell = el('td', { text: STAFF_STATUS_LABELS[c.status] ?? c.status });
  if (c.awaitingStaff && c.status !== 'new') statusCell.append(' ', el('strong', { className: 'badge', text: 'new reply' }));
  return el('tr', {}, [
    el('td', { text: c.handle }),
    el('td', { text: c.createdDay }),
    statusCell,
    el('td', { text: c.assignee?.username ?? '—' }),
    el('td', {}, [open]),
  ]);
}

function renderEntry(entry: ThreadEntry, handle: string): HTMLElement {
  if (entry.kind === 'testimony') return el('li', {}, [el('p', { className: 'hint', text: `Testimony, ${entry.day}` })]);
  const who = entry.kind === 'note' || entry.fromStaff ? entry.author : handle;
  return el('li', { className: entry.kind === 'message' && entry.fromStaff ? 'from-staff' : 'from-survivor' }, [
    el('p', { className: 'hint', text: `${who}, ${entry.day}` }),
    el('p', { className: 'text', text: entry.text, attrs: { dir: 'auto' } }),
    ...(entry.kind === 'message' && openCaseDetail ? renderAttachments(openCaseDetail.caseId, entry.attachments) : []),
  ]);
}

async function openCase(caseId: string): Promise<void> {
  const [detail, ks] = await Promise.all([api<StaffCaseDetail>('GET', `/api/staff/cases/${caseId}`), keyset()]);
  openCaseDetail = detail;
  revokeAttachmentUrls();
  const body = byId('case-body');
  const thread = byId('case-thread');
  const notes = byId('case-notes');
  body.replaceChildren();
  thread.replaceChildren();
  notes.replaceChildren();
  say(byId('case-status'), '');
  try {
    const entries = await openThread(
      detail.caseId,
      detail.thread,
      { box: box() },
      { survivorSignPk: detail.survivorSignPk, history: ks.history },
    );
    const testimony = entries[0];
    if (testimony.kind === 'testimony')
      body.append(
        renderTestimony(testimony.testimony, {
          day: detail.createdDay,
          status: detail.status,
          handle: detail.handle,
          statusLabel: STAFF_STATUS_LABELS[detail.status],
        }),
        ...renderAttachments(detail.caseId, testimony.testimony.attachments ?? []),
      );
    thread.append(...entries.slice(1).map((e) => renderEntry(e, detail.handle)));
    if (entries.length === 1) thread.append(el('li', { className: 'hint', text: 'No messages yet.' }));
  } catch (e) {
    body.append(el('p', { attrs: { role: 'alert' }, text: `This case could not be opened safely: ${errorMessage(e)}` }));
  }
  try {
    notes.append(...(await openNotes(detail.notes, { box: box() }, ks.history)).map((e) => renderEntry(e, detail.handle)));
  } catch (e) {
    notes.append(el('li', { attrs: { role: 'alert' }, text: `The notes could not be opened: ${errorMessage(e)}` }));
  }
  byId<HTMLSelectElement>('case-status-select').value = detail.status;
  const assignee = byId<HTMLSelectElement>('case-assignee-select');
  const moderators = ks.keyset.members.filter((m) => m.roles.includes('moderator'));
  assignee.replaceChildren(
    el('option', { text: 'Nobody', attrs: { value: '' } }),
    ...moderators.map((m) => el('option', { text: m.username, attrs: { value: m.staffId } })),
  );
  assignee.value = detail.assignee?.id ?? '';
  byId('case-heading').textContent = `Case of ${detail.handle}`;
  show(byId('inbox-panel'), false);
  show(byId('case-panel'));
  byId('case-heading').focus();
}

async function sendReply(): Promise<void> {
  const detail = openCaseDetail!;
  const text = byId<HTMLTextAreaElement>('reply-text').value.trim();
  if (!text) throw new Error('Write a reply first.');
  const ks = await keyset();
  const envelope = await sealMessage({
    caseId: detail.caseId,
    thread: detail.thread,
    text,
    survivorBoxPk: detail.survivorBoxPk,
    keyset: ks.keyset,
    signer: signer(),
  });
  await api('POST', `/api/staff/cases/${detail.caseId}/messages`, { envelope, keysetVersion: ks.keyset.version });
  byId<HTMLTextAreaElement>('reply-text').value = '';
  await openCase(detail.caseId);
  say(byId('case-status'), 'Reply sent.');
}

async function addNote(): Promise<void> {
  const detail = openCaseDetail!;
  const text = byId<HTMLTextAreaElement>('note-text').value.trim();
  if (!text) throw new Error('Write the note first.');
  const ks = await keyset();
  const envelope = await sealNote({ caseId: detail.caseId, text, keyset: ks.keyset, signer: signer() });
  await api('POST', `/api/staff/cases/${detail.caseId}/notes`, { envelope, keysetVersion: ks.keyset.version });
  byId<HTMLTextAreaElement>('note-text').value = '';
  await openCase(detail.caseId);
  say(byId('case-status'), 'Note added.');
}

async function saveWorkflow(): Promise<void> {
  const detail = openCaseDetail!;
  const status = byId<HTMLSelectElement>('case-status-select').value;
  const assignee = byId<HTMLSelectElement>('case-assignee-select').value;
  if (status !== detail.status) await api('POST', `/api/staff/cases/${detail.caseId}/status`, { status });
  if (assignee !== (detail.assignee?.id ?? ''))
    await api('POST', `/api/staff/cases/${detail.caseId}/assignee`, { staffId: assignee || null });
  await openCase(detail.caseId);
  say(byId('case-status'), 'Saved.');
}

/** One button per other moderator: re-wrap every envelope they cannot read yet. */
async function showGrantTargets(): Promise<void> {
  const { keyset: ks } = await keyset();
  // Advocates get only what they may read: testimonies opened to advocates, and drafts (the server scopes it).
  const others = ks.members.filter((m) => (m.roles.includes('moderator') || m.roles.includes('advocate')) && m.staffId !== session.me.id);
  const targets = byId('grant-targets');
  targets.replaceChildren(
    ...others.map((m) => {
      const what = m.roles.includes('moderator') ? 'older cases' : 'publishing cases';
      const button = el('button', { text: `Share ${what} with ${m.username}`, className: 'secondary', attrs: { type: 'button' } });
      button.addEventListener('click', () => {
        button.disabled = true;
        grantAll(m.staffId, m.boxPk)
          .catch((e) => say(byId('grant-status'), errorMessage(e), 'error'))
          .finally(() => (button.disabled = false));
      });
      // Sharing left unfinished (the page closed) resumes by itself.
      if (unfinishedGrants(session.me.id).includes(m.staffId)) queueMicrotask(() => button.click());
      return button;
    }),
  );
  show(byId('grants-panel'), others.length > 0);
}

async function grantAll(staffId: string, boxPk: string): Promise<void> {
  const progress = byId<HTMLProgressElement>('grant-progress');
  const status = byId('grant-status');
  const me = { box: box(), trustedGranters: [...(await keyset()).history.signers.keys()].map(fromBase64url) };
  const recipient = fromBase64url(boxPk);
  let after = 0;
  let done = 0;
  let skipped = 0;
  let total: number | undefined;
  show(progress);
  noteGrants(session.me.id, staffId, true);
  for (;;) {
    const pending = await api<PendingGrants>('GET', `/api/staff/grants/pending?staffId=${staffId}&after=${after}`);
    total ??= pending.total ?? 0;
    progress.max = Math.max(1, total);
    if (pending.items.length === 0) break;
    // A slice at a time (newestFirst), so no task holds the page.
    const made = await newestFirst(pending.items.length, (k) =>
      makeGrantAsync(pending.items[k].envelope, { ...me, grants: pending.items[k].grants, recipient, granter: signer() }).then(
        (grant) => ({ envelopeId: pending.items[k].id, grant }),
        () => undefined, // an envelope this browser cannot open either
      ),
    );
    const grants = made.filter((g) => g !== undefined);
    skipped += made.length - grants.length;
    if (grants.length) await api('POST', '/api/staff/grants', { staffId, grants });
    done += grants.length;
    after = pending.items[pending.items.length - 1].id;
    progress.value = done + skipped;
    say(status, `Shared ${done} of ${total}…`);
  }
  progress.value = progress.max;
  noteGrants(session.me.id, staffId, false);
  say(
    status,
    skipped ? `Done: shared ${done}; ${skipped} you cannot open yourself were left for another moderator.` : `Done: shared ${done}.`,
  );
}
