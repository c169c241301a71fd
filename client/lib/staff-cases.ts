/**
 * Moderator panel: the inbox (filters, order, pages by cursor, unread marks), one case
 * (testimony, thread, notes, status, assignee) decrypted in this browser and marked read for
 * this moderator, replies and notes encrypted here, printing a case, refreshing without a
 * reload (refreshCases), and re-wrapping older cases for newer moderators. Which case is open
 * follows the address (#/cases/<caseId>, client/staff.ts).
 */
import nacl from 'tweetnacl';
import { fromBase64url, rewrapKeyAsync, signGrantBatchAsync, STATUS_VALUES, type Keyset, type VerifiedHistory } from '../../protocol';
import type { CaseList, CaseStatus, CaseSummary, PendingGrants, StaffCaseDetail, UnreadCount } from '../../protocol/api';
import { api, ApiFailure } from './api';
import { byId, el, errorMessage, formText, onSubmit, say, show } from './dom';
import { openNotes, sealNote } from './case-notes';
import { newestFirst, openThread, sealMessage, type ThreadEntry } from './case-thread';
import type { StaffSession } from './staff';
import { renderAttachments, revokeAttachmentUrls } from './staff-attachments';
import { noteGrants, unfinishedGrants } from './grant-resume';
import { addressOf, setViewCount } from './staff-views';
import { renderTestimony } from './testimony';
import { currentTrustedHistory } from './trust';

/**
 * The staff words for case statuses, the one set every staff page uses (inbox, case summary,
 * filters and menus). The survivor's words (i18n status.*, "A reply is waiting for you") speak
 * to the survivor. protocol/values.ts STATUS_VALUES gives the statuses; each must have a name here.
 */
export const STAFF_STATUS_LABELS: Record<CaseStatus, string> = {
  new: 'New',
  in_review: 'In review',
  waiting_for_survivor: 'Waiting for survivor',
  closed: 'Closed',
};
const statusLabel = (status: string) => STAFF_STATUS_LABELS[status as CaseStatus] ?? status;

let session: StaffSession;
/**
 * The cursor of every inbox page reached since the filters last changed (undefined for the
 * first): the last is the page shown, and Previous goes back one. The server pages by
 * cursor only forward, so going back re-asks a page this browser already reached.
 */
let pageCursors: (string | undefined)[] = [undefined];
let nextCursor: string | null = null;
let openCaseDetail: StaffCaseDetail | undefined;
/** What the inbox last showed, to redraw it only when something changed (a redraw loses focus). */
let shownInbox = '';

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
  await refreshUnread();
  await showGrantTargets();
}

/** The open case's id, if any. */
export function openCaseId(): string | undefined {
  return openCaseDetail?.caseId;
}

/** The navigation's count of cases unread by this moderator. */
async function refreshUnread(): Promise<void> {
  const count = await api<UnreadCount>('GET', '/api/staff/inbox/unread');
  setViewCount('cases', count.unread, count.capped, count.unread === 1 ? 'unread case' : 'unread cases');
}

/**
 * What a live update does: the unread count, the inbox page as it is now, and the open case's
 * thread and notes if someone wrote (the reply being typed stays as it is).
 */
export async function refreshCases(): Promise<void> {
  await refreshUnread();
  await loadInbox();
  const open = openCaseDetail;
  if (!open) return;
  const now = await api<StaffCaseDetail>('GET', `/api/staff/cases/${open.caseId}`);
  if (openCaseDetail?.caseId !== open.caseId) return;
  const changed = now.thread.length !== open.thread.length || now.notes.length !== open.notes.length || now.status !== open.status;
  if (changed) await showCase(open.caseId, { detail: now, focus: false });
}

