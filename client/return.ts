/** Return page: the survivor types their codename; their testimonies are fetched and decrypted here. */
import { toBase64url } from '../protocol';
import type { InstanceInfo, SurvivorCase } from '../protocol/api';
import { api } from './lib/api';
import { byId, el, nextFrame, onSubmit, say, showStep } from './lib/dom';
import { deriveSurvivorKeys, login } from './lib/survivor';
import { openTestimony, renderTestimony } from './lib/testimony';

document.addEventListener('DOMContentLoaded', () => {
  const input = byId<HTMLInputElement>('codename');
  byId<HTMLInputElement>('reveal').addEventListener('change', (e) => {
    input.type = (e.currentTarget as HTMLInputElement).checked ? 'text' : 'password';
  });

  onSubmit(byId<HTMLFormElement>('login-form'), byId('login-status'), async () => {
    const status = byId('login-status');
    say(status, 'Opening… this takes a few seconds.');
    await nextFrame();
    const info = await api<InstanceInfo>('GET', '/api/instance');
    const keys = await deriveSurvivorKeys(input.value, info.instanceId);
    input.value = '';
    const session = await login(keys, info.instanceId);
    const { cases } = await api<{ cases: SurvivorCase[] }>('GET', '/api/survivor/cases', undefined, session.token);
    say(status, '');

    byId('handle').textContent = session.handle;
    const list = byId('cases');
    list.replaceChildren();
    if (cases.length === 0) list.append(el('p', { text: 'There is no testimony here yet.' }));
    const ownSignPk = toBase64url(keys.sign.publicKey);
    for (const c of cases) {
      for (const env of c.envelopes.filter((e) => e.kind === 'testimony')) {
        try {
          list.append(renderTestimony(openTestimony(env, c.caseId, keys.box, ownSignPk), { day: c.createdDay, status: c.status }));
        } catch (e) {
          list.append(el('p', { attrs: { role: 'alert' }, text: `A testimony from ${c.createdDay} could not be opened: ${(e as Error).message}` }));
        }
      }
    }
    showStep('step-list');
  });
});
