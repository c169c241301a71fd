/**
 * The drafts proposed to a survivor, on the return page: each beside what they wrote,
 * approving the exact words (a signature made here with their codename's key), asking for
 * changes, and withdrawing consent. Loaded (client/drafts.ts, under its integrity hash) only
 * when one of the survivor's cases has a draft, so it does not weigh on every visit.
 */
import {
  fromBase64url,
  keyId,
  openEnvelopeAsync,
  readersOf,
  sealEnvelope,
  signStatementAsync,
  storyHash,
  toBase64url,
  utcDay,
  type ConsentStatement,
  type PublicStory,
  type RevocationStatement,
} from '../../protocol/survivor';
import type { DraftItem, SurvivorCase } from '../../protocol/api';
import { api, ApiFailure, serverNow } from './api';
import { byId, el, nextFrame, onSubmit, sayMessage } from './dom';
import { isMessageKey, LocalizedError, localize, msg } from './messages';
import { sealMessage } from './case-thread';
import type { TestimonyBody } from './testimony';
import { reportError } from './survivor-page';
import { button, heading, statusRegion, type SurvivorContext } from './survivor-publishing';

interface OpenedDraft {
  item: DraftItem;
  story?: PublicStory;
  error?: string;
}

/** Opens a draft: sealed by a member of the verified keyset, naming this case and this draft. */
async function openDraft(d: DraftItem, caseId: string, ctx: SurvivorContext): Promise<OpenedDraft> {
  try {
    const opened = await openEnvelopeAsync<{ draft: PublicStory & { draftId: string } }>(d.item.envelope, {
      box: ctx.keys.box,
      expectedKind: 'draft',
      expectedCaseId: caseId,
      trustedSigners: [...ctx.history.signers.keys()].map(fromBase64url),
    });
    const draft = opened.body.draft;
    if (
      !draft ||
      draft.draftId !== d.draftId ||
      typeof draft.title !== 'string' ||
      typeof draft.text !== 'string' ||
      typeof draft.context !== 'string'
    ) {
      throw new LocalizedError('testimony.badFormat');
    }
    return { item: d, story: { title: draft.title, text: draft.text, context: draft.context } };
  } catch (e) {
    return { item: d, error: e instanceof Error ? e.message : String(e) };
  }
}

function storyView(story: PublicStory): HTMLElement {
  const contextKey = `context.${story.context}`;
  const where = el('p', { className: 'hint' });
  if (isMessageKey(contextKey)) localize(where, contextKey);
  else where.textContent = story.context;
  return el('div', { className: 'proposal' }, [
    el('h5', { text: story.title, attrs: { dir: 'auto' } }),
    where,
    el('p', { className: 'text', text: story.text, attrs: { dir: 'auto' } }),
  ]);
}

async function signAndPost(ctx: SurvivorContext, url: string, statement: ConsentStatement | RevocationStatement): Promise<void> {
  await api('POST', url, { statement, sig: await signStatementAsync(statement, ctx.keys.sign.secretKey) }, ctx.session.token);
}