export function bindCasesPanel(): void {
  for (const menu of ['filter-status', 'case-status-select', 'reply-status'])
    byId(menu).append(...STATUS_VALUES.map((s) => el('option', { text: STAFF_STATUS_LABELS[s], attrs: { value: s } })));
  // The status a reply leaves follows the one the moderator picks for the case.
  byId<HTMLSelectElement>('case-status-select').addEventListener('change', (e) => {
    byId<HTMLSelectElement>('reply-status').value = (e.currentTarget as HTMLSelectElement).value;
  });
  byId('print-case').addEventListener('click', () => {
    byId('case-printed').textContent = `Printed from Awaaz on ${new Date().toLocaleString()}. Confidential.`;
    window.print();
  });
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
    // Forget the decrypted case at once, not when the address change is handled a task later.
    closeCase();
    location.hash = addressOf({ view: 'cases' });
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
  const shown = JSON.stringify([list.cases, openCaseDetail?.caseId]);
  if (shown === shownInbox) return;
  shownInbox = shown;
  byId('cases').replaceChildren(...list.cases.map(caseRow));
  if (list.cases.length === 0) byId('cases').append(el('tr', {}, [el('td', { text: 'No cases match.', attrs: { colspan: '5' } })]));
}

/** Closes the open case (the address went back to #/cases). */
export function closeCase(): void {
  if (!openCaseDetail) return;
  openCaseDetail = undefined;
  opening++;
  clearThreadView();
  // Focus inside the closing case would fall to the page's start: bring it to the inbox instead.
  const hadFocus = byId('case-panel').contains(document.activeElement);
  show(byId('case-panel'), false);
  if (hadFocus) byId('inbox-heading').focus();
  byId('view-cases').classList.remove('has-open');
  loadInbox().catch((e) => say(byId('workspace-status'), errorMessage(e), 'error'));
}

