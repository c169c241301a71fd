/** Return page: the survivor types their codename; their testimonies are fetched and decrypted here. */
import {
  CODENAME_WORDS,
  codenameWords,
  DELETE_EVERYTHING_CONFIRMATION,
  isCodenameWord,
  toBase64url,
  type KeyPairs,
  type VerifiedHistory,
} from '../protocol/survivor';
import type { SurvivorCase, SurvivorSession } from '../protocol/api';
import { api, ApiFailure } from './lib/api';
import { attachmentLimits } from './lib/attachment-records';
import { byId, el, nextFrame, onSubmit, say, sayMessage, showStep } from './lib/dom';
import { dateText, LocalizedError, localize } from './lib/messages';
import { onQuickExit } from './lib/quick-exit';
import { deriveSurvivorKeys, login, renewSessions } from './lib/survivor';
import { slowKdf } from './lib/kdf';
import { attachedList, evidenceSlot } from './lib/evidence-slot';
import { instanceInfo, reportError } from './lib/survivor-page';
import { openThread, sealMessage, type ThreadEntry } from './lib/case-thread';
import { renderTestimony } from './lib/testimony';
import { currentTrustedHistory } from './lib/trust';
import { draftsOf } from './lib/drafts-loader';
import { sharingSection, type SurvivorContext } from './lib/survivor-publishing';
import { offerMatching } from './lib/matching-loader';

/** The survivor's keys, held in this page's memory to open and answer the conversation; quick exit zeroes them. */
let keys: KeyPairs | undefined;
let instanceId: string | undefined;
// An expired session is renewed with her keys, and the refused action sent again (lib/survivor.ts).
renewSessions(() => ({ keys, session: currentSession, instanceId }));

function forgetKeys(): void {
  keys?.sign.secretKey.fill(0);
  keys?.box.secretKey.fill(0);
  keys = undefined;
  currentSession = undefined;
}
onQuickExit(forgetKeys);

/** The same checks as normalizeCodename, worded for the survivor in their language (old BIP39 codenames pass too). */
function checkCodename(typed: string): void {
  const words = codenameWords(typed);
  if (words.length !== CODENAME_WORDS) throw new LocalizedError('codename.wordCount', { count: words.length });
  words.forEach((word, i) => {
    if (!isCodenameWord(word)) throw new LocalizedError('codename.badWord', { n: i + 1, word });
  });
}

document.addEventListener('DOMContentLoaded', () => {
  // Warn at once if this server's readers fail the check (replies would be refused anyway).
  instanceInfo()
    .then((info) => (info.setupComplete ? currentTrustedHistory(info, false) : undefined))
    .catch((e) => reportError(byId('trust-error'), e));
  const input = byId<HTMLInputElement>('codename');
  byId<HTMLInputElement>('reveal').addEventListener('change', (e) => {
    input.type = (e.currentTarget as HTMLInputElement).checked ? 'text' : 'password';
  });

  const deleteStatus = byId('delete-status');
  onSubmit(
    byId<HTMLFormElement>('delete-form'),
    deleteStatus,
    async () => {
      if (!byId<HTMLInputElement>('delete-confirm').checked) throw new LocalizedError('delete.needConfirm');
      if (!currentSession) throw new LocalizedError('api.sessionEnded');
      sayMessage(deleteStatus, 'delete.deleting');
      await api('POST', '/api/survivor/delete-everything', { confirm: DELETE_EVERYTHING_CONFIRMATION }, currentSession.token);
      currentSession = undefined;
      forgetKeys();
      byId('cases').replaceChildren();
      showStep('step-deleted');
    },
    reportError,
  );

  onSubmit(
    byId<HTMLFormElement>('login-form'),
    byId('login-status'),
    async () => {
      const status = byId('login-status');
      checkCodename(input.value);
      sayMessage(status, slowKdf() ? 'kdf.working' : 'return.opening');
      await nextFrame();
      const info = await instanceInfo();
      keys = await deriveSurvivorKeys(input.value, (instanceId = info.instanceId));
      input.value = '';
      try {
        await showTestimonies(await login(keys, info.instanceId));
      } catch (e) {
        forgetKeys();
        throw e;
      }
      say(status, '');
      showStep('step-list');
    },
    reportError,
  );
});

