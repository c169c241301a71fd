/** Landing page: shows the instance fingerprint so a visitor can compare it out of band. */
import type { InstanceInfo } from '../protocol/api';
import { api } from './lib/api';
import { byId } from './lib/dom';

document.addEventListener('DOMContentLoaded', async () => {
  const target = byId('fingerprint');
  try {
    const info = await api<InstanceInfo>('GET', '/api/instance');
    target.textContent = info.fingerprint ?? 'This Awaaz is not set up yet.';
  } catch {
    target.textContent = 'Could not load the fingerprint.';
  }
});
