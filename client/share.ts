/**
 * Share page: codename, confirmation, testimony, encryption, submission. Everything typed
 * stays in this page; only the sealed envelope and public keys are sent.
 */
import { generateCodename, normalizeCodename, readersOf, type KeyPairs, type VerifiedKeyset } from '../protocol';
import type { InstanceInfo } from '../protocol/api';
import { api } from './lib/api';
import { byId, copyText, nextFrame, onSubmit, say, showStep } from './lib/dom';
import { register, solvedPow, deriveSurvivorKeys } from './lib/survivor';
import { sealTestimony, type TestimonyBody } from './lib/testimony';
import { pinnedFingerprint, trustedKeyset } from './lib/trust';

let codename = '';
let info: InstanceInfo;
let keysPromise: Promise<KeyPairs> | undefined;

document.addEventListener('DOMContentLoaded', async () => {
  const status = byId('status');
  try {
    info = await api<InstanceInfo>('GET', '/api/instance');
    byId('fingerprint').textContent = pinnedFingerprint(info.instanceId) ?? info.fingerprint ?? '';
  } catch (e) {
    say(status, (e as Error).message, 'error');
    return;
  }

  byId('make-codename').addEventListener('click', () => {
    codename = generateCodename();
    byId('codename').textContent = codename;
    showStep('step-codename');
  });
  byId<HTMLButtonElement>('copy-codename').addEventListener('click', (e) => copyText(codename, e.currentTarget as HTMLButtonElement));

  onSubmit(byId<HTMLFormElement>('confirm-form'), byId('confirm-status'), async () => {
    const typed = byId<HTMLInputElement>('codename-check').value;
    let same = false;
    try {
      same = normalizeCodename(typed) === normalizeCodename(codename);
    } catch {
      same = false;
    }
    if (!same) throw new Error('That is not the same codename. Check each word and its order.');
    // Start the slow key derivation now, while the survivor writes.
    keysPromise = deriveSurvivorKeys(codename, info.instanceId);
    showStep('step-write');
  });

  onSubmit(byId<HTMLFormElement>('testimony-form'), byId('write-status'), async () => {
    const form = byId<HTMLFormElement>('testimony-form');
    const data = new FormData(form);
    const body: TestimonyBody = {
      what: String(data.get('what') ?? '').trim(),
      when: String(data.get('when') ?? '').trim(),
      context: String(data.get('context') ?? ''),
      wantsReplies: data.get('replies') === 'yes',
    };
    if (!body.what) throw new Error('Write what happened before sending.');
    if (!body.context) throw new Error('Choose where it happened.');
    const progress = byId('write-status');

    // Check who will be able to read this before anything is encrypted.
    const fresh = await api<InstanceInfo>('GET', '/api/instance');
    let verified: VerifiedKeyset;
    try {
      verified = trustedKeyset(fresh);
    } catch (e) {
      say(byId('trust-error'), (e as Error).message, 'error');
      throw e;
    }
    const readers = readersOf(verified.keyset);
    if (readers.length === 0) throw new Error('This Awaaz has no moderator yet; nothing was sent. Please try again later.');

    say(progress, 'Preparing your keys…');
    await nextFrame();
    const keys = await (keysPromise ?? deriveSurvivorKeys(codename, info.instanceId));
    say(progress, 'Encrypting and sending…');
    await nextFrame();
    const session = await register(keys, info.instanceId);
    const envelope = sealTestimony(body, readers, keys);
    await api('POST', '/api/survivor/cases', { envelope, keysetVersion: verified.keyset.version, pow: await solvedPow() }, session.token);

    form.reset();
    say(progress, '');
    byId('handle').textContent = session.handle;
    codename = '';
    showStep('step-done');
  });
});