function caseRow(c: CaseSummary): HTMLTableRowElement {
  const open = el('button', {
    text: 'Open',
    className: 'secondary',
    attrs: { type: 'button', 'aria-label': `Open case of ${c.handle} from ${c.createdDay}` },
  });
  open.addEventListener('click', () => {
    location.hash = addressOf({ view: 'cases', caseId: c.caseId });
  });
  const statusCell = el('td', { text: statusLabel(c.status) });
  if (c.unread) statusCell.append(' ', el('strong', { className: 'badge', text: c.status === 'new' ? 'unread' : 'new answer' }));
  const isOpen = c.caseId === openCaseDetail?.caseId;
  return el(
    'tr',
    { className: [c.unread ? 'unread' : '', isOpen ? 'open' : ''].join(' ').trim(), attrs: isOpen ? { 'aria-current': 'true' } : {} },
    [
      el('td', { text: c.handle }),
      el('td', { text: c.createdDay }),
      statusCell,
      el('td', { text: c.assignee?.username ?? '—' }),
      el('td', {}, [open]),
    ],
  );
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

/** Thrown into an opening that another showCase or closeCase replaced, to stop its work. */
class Replaced extends Error {}
/** Bumped by every showCase and closeCase: an opening that is no longer the latest draws nothing. */
let opening = 0;
/** Whether the open case's whole thread was checked (a reply waits for it, and is refused if it failed). */
let threadChecked: Promise<boolean> = Promise.resolve(false);
/**
 * Whether the case view shows newest slices whose older entries are still being checked. An
 * opening that is replaced stops checking, so whoever replaces it takes them down first:
 * nothing stays on screen whose check will not finish.
 */
let shownUnchecked = false;

/** Takes down the case's testimony, thread and attachments, and the checking note. */
function clearThreadView(): void {
  revokeAttachmentUrls();
  byId('case-body').replaceChildren();
  byId('case-thread').replaceChildren();
  byId('case-thread').removeAttribute('aria-busy');
  say(byId('thread-progress'), '');
  shownUnchecked = false;
}

/** The nearest ancestor that scrolls (the case panel beside the inbox), else the page. */
function scrollerOf(node: HTMLElement): Element {
  for (let e = node.parentElement; e; e = e.parentElement) {
    const overflow = getComputedStyle(e).overflowY;
    if ((overflow === 'auto' || overflow === 'scroll') && e.scrollHeight > e.clientHeight) return e;
  }
  return document.scrollingElement ?? document.documentElement;
}

/**
 * Runs `change` (which adds content before `anchor`) so that what the reader looks at stays
 * put: if `anchor` is above the visible part of its scroller, the scroller follows it. The
 * browser's own scroll anchoring is off in the case panel (client/staff.css): it does nothing
 * at the top of a scroller nor in Safari, and would add its shift to this one.
 */
function keepingView(anchor: Element | null, change: () => void): void {
  const top = anchor?.getBoundingClientRect().top;
  change();
  if (!anchor || top === undefined) return;
  const scroller = scrollerOf(anchor as HTMLElement);
  const viewTop = scroller === document.scrollingElement ? 0 : scroller.getBoundingClientRect().top;
  if (top < viewTop) scroller.scrollTop += anchor.getBoundingClientRect().top - top;
}

/**
 * Shows the case beside the inbox (in its place on a narrow screen), decrypted here, and marks
 * it read up to its newest message for this moderator. `detail` when the caller has it already.
 *
 * A case opened anew shows its newest messages as soon as they are checked and adds the older
 * ones above them as they are, under a note "Checking older messages… (N of M)"; the
 * testimony, the oldest entry, comes last. If any check fails, everything shown is replaced
 * by the error (what "checked" means for a newest slice: openThread, client/README.md). The
 * same case shown again (a reply, a note, a live update) keeps what it shows until the new
 * thread is wholly checked, then redraws at once, so the view does not jump.
 */
export async function showCase(caseId: string, opts: { detail?: StaffCaseDetail; focus?: boolean } = {}): Promise<void> {
  const mine = ++opening;
  if (shownUnchecked) clearThreadView();
  else {
    // An opening replaced before it drew anything (still checking the testimony and the
    // links) leaves no slice, but its busy state must not outlive it.
    byId('case-thread').removeAttribute('aria-busy');
    say(byId('thread-progress'), '');
  }
  const [detail, ks] = await Promise.all([opts.detail ?? api<StaffCaseDetail>('GET', `/api/staff/cases/${caseId}`), keyset()]);
  if (mine !== opening) return;
  const reopened = openCaseDetail?.caseId === detail.caseId;
  openCaseDetail = detail;
  const body = byId('case-body');
  const thread = byId('case-thread');
  const notes = byId('case-notes');
  const progress = byId('thread-progress');
  say(byId('case-status'), '');
  if (!reopened) {
    revokeAttachmentUrls();
    body.replaceChildren();
    thread.replaceChildren();
    notes.replaceChildren();
  }
  showCaseControls(detail, ks.keyset, reopened, opts.focus !== false);

  const drawTestimony = (entry: ThreadEntry) => {
    if (entry.kind !== 'testimony') return;
    body.replaceChildren(
      renderTestimony(entry.testimony, {
        day: detail.createdDay,
        status: detail.status,
        handle: detail.handle,
        statusLabel: statusLabel(detail.status),
      }),
      ...renderAttachments(detail.caseId, entry.testimony.attachments ?? []),
    );
  };
  const total = detail.thread.length;
  const onShown = (entries: ThreadEntry[], from: number) => {
    if (mine !== opening) throw new Replaced();
    keepingView(thread.firstElementChild, () => {
      thread.prepend(...entries.filter((e) => e.kind !== 'testimony').map((e) => renderEntry(e, detail.handle)));
      if (from === 0) drawTestimony(entries[0]);
      say(progress, from > 0 ? `Checking older messages… (${total - from} of ${total})` : '');
    });
    shownUnchecked = from > 0;
  };
  let checked: (ok: boolean) => void = () => undefined;
  let checkedWhole = false;
  threadChecked = new Promise((resolve) => (checked = resolve));
  thread.setAttribute('aria-busy', 'true');
  try {
    const entries = await openThread(
      detail.caseId,
      detail.thread,
      { box: box() },
      { survivorSignPk: detail.survivorSignPk, history: ks.history },
      reopened ? undefined : onShown,
    );
    if (mine !== opening) return checked(false);
    if (reopened) {
      revokeAttachmentUrls();
      drawTestimony(entries[0]);
      thread.replaceChildren(...entries.slice(1).map((e) => renderEntry(e, detail.handle)));
    }
    if (entries.length === 1) thread.append(el('li', { className: 'hint', text: 'No messages yet.' }));
    checkedWhole = true;
    checked(true);
  } catch (e) {
    checked(false);
    if (mine !== opening) return;
    // Nothing of a thread that failed a check stays on screen, not even what was checked before.
    clearThreadView();
    body.replaceChildren(el('p', { attrs: { role: 'alert' }, text: `This case could not be opened safely: ${errorMessage(e)}` }));
  } finally {
    if (mine === opening) {
      thread.removeAttribute('aria-busy');
      say(progress, '');
    }
  }
  let shownNotes: HTMLElement[];
  try {
    shownNotes = (await openNotes(detail.notes, { box: box() }, ks.history)).map((e) => renderEntry(e, detail.handle));
  } catch (e) {
    shownNotes = [el('li', { attrs: { role: 'alert' }, text: `The notes could not be opened: ${errorMessage(e)}` })];
  }
  if (mine !== opening) return;
  notes.replaceChildren(...shownNotes);
  // Read up to the newest message only if the thread passed its check.
  const head = detail.thread[detail.thread.length - 1]?.seq;
  if (checkedWhole && typeof head === 'number') {
    await api('POST', `/api/staff/cases/${detail.caseId}/read`, { seq: head });
  }
  await loadInbox();
  await refreshUnread();
}

/** The case's heading, status and assignee menus, shown (and focused) before its thread is opened. */
function showCaseControls(detail: StaffCaseDetail, ks: Keyset, reopened: boolean, focus: boolean): void {
  byId<HTMLSelectElement>('case-status-select').value = detail.status;
  // A reply keeps the status chosen for the case; a new case's first reply suggests waiting for the survivor.
  if (!reopened) byId<HTMLSelectElement>('reply-status').value = detail.status === 'new' ? 'waiting_for_survivor' : detail.status;
  const assignee = byId<HTMLSelectElement>('case-assignee-select');
  const moderators = ks.members.filter((m) => m.roles.includes('moderator'));
  assignee.replaceChildren(
    el('option', { text: 'Nobody', attrs: { value: '' } }),
    ...moderators.map((m) => el('option', { text: m.username, attrs: { value: m.staffId } })),
  );
  assignee.value = detail.assignee?.id ?? '';
  byId('case-heading').textContent = `Case of ${detail.handle}`;
  byId('view-cases').classList.add('has-open');
  show(byId('case-panel'));
  if (focus) byId('case-heading').focus();
}

async function sendReply(): Promise<void> {
  const detail = openCaseDetail!;
  const text = byId<HTMLTextAreaElement>('reply-text').value.trim();
  if (!text) throw new Error('Write a reply first.');
  // A reply names the newest message as the one it follows: only once the whole thread is checked.
  if (!(await threadChecked) || openCaseDetail !== detail) throw new Error('This conversation could not be checked: no reply was sent.');
  const ks = await keyset();
  const envelope = await sealMessage({
    caseId: detail.caseId,
    thread: detail.thread,
    text,
    survivorBoxPk: detail.survivorBoxPk,
    keyset: ks.keyset,
    signer: signer(),
  });
  const status = byId<HTMLSelectElement>('reply-status').value;
  await api('POST', `/api/staff/cases/${detail.caseId}/messages`, { envelope, keysetVersion: ks.keyset.version, status });
  byId<HTMLTextAreaElement>('reply-text').value = '';
  await showCase(detail.caseId);
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
  await showCase(detail.caseId);
  say(byId('case-status'), 'Note added.');
}

async function saveWorkflow(): Promise<void> {
  const detail = openCaseDetail!;
  const status = byId<HTMLSelectElement>('case-status-select').value;
  const assignee = byId<HTMLSelectElement>('case-assignee-select').value;
  if (status !== detail.status) await api('POST', `/api/staff/cases/${detail.caseId}/status`, { status });
  if (assignee !== (detail.assignee?.id ?? ''))
    await api('POST', `/api/staff/cases/${detail.caseId}/assignee`, { staffId: assignee || null });
  await showCase(detail.caseId);
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
          .catch((e) => grantFailed(m, e))
          .finally(() => (button.disabled = false));
      });
      // Sharing left unfinished (the page closed) resumes by itself.
      if (unfinishedGrants(session.me.id).includes(m.staffId)) queueMicrotask(() => button.click());
      return button;
    }),
  );
  show(byId('grants-panel'), others.length > 0);
}

