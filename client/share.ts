/**
 * Share page: codename, confirmation, testimony, encryption, submission. Everything typed
 * stays in this page; only the sealed envelope and public keys are sent.
 */
import { generateCodename, normalizeCodename, readersOf, type KeyPairs, type VerifiedHistory } from '../protocol/survivor';
import { sharingControls, testimonyReaders } from './lib/sharing';
import type { InstanceInfo, SurvivorCase, SurvivorSession } from '../protocol/api';
import { api } from './lib/api';
import { attachmentLimits } from './lib/attachment-records';
import { byId, copyText, el, formText, listen, nextFrame, onSubmit, say, sayMessage, showStep } from './lib/dom';
import { LocalizedError, unlocalize } from './lib/messages';
import { onQuickExit } from './lib/quick-exit';
import { registerOrLogIn, renewSessions, solvedPow, deriveSurvivorKeys } from './lib/survivor';
import { evidenceSlot } from './lib/evidence-slot';
import { slowKdf } from './lib/kdf';
import { instanceInfo, reportError } from './lib/survivor-page';
import { sealTestimony, type TestimonyBody } from './lib/testimony';
import { currentTrustedHistory } from './lib/trust';
import { offerMatching } from './lib/matching-loader';

let codename = '';
let info: InstanceInfo | undefined;
let keysPromise: Promise<KeyPairs> | undefined;
/** Her keys once the testimony is sent, kept only while the page offers to name the person (matching). */
let sentKeys: KeyPairs | undefined;
/**
 * Her account's session, kept across presses of "Encrypt and send": a failure after the
 * account was made (a refused or lost answer) must not make the testimony unsendable.
 */
let session: SurvivorSession | undefined;
/** Her keys while a session is held (renewSessions signs in again with them). */
let held: KeyPairs | undefined;
/** A testimony went out and no answer was read (its text here): the next press first asks whether it arrived. */
let maybeSent: string | undefined;
renewSessions(() => ({ keys: held ?? sentKeys, session, instanceId: info?.instanceId }));

/** The keys of her codename, derived once; a failed derivation is forgotten, so the next press derives again. */
function keysOf(instanceId: string): Promise<KeyPairs> {
  if (!keysPromise) {
    const derived = (keysPromise = deriveSurvivorKeys(codename, instanceId));
    derived.catch(() => {
      if (keysPromise === derived) keysPromise = undefined;
    });
  }
  return keysPromise;
}

function wipe(keys: KeyPairs): void {
  keys.sign.secretKey.fill(0);
  keys.box.secretKey.fill(0);
}

/** Whether Copy put her codename on the clipboard: emptied once she has confirmed it, and on Quick exit (SECURITY.md). */
let copied = false;
function clearClipboard(): Promise<void> | undefined {
  const cleared = copied ? navigator.clipboard.writeText('').catch(() => undefined) : undefined;
  copied = false;
  return cleared;
}

onQuickExit(() => {
  const cleared = clearClipboard();
  codename = '';
  keysPromise?.then(wipe, () => undefined);
  keysPromise = undefined;
  info = undefined;
  session = held = maybeSent = undefined;
  forgetSentKeys();
  return cleared; // Quick exit waits for it (briefly) before leaving
});

function forgetSentKeys(): void {
  if (sentKeys) wipe(sentKeys);
  sentKeys = undefined;
  // Without her keys the offer cannot work (a page back from the browser's cache would show it).
  document.getElementById('matching')?.setAttribute('hidden', '');
}

/**
 * One numbered item per word (the numbers come from the stylesheet, left to right on Urdu
 * pages too), so the words cannot be copied out of order; a space between items keeps the
 * list's text the plain codename.
 */
function showCodename(words: string): void {
  byId('codename').replaceChildren(...words.split(' ').flatMap((word, i) => [...(i ? [' '] : []), el('li', { text: word })]));
}