/** One draft beside the testimony, with what the survivor can do about it now. */
function draftView(c: SurvivorCase, testimony: TestimonyBody, opened: OpenedDraft, ctx: SurvivorContext): HTMLElement {
  const d = opened.item;
  const base = `/api/survivor/cases/${c.caseId}/drafts/${d.draftId}`;
  const status = el('p', { className: 'badge' });
  localize(status, `draftStatus.${d.status}`);
  const article = el('article', { className: 'draft', attrs: { 'aria-label': msg('drafts.version', { version: d.version }) } }, [
    heading('h3', 'drafts.version', { version: d.version }),
    status,
  ]);
  if (d.takedown) {
    const why = el('p', { className: 'notice' });
    localize(why, 'drafts.takenDown');
    article.append(why, el('blockquote', { text: d.takedown.reason, attrs: { dir: 'auto' } }));
  }
  if (!opened.story) {
    const failed = el('p', { attrs: { role: 'alert' } });
    localize(failed, 'drafts.unsafe', { reason: opened.error ?? '' });
    article.append(failed);
    return article;
  }
  const story = opened.story;
  const original = el('div', { className: 'original' }, [
    heading('h4', 'drafts.original'),
    el('p', { className: 'text', text: testimony.what, attrs: { dir: 'auto' } }),
  ]);
  const proposal = el('div', {}, [heading('h4', 'drafts.proposal'), storyView(story)]);
  article.append(el('div', { className: 'compare' }, [original, proposal]));
  const region = statusRegion();

  if (d.status === 'proposed' || d.status === 'changes_requested') {
    const note = el('p', { className: 'notice' });
    localize(note, 'drafts.approveNote');
    const approve = el('form', {}, [note, button('drafts.approve')]);
    onSubmit(
      approve,
      region,
      async () => {
        sayMessage(region, 'drafts.approving');
        await nextFrame();
        const statement: ConsentStatement = {
          v: 1,
          type: 'publish',
          caseId: c.caseId,
          draftId: d.draftId,
          textHash: await storyHash(story),
          issuedDay: utcDay(serverNow()),
        };
        await signAndPost(ctx, `${base}/consent`, statement);
        await ctx.refresh();
        sayMessage(byId('list-status'), 'drafts.approved');
      },
      reportError,
    );
    article.append(approve);
  }
  if (d.status === 'proposed') {
    const id = `changes-${d.draftId}`;
    const label = el('label', { attrs: { for: id } });
    localize(label, 'drafts.changesLabel');
    const text = el('textarea', { attrs: { id, required: '', maxlength: '10000', dir: 'auto' } });
    const changes = el('form', { className: 'changes', attrs: { autocomplete: 'off' } }, [label, text, button('drafts.sendChanges')]);
    changes.hidden = true;
    const ask = button('drafts.askChanges', 'button', 'secondary');
    ask.addEventListener('click', () => {
      changes.hidden = false;
      ask.hidden = true;
      text.focus();
    });
    onSubmit(
      changes,
      region,
      async () => {
        const wanted = text.value.trim();
        if (!wanted) throw new LocalizedError('thread.emptyText');
        // The request goes to the moderators in the encrypted thread, then on the draft.
        const keyset = (await ctx.currentHistory()).current.keyset;
        const envelope = await sealMessage({
          caseId: c.caseId,
          thread: c.thread,
          text: msg('drafts.changesMessage', { version: d.version, text: wanted }),
          survivorBoxPk: toBase64url(ctx.keys.box.publicKey),
          keyset,
          signer: ctx.keys.sign,
        });
        try {
          await api('POST', `/api/survivor/cases/${c.caseId}/messages`, { envelope, keysetVersion: keyset.version }, ctx.session.token);
        } catch (e) {
          if (!(e instanceof ApiFailure && e.code === 'thread_moved')) throw e;
          // A moderator wrote meanwhile: show it (what she typed is kept through the redraw), then she sends again.
          await ctx.refresh();
          reportError(byId('list-status'), e);
          return;
        }
        // And on the draft, to its author too (an advocate does not read the conversation): the
        // member of the verified keyset whose key signed the draft.
        const author = keyset.members.find((m) => m.signPk === d.item.envelope.signer);
        const readers = new Map(
          [ctx.keys.box.publicKey, ...readersOf(keyset), ...(author ? [fromBase64url(author.boxPk)] : [])].map((pk) => [keyId(pk), pk]),
        );
        const request = sealEnvelope({
          kind: 'changes',
          caseId: c.caseId,
          body: { changes: { draftId: d.draftId, text: wanted } },
          recipients: [...readers.values()],
          signer: ctx.keys.sign,
        });
        await api('POST', `${base}/changes`, { envelope: request, keysetVersion: keyset.version }, ctx.session.token);
        await ctx.refresh();
        sayMessage(byId('list-status'), 'drafts.changesSent');
      },
      reportError,
    );
    article.append(ask, changes);
  }
  if (d.publication) {
    const link = el('a', { attrs: { href: `/stories/${d.publication.alias}` } });
    localize(link, 'drafts.seeStory');
    article.append(el('p', {}, [link]));
  }
  if (d.status === 'approved' || d.status === 'published') {
    const confirm = el('p', { className: 'notice' });
    localize(confirm, 'drafts.revokeConfirm');
    const revokeForm = el('form', {}, [confirm, button('drafts.revokeYes', 'submit', 'danger')]);
    revokeForm.hidden = true;
    const revoke = button('drafts.revoke', 'button', 'secondary');
    revoke.addEventListener('click', () => {
      revokeForm.hidden = false;
      revoke.hidden = true;
    });
    onSubmit(
      revokeForm,
      region,
      async () => {
        const statement: RevocationStatement = {
          v: 1,
          type: 'revoke',
          caseId: c.caseId,
          draftId: d.draftId,
          issuedDay: utcDay(serverNow()),
        };
        await signAndPost(ctx, `${base}/revoke`, statement);
        await ctx.refresh();
        sayMessage(byId('list-status'), 'drafts.revoked');
      },
      reportError,
    );
    article.append(revoke, revokeForm);
  }
  article.append(region);
  return article;
}

/** The drafts proposed for a case, newest first; superseded ones are left out. */
export async function draftsSection(c: SurvivorCase, testimony: TestimonyBody, ctx: SurvivorContext): Promise<HTMLElement | undefined> {
  const shown = c.drafts.filter((d) => d.status !== 'superseded').reverse();
  if (shown.length === 0) return undefined;
  const opened = await Promise.all(shown.map((d) => openDraft(d, c.caseId, ctx)));
  return el('section', { className: 'drafts' }, [heading('h2', 'drafts.heading'), ...opened.map((o) => draftView(c, testimony, o, ctx))]);
}
