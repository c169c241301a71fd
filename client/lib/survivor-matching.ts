/**
 * The survivor's side of the matching escrow (loaded lazily by lib/matching-loader.ts): what
 * happens, read before choosing; her identifiers, opened here with her own key, each with a
 * withdraw button; the form that normalizes an identifier, blinds it for the server's OPRF,
 * derives the tag and seals the identifier and the case to the matching counselors (and to
 * her, to derive it again after a key rotation). The identifier never leaves this page in the
 * clear (protocol/matching.ts, protocol/oprf.ts).
 */
import { fromBase64url, keyId, readersOf, toBase64url } from '../../protocol/survivor';
import type { MatchEvaluation, SurvivorMatchEntry, SurvivorMatching } from '../../protocol/api';
import {
  IdentifierError,
  IDENTIFIER_TYPES,
  matchTag,
  normalizeIdentifier,
  openMatchEntry,
  oprfInput,
  sealMatchEntry,
  SOCIAL_NETWORKS,
  type Identifier,
  type IdentifierType,
  type SocialNetwork,
} from '../../protocol/matching';
import { oprfBlind, oprfFinalize } from '../../protocol/oprf';
import { api, ApiFailure } from './api';
import { el, nextFrame, onSubmit, say, sayMessage } from './dom';
import type { MatchingPageContext } from './matching-loader';
import { LocalizedError, localize, type MessageKey } from './messages';
import { reportError } from './survivor-page';

/** The tag of an identifier under the server's current key: blinded here, evaluated there, finalized here. */
async function deriveTag(identifier: Identifier, token: string): Promise<{ tag: string; keyVersion: number }> {
  const input = oprfInput(identifier);
  const { blind, blinded } = oprfBlind(input);
  try {
    const answer = await api<MatchEvaluation>('POST', '/api/survivor/matching/evaluate', { blinded: [toBase64url(blinded)] }, token);
    return { tag: matchTag(oprfFinalize(input, blind, fromBase64url(answer.evaluated[0]))), keyVersion: answer.keyVersion };
  } catch (e) {
    if (e instanceof ApiFailure && (e.code === 'matching_limit' || e.code === 'matching_busy')) throw new LocalizedError('matching.limit');
    throw e;
  } finally {
    blind.fill(0);
  }
}

/** Sealed to every matching counselor of the keyset this browser verified, and to the survivor. */
async function seal(ctx: MatchingPageContext, identifier: Identifier, caseId: string, derived: { tag: string; keyVersion: number }) {
  const keyset = (await ctx.currentHistory()).current.keyset;
  const own = ctx.keys.box.publicKey;
  const counselors = readersOf(keyset, 'matching_counselor').filter((pk) => keyId(pk) !== keyId(own));
  return sealMatchEntry({ identifier, caseId, ...derived, recipients: [...counselors, own] });
}

function para(key: MessageKey, params?: Record<string, string>): HTMLParagraphElement {
  const p = el('p');
  localize(p, key, params);
  return p;
}

function labelled(id: string, key: MessageKey, control: HTMLElement): HTMLElement[] {
  const label = el('label', { attrs: { for: id } });
  localize(label, key);
  return [label, control];
}

function option(value: string, key: MessageKey, params?: Record<string, string>): HTMLOptionElement {
  const o = el('option', { attrs: { value } });
  localize(o, key, params);
  return o;
}

function problemKey(e: IdentifierError): MessageKey {
  return `matching.problem.${e.problem}`;
}