/** The keyset chain as the server serves it now, checked against this browser's pin (never a cached copy). */
function currentHistory(): Promise<VerifiedHistory> {
  return currentTrustedHistory();
}

/** The signed-in session, for "delete everything"; forgotten with the keys. */
let currentSession: SurvivorSession | undefined;

async function showTestimonies(session: SurvivorSession): Promise<void> {
  currentSession = session;
  const history = await currentHistory();
  const { cases } = await api<{ cases: SurvivorCase[] }>('GET', '/api/survivor/cases', undefined, session.token);

  byId('handle').textContent = session.handle;
  const list = byId('cases');
  // What she is typing survives the redraw (after a reply, or a message that arrived meanwhile).
  const typed = Array.from(list.querySelectorAll('textarea'), (t) => [t.id, t.value]);
  list.replaceChildren();
  if (cases.length === 0) {
    const none = el('p');
    localize(none, 'return.none');
    list.append(none);
  }
  // Opened together: the signatures are checked off the main thread (WebCrypto) where the browser can.
  list.append(...(await Promise.all(cases.map((c) => renderCase(c, session, history)))));
  for (const [id, value] of typed) {
    const area = document.getElementById(id) as HTMLTextAreaElement | null;
    if (area && value) area.value = value;
  }
  if (keys && cases.length > 0) offerMatching({ keys, token: session.token, cases, currentHistory });
}

/** One testimony and its conversation with the moderators, decrypted and checked here. */
async function renderCase(c: SurvivorCase, session: SurvivorSession, history: VerifiedHistory): Promise<HTMLElement> {
  const own = keys!;
  const wrapper = el('section', { className: 'case', attrs: { 'aria-label': dateText(c.createdDay) } });
  const open = (items: SurvivorCase['thread']) =>
    openThread(c.caseId, items, { box: own.box }, { survivorSignPk: toBase64url(own.sign.publicKey), history, unreadableAlone: true });
  const unsafe = (e: unknown, key: 'thread.unsafe' | 'thread.unreadable' = 'thread.unsafe') => {
    const failed = el('p', { attrs: { role: 'alert' } });
    localize(failed, key, { reason: e instanceof Error ? e.message : String(e) });
    return failed;
  };
  let entries: ThreadEntry[];
  let threadFailure: unknown;
  try {
    entries = await open(c.thread);
  } catch (e) {
    // A thread out of order, or an entry that fails its checks, is not shown. Her testimony
    // alone, if it is hers and intact, still is, with her choices about it (withdraw, sharing):
    // a message she cannot open (a staff client can seal anything) must not take them away.
    threadFailure = e;
    try {
      entries = await open(c.thread.slice(0, 1));
    } catch {
      wrapper.append(unsafe(e));
      return wrapper;
    }
  }
  const testimony = entries[0];
  if (testimony.kind === 'testimony') {
    wrapper.append(
      renderTestimony(testimony.testimony, { day: c.createdDay, status: c.status }),
      ...attachedList(testimony.testimony.attachments ?? []),
    );
    if (c.keptUntilDay) {
      const kept = el('p', { className: 'hint' });
      localize(kept, 'return.keptUntil', { date: dateText(c.keptUntilDay) });
      wrapper.append(kept);
    }
    const ctx: SurvivorContext = { keys: own, session, history, currentHistory, refresh: () => showTestimonies(session) };
    const drafts = await draftsOf(c, testimony.testimony, ctx);
    if (drafts) wrapper.append(drafts);
    wrapper.append(sharingSection(c, testimony.testimony, ctx));
  }

  const heading = el('h2');
  localize(heading, 'thread.heading');
  wrapper.append(heading);
  // No reply either: it would follow a message nobody could check.
  if (threadFailure) {
    wrapper.append(unsafe(threadFailure));
    return wrapper;
  }
  if (c.unread > 0) {
    const badge = el('p', { className: 'badge' });
    localize(badge, 'thread.unread', { count: c.unread });
    wrapper.append(badge);
  }
  const messages = entries.slice(1);
  const firstUnread = messages.filter((m) => m.kind === 'message' && m.fromStaff).length - c.unread;
  let staffSeen = 0;
  const thread = el('ol', { className: 'thread' });
  for (const m of messages) {
    if (m.kind !== 'message') continue;
    const who = el('p', { className: 'hint' });
    localize(who, m.fromStaff ? 'thread.fromTeam' : 'thread.fromYou', { day: m.day });
    const item = el('li', { className: m.fromStaff ? 'from-staff' : 'from-survivor' }, [
      who,
      // A message that opened but holds what no message should is not shown, on its line alone.
      m.unreadable === undefined
        ? el('p', { className: 'text', text: m.text, attrs: { dir: 'auto' } })
        : unsafe(m.unreadable, 'thread.unreadable'),
      ...attachedList(m.attachments),
    ]);
    if (m.fromStaff && staffSeen++ >= firstUnread) {
      const mark = el('strong', { className: 'badge' });
      localize(mark, 'thread.new');
      who.prepend(mark, ' ');
    }
    thread.append(item);
  }
  if (messages.length === 0) {
    const none = el('li', { className: 'hint' });
    localize(none, 'thread.empty');
    thread.append(none);
  }
  // The server counts a case's files together against the testimony limit.
  const used = entries
    .flatMap((e) => (e.kind === 'testimony' ? (e.testimony.attachments ?? []) : e.kind === 'message' ? e.attachments : []))
    .reduce((n, m) => n + m.size, 0);
  wrapper.append(thread, replyForm(c, session, used));

  // Replies shown are replies read: the unread mark is for the next visit only.
  const last = c.thread[c.thread.length - 1]?.seq ?? 0;
  if (c.unread > 0) api('POST', `/api/survivor/cases/${c.caseId}/seen`, { seq: last }, session.token).catch(() => undefined);
  return wrapper;
}