listen(document, 'DOMContentLoaded', async () => {
  const status = byId('status');
  try {
    info = await instanceInfo();
  } catch (e) {
    reportError(status, e);
    return;
  }
  const make = byId<HTMLButtonElement>('make-codename');
  // Check the readers before anything is written: a refusal now spares a testimony that cannot
  // be sent. The check runs beside the page's start rather than before it (it costs a round
  // trip and the chain's signatures on a slow phone); sending checks again before encrypting.
  // (Before setup there is nobody to check; sending says so.)
  let refused = false;
  if (info.setupComplete) {
    currentTrustedHistory(info, false).then(
      (history) => {
        const fp = byId('fingerprint');
        unlocalize(fp);
        fp.textContent = history.current.fingerprint;
      },
      (e) => {
        refused = true;
        make.disabled = true;
        reportError(byId('trust-error'), e);
      },
    );
  }
  const instanceId = info.instanceId;
  const sharing = sharingControls('share');
  byId('sharing-choices').replaceChildren(sharing.element);
  const evidence = evidenceSlot('share-evidence');
  evidence.setLimits(attachmentLimits(info));
  byId('evidence').append(evidence.element);

  make.addEventListener('click', () => {
    codename = generateCodename();
    showCodename(codename);
    showStep('step-codename');
  });
  // Enabled only now (a click before the instance is known would do nothing), unless the check already refused.
  make.disabled = refused;
  // copyText shows a failure on the button itself and never rejects: nothing to wait for.
  byId<HTMLButtonElement>('copy-codename').addEventListener('click', (e) => {
    copied = true;
    void copyText(codename, e.currentTarget as HTMLButtonElement);
  });

  onSubmit(
    byId<HTMLFormElement>('confirm-form'),
    byId('confirm-status'),
    () => {
      const input = byId<HTMLInputElement>('codename-check');
      let same: boolean;
      try {
        same = normalizeCodename(input.value) === normalizeCodename(codename);
      } catch {
        same = false;
      }
      if (!same) throw new LocalizedError('share.notSame');
      input.value = '';
      void clearClipboard();
      // The codename has been written down: stop showing it.
      byId('codename').textContent = '';
      // Start the slow key derivation now, while the survivor writes.
      void keysOf(instanceId);
      showStep('step-write');
    },
    reportError,
  );

  onSubmit(
    byId<HTMLFormElement>('testimony-form'),
    byId('write-status'),
    async () => {
      const form = byId<HTMLFormElement>('testimony-form');
      const data = new FormData(form);
      const body: TestimonyBody = {
        what: formText(data, 'what').trim(),
        when: formText(data, 'when').trim(),
        context: formText(data, 'context'),
        wantsReplies: data.get('replies') === 'yes',
      };
      if (!body.what) throw new LocalizedError('share.needWhat');
      if (!body.context) throw new LocalizedError('share.needWhere');
      const progress = byId('write-status');

      // Check who will be able to read this, as the server says now, before anything is encrypted.
      const fresh = await api<InstanceInfo>('GET', '/api/instance');
      let verified: VerifiedHistory['current'];
      try {
        verified = (await currentTrustedHistory(fresh)).current;
      } catch (e) {
        reportError(byId('trust-error'), e);
        throw e;
      }
      if (readersOf(verified.keyset).length === 0) throw new LocalizedError('share.noModerator');
      const choices = sharing.read(body.context);
      const readers = testimonyReaders(verified.keyset, choices.advocatesMayRead);
      evidence.setLimits(attachmentLimits(fresh));
      evidence.check();

      sayMessage(progress, slowKdf() ? 'kdf.working' : 'share.preparing');
      await nextFrame();
      const keys = (held = await keysOf(instanceId));
      sayMessage(progress, 'share.sending');
      await nextFrame();
      const signedIn = (session ??= await registerOrLogIn(keys, instanceId));
      // Her codename is new to this page: any case of her account is this testimony, sent by an
      // earlier press whose answer was lost. Sending it again would make a second case.
      let sent: Pick<SurvivorCase, 'caseId' | 'createdDay'> | undefined;
      const text = JSON.stringify(body);
      if (maybeSent) sent = (await api<{ cases: SurvivorCase[] }>('GET', '/api/survivor/cases', undefined, signedIn.token)).cases[0];
      // What she changed since then was not sent: she is told where to add it.
      if (sent && text !== maybeSent) sayMessage(byId('done-changed'), 'share.sentAsFirst');
      if (!sent) {
        // Files first: the testimony carries their manifests, and the server links their ids to it.
        const files = await evidence.upload(signedIn.token);
        const envelope = await sealTestimony(files.length ? { ...body, attachments: files } : body, readers, keys);
        const attachments = files.length ? { attachments: files.map((f) => f.id) } : {};
        const pow = await solvedPow();
        maybeSent = text;
        sent = await api<{ caseId: string; createdDay: string }>(
          'POST',
          '/api/survivor/cases',
          { envelope, keysetVersion: verified.keyset.version, pow, sharing: choices, ...attachments },
          signedIn.token,
        );
      }
      maybeSent = undefined;
      evidence.clear();

      form.reset();
      say(progress, '');
      byId('handle').textContent = signedIn.handle;
      codename = '';
      keysPromise = held = undefined;
      showStep('step-done');
      // She may name the person now, as from the return page; her keys stay in this page
      // until she leaves it or presses Quick exit (as on the return page while signed in).
      sentKeys = keys;
      window.addEventListener('pagehide', forgetSentKeys, { once: true });
      offerMatching({
        keys,
        token: signedIn.token,
        cases: [{ caseId: sent.caseId, createdDay: sent.createdDay }],
        currentHistory: () => currentTrustedHistory(fresh),
      });
    },
    reportError,
  );
});
