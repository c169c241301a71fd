/**
 * Publishing panel (moderators and advocates): cases whose survivor lets advocates read, the
 * testimony decrypted here, drafts sealed to the survivor and the staff, and, for advocates,
 * publishing a draft the survivor approved. The server publishes only a story whose hash is
 * the one the survivor signed, so what is sent here must be the draft exactly as decrypted.
 */
import nacl from 'tweetnacl';
import { fromBase64url, keyId, openEnvelopeAsync, randomId, readersOf, sealEnvelopeAsync, type PublicStory } from '../../protocol';
import { storyControlCharacter } from '../../protocol/story-text';
import type { PublishingCase, PublishingCaseSummary } from '../../protocol/api';
import { api } from './api';
import { byId, el, errorMessage, onSubmit, say, show } from './dom';
import type { StaffSession } from './staff';
import { keyset } from './staff-cases';
import { changeRequestNote } from './staff-changes';
import { takedownForm } from './staff-takedown';
import { addressOf } from './staff-views';
import { CONTEXTS, openTestimony, renderTestimony } from './testimony';

let session: StaffSession;
let openCase: PublishingCase | undefined;

const DRAFT_STATUS_LABELS: Record<string, string> = {
  proposed: 'Proposed: waiting for the survivor',
  changes_requested: 'Waits on a change the survivor asked for',
  approved: 'Approved by the survivor',
  published: 'Published',
  revoked: 'Withdrawn by the survivor',
  superseded: 'Replaced by a newer draft',
  taken_down: 'Taken down by the organisation',
};

function box(): nacl.BoxKeyPair {
  return nacl.box.keyPair.fromSecretKey(session.keys.boxSecretKey);
}
function signer(): nacl.SignKeyPair {
  return nacl.sign.keyPair.fromSecretKey(session.keys.signSecretKey);
}
const isAdvocate = () => session.me.roles.includes('advocate');

export async function initPublishingPanel(current: StaffSession): Promise<void> {
  session = current;
  show(byId('publishing-panel'));
  await loadPublishing();
}

export function bindPublishingPanel(): void {
  onSubmit(byId<HTMLFormElement>('draft-form'), byId('publishing-case-status'), proposeDraft);
  byId('close-publishing-case').addEventListener('click', () => {
    location.hash = addressOf({ view: 'publishing' });
  });
}

/** What the list last showed: a refresh that finds the same leaves the rows (and the focus in them) alone. */
let listed = '';

/** The list again (live updates while the Publishing view is shown, and on entering it). */
export async function refreshPublishing(): Promise<void> {
  await loadPublishing();
}

async function loadPublishing(): Promise<void> {
  const { cases } = await api<{ cases: PublishingCaseSummary[] }>('GET', '/api/staff/publishing');
  const now = JSON.stringify(cases);
  if (now === listed) return;
  listed = now;
  const rows = cases.map((c) => {
    const open = el('button', {
      text: 'Open',
      className: 'secondary',
      attrs: { type: 'button', 'aria-label': `Open publication of ${c.handle}` },
    });
    open.addEventListener('click', () => {
      location.hash = addressOf({ view: 'publishing', caseId: c.caseId });
    });
    const latest = c.drafts[c.drafts.length - 1];
    const drafts = latest ? `${c.drafts.length} (latest: ${DRAFT_STATUS_LABELS[latest.status] ?? latest.status})` : 'none yet';
    const waiting = c.drafts.some((d) => d.status === 'changes_requested');
    return el('tr', { className: waiting ? 'waits-on-change' : undefined }, [
      el('td', { text: c.handle }),
      el('td', { text: c.createdDay }),
      el('td', { text: drafts }, waiting ? [el('strong', { className: 'badge', text: ' Waits on a change' })] : []),
      el('td', {}, [open]),
    ]);
  });
  byId('publishing-cases').replaceChildren(...rows);
  if (rows.length === 0)
    byId('publishing-cases').append(
      el('tr', {}, [el('td', { text: 'No survivor has opened a testimony to advocates yet.', attrs: { colspan: '4' } })]),
    );
}

/** A draft as sealed by a member of the keyset, checked to name this case and this draft. */
async function openDraft(detail: PublishingCase, d: PublishingCase['drafts'][number], signers: Uint8Array[]): Promise<PublicStory> {
  const opened = await openEnvelopeAsync<{ draft: PublicStory & { draftId: string } }>(d.item.envelope, {
    box: box(),
    expectedKind: 'draft',
    expectedCaseId: detail.caseId,
    trustedSigners: signers,
    grants: d.item.grants,
    trustedGranters: signers,
  });
  const draft = opened.body.draft;
  if (!draft || draft.draftId !== d.draftId) throw new Error('the draft names another draft than the server says');
  return { title: draft.title, text: draft.text, context: draft.context };
}

