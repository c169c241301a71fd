/** A testimony's plaintext, how it is sealed, opened and shown. Shared by survivor and staff pages. */
import type nacl from 'tweetnacl';
import {
  fromBase64url,
  openEnvelopeAsync,
  randomId,
  sealEnvelopeAsync,
  type AttachmentManifest,
  type Envelope,
  type AnyKeyGrant,
} from '../../protocol/survivor';
import { en } from '../../i18n/en';
import { el } from './dom';
import { dateElement, isMessageKey, LocalizedError, localize, type MessageKey, type Params } from './messages';
import { CONTEXT_VALUES, STATUS_VALUES } from './testimony-values';

export { CONTEXT_VALUES, STATUS_VALUES, type Context } from './testimony-values';

/** English labels, for pages that are English only (staff). */
export const CONTEXTS: Record<string, string> = Object.fromEntries(CONTEXT_VALUES.map((c) => [c, en[`context.${c}`]]));
export const STATUS_LABELS: Record<string, string> = Object.fromEntries(STATUS_VALUES.map((s) => [s, en[`status.${s}`]]));

export interface TestimonyBody {
  what: string;
  when: string;
  context: string;
  wantsReplies: boolean;
  /** evidence files, encrypted and uploaded apart (lib/attachments.ts); absent when none */
  attachments?: AttachmentManifest[];
}

export function sealTestimony(
  body: TestimonyBody,
  readers: Uint8Array[],
  survivor: { box: nacl.BoxKeyPair; sign: nacl.SignKeyPair },
): Promise<Envelope> {
  return sealEnvelopeAsync({
    kind: 'testimony',
    caseId: randomId(),
    body: { testimony: body },
    // The survivor is always a reader of their own testimony.
    recipients: [survivor.box.publicKey, ...readers],
    signer: survivor.sign,
  });
}

/** Opens a testimony envelope, checking it is signed by the case's survivor and names this case. */
export async function openTestimony(
  env: Envelope,
  caseId: string,
  box: nacl.BoxKeyPair,
  survivorSignPk: string,
  grants: AnyKeyGrant[] = [],
  staffGranters: Uint8Array[] = [],
): Promise<TestimonyBody> {
  const survivor = fromBase64url(survivorSignPk);
  const opened = await openEnvelopeAsync<{ testimony: TestimonyBody }>(env, {
    box,
    expectedKind: 'testimony',
    expectedCaseId: caseId,
    trustedSigners: [survivor],
    // A reader added later (an advocate) opens it through a re-wrap by the survivor or a colleague.
    grants,
    trustedGranters: [survivor, ...staffGranters],
  });
  const t = opened.body.testimony;
  if (!t || typeof t.what !== 'string') throw new LocalizedError('testimony.badFormat');
  return t;
}

function message(key: MessageKey, params?: Params): HTMLElement {
  const span = el('span');
  localize(span, key, params);
  return span;
}

/** Data, not a message: Latin handles keep left-to-right order, typed text its own. */
function data(text: string, dir: 'ltr' | 'auto'): HTMLElement {
  return el('span', { text, attrs: { dir } });
}

/**
 * The testimony as an article: labels and known values come from the catalogs (in the page's
 * language, and they follow a change of language); what the survivor typed is shown as text.
 */
export function renderTestimony(
  t: TestimonyBody,
  meta: { day: string; status?: string; handle?: string; statusLabel?: string },
): HTMLElement {
  const dl = el('dl', { className: 'meta' });
  const row = (label: MessageKey, value: HTMLElement) => {
    const dt = el('dt');
    localize(dt, label);
    dl.append(dt, el('dd', {}, [value]));
  };
  const statusKey = `status.${meta.status}`;
  const contextKey = `context.${t.context}`;
  if (meta.handle) row('testimony.survivor', data(meta.handle, 'ltr'));
  row('testimony.sentOn', dateElement(meta.day));
  // Staff pages pass their own label: the survivor's status.* messages speak to the survivor.
  // No status (a publishing page, which does not know the case's): no row.
  if (meta.status !== undefined)
    row(
      'testimony.status',
      meta.statusLabel !== undefined
        ? data(meta.statusLabel, 'auto')
        : isMessageKey(statusKey)
          ? message(statusKey)
          : data(meta.status, 'auto'),
    );
  row('testimony.where', isMessageKey(contextKey) ? message(contextKey) : data(t.context, 'auto'));
  if (t.when) row('testimony.when', data(t.when, 'auto'));
  row('testimony.wantsReplies', message(t.wantsReplies ? 'common.yes' : 'common.no'));
  return el('article', { className: 'testimony' }, [dl, el('p', { className: 'text', text: t.what, attrs: { dir: 'auto' } })]);
}