function replyForm(c: SurvivorCase, session: SurvivorSession, usedBytes: number): HTMLFormElement {
  const id = `reply-${c.caseId}`;
  const label = el('label', { attrs: { for: id } });
  localize(label, 'thread.replyLabel');
  const text = el('textarea', { attrs: { id, name: 'text', required: '', maxlength: '20000', dir: 'auto' } });
  const button = el('button', { attrs: { type: 'submit' } });
  localize(button, 'thread.send');
  const status = el('p', { attrs: { role: 'status' } });
  status.hidden = true;
  const evidence = evidenceSlot(`${id}-evidence`);
  evidence.setUsed(usedBytes);
  instanceInfo().then(
    (info) => evidence.setLimits(attachmentLimits(info)),
    () => undefined,
  );
  const form = el('form', { attrs: { autocomplete: 'off' } }, [label, text, evidence.element, status, button]);
  onSubmit(
    form,
    status,
    async () => {
      const own = keys;
      if (!own) throw new LocalizedError('api.sessionEnded');
      const message = text.value.trim();
      if (!message) throw new LocalizedError('thread.emptyText');
      evidence.check();
      sayMessage(status, 'thread.sending');
      await nextFrame();
      // Readers may have changed since the page opened: check the keyset as it is now.
      const current = (await currentHistory()).current.keyset;
      const files = await evidence.upload(session.token);
      const envelope = await sealMessage({
        caseId: c.caseId,
        thread: c.thread,
        text: message,
        attachments: files,
        survivorBoxPk: toBase64url(own.box.publicKey),
        keyset: current,
        signer: own.sign,
      });
      const attachments = files.length ? { attachments: files.map((f) => f.id) } : {};
      // the form's own status, once redrawn (not the evidence progress)
      const region = () =>
        (document.getElementById(id) as HTMLTextAreaElement | null)?.form?.querySelector<HTMLElement>(':scope > [role="status"]');
      try {
        await api(
          'POST',
          `/api/survivor/cases/${c.caseId}/messages`,
          { envelope, keysetVersion: current.version, ...attachments },
          session.token,
        );
      } catch (e) {
        if (!(e instanceof ApiFailure && e.code === 'thread_moved')) throw e;
        // A moderator wrote meanwhile: show it, her reply kept in its box, to be read and sent again.
        await showTestimonies(session);
        const moved = region();
        // Her files went with the form drawn again: she adds them again.
        if (moved && files.length) sayMessage(moved, 'api.threadMovedFiles', undefined, 'error');
        else if (moved) reportError(moved, e);
        return;
      }
      text.value = '';
      evidence.clear();
      await showTestimonies(session);
      const sent = region();
      if (sent) sayMessage(sent, 'thread.sent');
    },
    reportError,
  );
  return form;
}