/** Shows the publication of a case beside the list (in its place on a narrow screen); the address names it (#/publishing/<caseId>). */
export async function showPublishingCase(caseId: string): Promise<void> {
  const [detail, ks] = await Promise.all([api<PublishingCase>('GET', `/api/staff/publishing/${caseId}`), keyset()]);
  openCase = detail;
  const signers = [...ks.history.signers.keys()].map(fromBase64url);
  const testimonyBox = byId('publishing-testimony');
  testimonyBox.replaceChildren();
  let testimonyText = '';
  try {
    const t = await openTestimony(detail.testimony.envelope, detail.caseId, box(), detail.survivorSignPk, detail.testimony.grants, signers);
    testimonyText = t.what;
    testimonyBox.append(renderTestimony(t, { day: detail.createdDay, handle: detail.handle }));
    byId<HTMLSelectElement>('draft-context').value = t.context in CONTEXTS ? t.context : 'other';
  } catch (e) {
    testimonyBox.append(el('p', { attrs: { role: 'alert' }, text: `The testimony could not be opened safely: ${errorMessage(e)}` }));
  }
  const text = byId<HTMLTextAreaElement>('draft-text');
  if (!text.value) text.value = testimonyText;

  const list = byId('publishing-drafts');
  const drafts = [...detail.drafts].reverse();
  const opened = await Promise.all(
    drafts.map((d) =>
      openDraft(detail, d, signers).then(
        (story) => ({ story }),
        (error: unknown) => ({ error }),
      ),
    ),
  );
  list.replaceChildren(
    ...drafts.map((d, i) => {
      const article = el('article', { className: 'draft', attrs: { 'aria-label': `Draft ${d.version}` } }, [
        el('h4', { text: `Draft ${d.version}` }),
        el('p', {
          className: 'hint',
          text: `${DRAFT_STATUS_LABELS[d.status] ?? d.status} · by ${d.author ?? 'a former member'} · ${d.day}`,
        }),
      ]);
      let story: PublicStory | undefined;
      try {
        const draft = opened[i];
        if ('error' in draft) throw draft.error;
        story = draft.story;
        article.append(
          el('h5', { text: story.title, attrs: { dir: 'auto' } }),
          el('p', { className: 'hint', text: CONTEXTS[story.context] ?? story.context }),
          el('p', { className: 'text', text: story.text, attrs: { dir: 'auto' } }),
        );
      } catch (e) {
        article.append(el('p', { attrs: { role: 'alert' }, text: `This draft could not be opened safely: ${errorMessage(e)}` }));
      }
      const change = changeRequestNote(detail, d, box());
      if (change) article.append(change);
      if (d.publication) {
        article.append(
          el('p', {}, [
            'Published at ',
            el('a', { text: `/stories/${d.publication.alias}`, attrs: { href: `/stories/${d.publication.alias}` } }),
          ]),
        );
        if (isAdvocate())
          article.append(
            takedownForm(d.publication.alias, async (message) => {
              await showPublishingCase(detail.caseId);
              say(byId('publishing-case-status'), message);
            }),
          );
      }
      if (d.takedown)
        article.append(el('p', { className: 'notice', text: `Taken down on ${d.takedown.day}. Reason given: ${d.takedown.reason}` }));
      if (story && d.status === 'approved' && isAdvocate()) {
        const publish = el('button', { text: 'Publish on the wall', attrs: { type: 'button' } });
        const approved = story;
        publish.addEventListener('click', () => {
          publish.disabled = true;
          api<{ alias: string; url: string }>('POST', `/api/staff/drafts/${d.draftId}/publish`, { story: approved })
            .then(async (r) => {
              await showPublishingCase(detail.caseId);
              say(byId('publishing-case-status'), `Published at ${r.url}.`);
            })
            .catch((e) => say(byId('publishing-case-status'), errorMessage(e), 'error'))
            .finally(() => (publish.disabled = false));
        });
        article.append(publish);
      }
      return article;
    }),
  );
  if (detail.drafts.length === 0) list.append(el('p', { className: 'hint', text: 'No draft yet.' }));
  byId('publishing-case-heading').textContent = `Publication for ${detail.handle}`;
  byId('view-publishing').classList.add('has-open');
  show(byId('publishing-case'));
  byId('publishing-case-heading').focus();
}

/** Closes the open publication (the address went back to #/publishing). */
export function closePublishingCase(): void {
  if (!openCase) return;
  openCase = undefined;
  show(byId('publishing-case'), false);
  byId('view-publishing').classList.remove('has-open');
  loadPublishing().catch((e) => say(byId('publishing-status'), errorMessage(e), 'error'));
}

async function proposeDraft(): Promise<void> {
  const detail = openCase!;
  const story: PublicStory = {
    title: byId<HTMLInputElement>('draft-title').value.trim(),
    text: byId<HTMLTextAreaElement>('draft-text').value.trim(),
    context: byId<HTMLSelectElement>('draft-context').value,
  };
  if (!story.title || !story.text) throw new Error('Write a title and the text first.');
  for (const field of ['title', 'text'] as const) {
    const found = storyControlCharacter(story[field]);
    if (found)
      throw new Error(
        `The ${field} holds an invisible control character (${found.codePoint}) at character ${found.position}, which a published story may not; remove it and propose again.`,
      );
  }
  const ks = await keyset();
  const survivorBox = fromBase64url(detail.survivorBoxPk);
  // The survivor's key must be one their own signed testimony names, or the server could substitute its own.
  if (!detail.testimony.envelope.keys.some((k) => k.kid === keyId(survivorBox)))
    throw new Error("The survivor's key does not match their testimony; nothing was sent.");
  const seen = new Set([keyId(survivorBox)]);
  const staff = [...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')].filter((pk) => !seen.has(keyId(pk)) && seen.add(keyId(pk)));
  const draftId = randomId();
  const envelope = await sealEnvelopeAsync({
    kind: 'draft',
    caseId: detail.caseId,
    body: { draft: { draftId, ...story } },
    recipients: [survivorBox, ...staff],
    signer: signer(),
  });
  await api('POST', `/api/staff/cases/${detail.caseId}/drafts`, { draftId, envelope, keysetVersion: ks.keyset.version });
  byId<HTMLInputElement>('draft-title').value = '';
  byId<HTMLTextAreaElement>('draft-text').value = '';
  await showPublishingCase(detail.caseId);
  say(byId('publishing-case-status'), 'Draft encrypted and proposed to the survivor.');
}