export async function openMatching(container: HTMLElement, ctx: MatchingPageContext): Promise<void> {
  const status = await api<SurvivorMatching>('GET', '/api/survivor/matching', undefined, ctx.token);
  container.replaceChildren(para('matching.intro'), para('matching.what1'), para('matching.what2'), para('matching.what3'));
  if (!status.counselors) {
    container.append(para('matching.unavailable'));
    return;
  }
  const yoursHeading = el('h3');
  localize(yoursHeading, 'matching.yours');
  const list = el('ul', { attrs: { id: 'matching-list' } });
  const listStatus = el('p', { attrs: { role: 'status' } });
  listStatus.hidden = true;

  const drawList = (s: SurvivorMatching) => {
    list.replaceChildren();
    if (s.entries.length === 0) list.append(el('li', {}, [para('matching.none')]));
    for (const entry of s.entries) {
      let shown: string;
      try {
        // An entry in an older normal form is hers too: shown in today's form, and withdrawable.
        shown = openMatchEntry(entry.sealed, ctx.keys.box, entry, { olderForm: true }).identifier.value.replace(/^[a-z]+:/, (n) => `${n} `);
      } catch {
        continue; // not one this browser can open: nothing to show
      }
      const text = el('span', { attrs: { dir: 'ltr' } });
      localize(text, 'matching.item', { value: shown, day: entry.createdDay });
      const withdraw = el('button', { className: 'secondary', attrs: { type: 'button' } });
      localize(withdraw, 'matching.withdraw');
      withdraw.onclick = () => {
        withdraw.disabled = true;
        api('POST', `/api/survivor/matching/entries/${entry.id}/withdraw`, {}, ctx.token)
          .then(() => refresh())
          .then(() => sayMessage(listStatus, 'matching.withdrawn'))
          .catch((e) => reportError(listStatus, e))
          .finally(() => (withdraw.disabled = false));
      };
      list.append(el('li', {}, [text, ' ', withdraw]));
    }
  };
  const refresh = async () => drawList(await api<SurvivorMatching>('GET', '/api/survivor/matching', undefined, ctx.token));
  drawList(status);
  // Entries in an older normal form are named again in today's once the tools are here (the
  // page loads them on its own only for a key rotation or new counselors).
  if (status.entries.length > 0)
    rederiveStale(ctx, status)
      .then(refresh)
      .catch(() => undefined); // tried again on the next visit

  const caseSelect = el('select', { attrs: { id: 'matching-case', name: 'case' } });
  caseSelect.append(...ctx.cases.map((c) => option(c.caseId, 'matching.caseOption', { day: c.createdDay })));
  const typeSelect = el('select', { attrs: { id: 'matching-type', name: 'type' } });
  typeSelect.append(...IDENTIFIER_TYPES.map((t) => option(t, `matching.type.${t}`)));
  const networkSelect = el('select', { attrs: { id: 'matching-network', name: 'network' } });
  networkSelect.append(option('', 'matching.networkAny'), ...SOCIAL_NETWORKS.map((n) => option(n, `matching.network.${n}`)));
  const value = el('input', {
    attrs: {
      id: 'matching-value',
      name: 'value',
      type: 'text',
      required: '',
      maxlength: '300',
      dir: 'ltr',
      autocomplete: 'off',
      spellcheck: 'false',
    },
  });
  const preview = el('p', { className: 'hint', attrs: { id: 'matching-preview', 'aria-live': 'polite' } });
  preview.hidden = true;
  const confirm = el('input', { attrs: { id: 'matching-confirm', type: 'checkbox' } });
  const confirmLabel = el('label', { className: 'inline' }, [confirm, ' ']);
  const confirmText = el('span');
  localize(confirmText, 'matching.confirm');
  confirmLabel.append(confirmText);
  const formStatus = el('p', { attrs: { role: 'status', id: 'matching-form-status' } });
  formStatus.hidden = true;
  const submit = el('button', { attrs: { type: 'submit' } });
  localize(submit, 'matching.add');
  const networkRow = el('div', {}, labelled('matching-network', 'matching.networkLabel', networkSelect));

  const read = (): Identifier => {
    const type = typeSelect.value as IdentifierType;
    return normalizeIdentifier(type, value.value, type === 'social' ? (networkSelect.value as SocialNetwork) || undefined : undefined);
  };
  const update = () => {
    networkRow.hidden = typeSelect.value !== 'social';
    if (!value.value.trim()) {
      preview.hidden = true;
      return;
    }
    try {
      localize(preview, 'matching.preview', { value: read().value });
      preview.dataset.kind = 'info';
    } catch (e) {
      if (!(e instanceof IdentifierError)) throw e;
      localize(preview, problemKey(e));
      preview.dataset.kind = 'error';
    }
    preview.hidden = false;
  };
  for (const control of [typeSelect, networkSelect, value]) control.addEventListener('input', update);
  update();

  const form = el('form', { attrs: { id: 'matching-form', autocomplete: 'off' } }, [
    ...(ctx.cases.length > 1 ? labelled('matching-case', 'matching.caseLabel', caseSelect) : []),
    ...labelled('matching-type', 'matching.typeLabel', typeSelect),
    networkRow,
    ...labelled('matching-value', 'matching.valueLabel', value),
    preview,
    confirmLabel,
    formStatus,
    submit,
  ]);
  onSubmit(
    form,
    formStatus,
    async () => {
      let identifier: Identifier;
      try {
        identifier = read();
      } catch (e) {
        if (e instanceof IdentifierError) throw new LocalizedError(problemKey(e));
        throw e;
      }
      if (!confirm.checked) throw new LocalizedError('matching.needConfirm');
      const caseId = ctx.cases.length > 1 ? caseSelect.value : ctx.cases[0]?.caseId;
      if (!caseId) throw new LocalizedError('return.none');
      sayMessage(formStatus, 'matching.adding');
      await nextFrame();
      const derived = await deriveTag(identifier, ctx.token);
      const sealed = await seal(ctx, identifier, caseId, derived);
      await api('POST', '/api/survivor/matching/entries', { ...derived, sealed }, ctx.token);
      value.value = '';
      confirm.checked = false;
      update();
      await refresh();
      say(listStatus, '');
      sayMessage(formStatus, 'matching.added');
    },
    reportError,
  );
  container.append(yoursHeading, list, listStatus, form);
}