/**
 * A colleague removed while this browser shared with them (`not_a_reader` when the removal came
 * before a batch, `reader_removed` when it raced one): what was shared before the removal was
 * erased with their keys, nothing more can be, and sharing must not resume at the next sign-in. The buttons are drawn again from the keyset that no longer lists them.
 */
function grantFailed(target: { staffId: string; username: string }, e: unknown): void {
  if (!(e instanceof ApiFailure && (e.code === 'reader_removed' || e.code === 'not_a_reader'))) {
    say(byId('grant-status'), errorMessage(e), 'error');
    return;
  }
  noteGrants(session.me.id, target.staffId, false);
  show(byId('grant-progress'), false);
  say(
    byId('grant-status'),
    `${target.username} was removed from the team while you were sharing. Nothing more was shared with them.`,
    'error',
  );
  showGrantTargets().catch((err) => say(byId('grant-status'), errorMessage(err), 'error'));
}

/**
 * Pages through what the colleague cannot open (hashes and this member's own key entries, no
 * ciphertext), re-wraps each key a slice at a time, signs each page once as a v2 batch
 * (protocol/grant-batch.ts) and posts it: two requests per thousand envelopes.
 */
async function grantAll(staffId: string, boxPk: string): Promise<void> {
  const progress = byId<HTMLProgressElement>('grant-progress');
  const status = byId('grant-status');
  const me = {
    box: box(),
    recipient: fromBase64url(boxPk),
    trustedGranters: [...(await keyset()).history.signers.keys()].map(fromBase64url),
  };
  let after = 0;
  let done = 0;
  let skipped = 0;
  let total: number | undefined;
  // A second run starts from nothing: the last run's "Done" and full bar must not stand for this one.
  progress.removeAttribute('value');
  say(status, 'Looking for what to share…');
  show(progress);
  noteGrants(session.me.id, staffId, true);
  for (;;) {
    const pending = await api<PendingGrants>('GET', `/api/staff/grants/pending?staffId=${staffId}&after=${after}`);
    total ??= pending.total ?? 0;
    progress.max = Math.max(1, total);
    if (pending.items.length === 0) break;
    // A slice at a time (newestFirst), so no task holds the page.
    const made = await newestFirst(pending.items.length, (k) => {
      const item = pending.items[k];
      return rewrapKeyAsync({ envelopeHash: item.hash, key: item.key, grants: item.grants }, me).then(
        (leaf) => ({ envelopeId: item.id, leaf }),
        () => undefined, // an envelope this browser cannot open either
      );
    });
    const leaves = made.filter((m) => m !== undefined);
    skipped += made.length - leaves.length;
    if (leaves.length) {
      const { sig } = await signGrantBatchAsync(
        leaves.map((m) => m.leaf),
        signer(),
      );
      const grants = leaves.map((m) => ({ envelopeId: m.envelopeId, epk: m.leaf.epk, wrapped: m.leaf.wrapped }));
      await api('POST', '/api/staff/grants/batch', { staffId, sig, grants });
    }
    done += leaves.length;
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