let rederiving: Promise<void> | undefined;

/**
 * On a visit after a key rotation: each identifier made under an older key, opened with her key
 * and derived again. And each one sealed to other matching counselors than those of the keyset
 * her browser verifies now (a counselor joined or left): opened and sealed again to them, with
 * the same tag (the server's `reseal` hint only says when to look; this decides).
 *
 * One run at a time: the sign-in's may still be running when she opens the section, and two
 * would each name an older-form entry again (a duplicate). A second caller waits for the
 * running one instead, then sees its result; what only its own, newer status shows stale is
 * left for the next visit.
 */
export function rederiveStale(ctx: MatchingPageContext, status: SurvivorMatching): Promise<void> {
  return (rederiving ??= rederiveOnce(ctx, status).finally(() => (rederiving = undefined)));
}

async function rederiveOnce(ctx: MatchingPageContext, status: SurvivorMatching): Promise<void> {
  const own = keyId(ctx.keys.box.publicKey);
  const counselors = new Set(readersOf((await ctx.currentHistory()).current.keyset, 'matching_counselor').map(keyId));
  counselors.delete(own);
  const sealedToThem = (entry: SurvivorMatchEntry) => {
    const sealedTo = entry.sealed.keys.map((k) => k.kid).filter((kid) => kid !== own);
    return counselors.size === 0 || (sealedTo.length === counselors.size && sealedTo.every((kid) => counselors.has(kid)));
  };
  let failure: Error | undefined;
  for (const entry of status.entries) {
    const stale = entry.keyVersion < status.keyVersion;
    // Each entry on its own: one that does not open or is refused must not leave the others
    // under the old key or counselors. Only the day's evaluation limit stops the rest, which it
    // would refuse too. What failed is tried again on the next visit.
    try {
      // Opened in today's normal form even if written in an older one: derived again, it gets
      // the tag of today's spelling, which a counselor's check accepts.
      const mine = openMatchEntry(entry.sealed, ctx.keys.box, entry, { olderForm: true });
      if (mine.olderForm && !stale) {
        // Under the current key the server keeps its tag, so it is named again as a new entry
        // (unless an earlier visit did, and only the withdrawal failed) and the older one withdrawn.
        const fresh = await deriveTag(mine.identifier, ctx.token);
        if (!status.entries.some((e) => e.tag === fresh.tag && e.keyVersion === fresh.keyVersion))
          await api(
            'POST',
            '/api/survivor/matching/entries',
            { ...fresh, sealed: await seal(ctx, mine.identifier, mine.caseId, fresh) },
            ctx.token,
          );
        await api('POST', `/api/survivor/matching/entries/${entry.id}/withdraw`, {}, ctx.token);
        continue;
      }
      if (!stale && sealedToThem(entry)) continue;
      const derived = stale ? await deriveTag(mine.identifier, ctx.token) : { tag: entry.tag, keyVersion: entry.keyVersion };
      const sealed = await seal(ctx, mine.identifier, mine.caseId, derived);
      await api('POST', `/api/survivor/matching/entries/${entry.id}/replace`, { ...derived, sealed }, ctx.token);
    } catch (e) {
      if (e instanceof LocalizedError && e.key === 'matching.limit') throw e;
      failure ??= e instanceof Error ? e : new Error(String(e));
    }
  }
  if (failure) throw failure;
}
