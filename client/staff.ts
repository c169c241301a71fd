/**
 * Staff workspace: sign in (keys unwrapped in memory only), the team and invites for admins,
 * the case inbox for moderators. Testimonies are decrypted here, never on the server.
 */
import nacl from 'tweetnacl';
import { fingerprint, keysetHash, signKeyset, utcDay, verifyKeyset, type KeysetMember, type SignedKeyset } from '../protocol';
import type { CaseList, InstanceInfo, StaffCaseDetail, StaffMemberSummary } from '../protocol/api';
import { api } from './lib/api';
import { byId, copyText, el, errorMessage, nextFrame, onSubmit, say, show, showStep } from './lib/dom';
import { staffLogin, type StaffSession } from './lib/staff';
import { openTestimony, renderTestimony, STATUS_LABELS } from './lib/testimony';

let session: StaffSession | undefined;
let page = 1;

document.addEventListener('DOMContentLoaded', () => {
  const loginStatus = byId('login-status');
  onSubmit(byId<HTMLFormElement>('login-form'), loginStatus, async () => {
    say(loginStatus, 'Signing in… this takes a few seconds.');
    await nextFrame();
    session = await staffLogin(byId<HTMLInputElement>('username').value.trim(), byId<HTMLInputElement>('password').value);
    byId<HTMLInputElement>('password').value = '';
    say(loginStatus, '');
    await openWorkspace();
  });

  byId('logout').addEventListener('click', async () => {
    await api('POST', '/api/staff/logout', {}).catch(() => undefined);
    session = undefined;
    location.replace('/staff');
  });

  onSubmit(byId<HTMLFormElement>('invite-form'), byId('workspace-status'), async () => {
    const role = byId<HTMLSelectElement>('invite-role').value;
    const invite = await api<{ url: string; expiresAt: string }>('POST', '/api/staff/invites', { roles: [role] });
    byId('invite-link').textContent = invite.url;
    byId('invite-expiry').textContent = new Date(invite.expiresAt).toLocaleString();
    show(byId('invite-result'));
  });
  byId<HTMLButtonElement>('copy-invite').addEventListener('click', (e) => copyText(byId('invite-link').textContent ?? '', e.currentTarget as HTMLButtonElement));
  byId('sign-keyset').addEventListener('click', () => signNextKeyset().catch((e) => say(byId('workspace-status'), errorMessage(e), 'error')));
  byId('prev-page').addEventListener('click', () => loadInbox(page - 1));
  byId('next-page').addEventListener('click', () => loadInbox(page + 1));
  byId('close-case').addEventListener('click', () => {
    show(byId('case-panel'), false);
    show(byId('inbox-panel'));
  });
});

async function openWorkspace(): Promise<void> {
  const me = session!.me;
  byId('whoami-name').textContent = `${me.username} (${me.roles.join(', ')})`;
  show(byId('whoami'));
  showStep('step-workspace');
  show(byId('pending-note'), me.status !== 'active');
  if (me.status !== 'active') return;
  if (me.roles.includes('admin')) {
    show(byId('admin-panel'));
    await loadMembers();
  }
  if (me.roles.includes('moderator')) {
    show(byId('inbox-panel'));
    await loadInbox(1);
  }
}

async function loadMembers(): Promise<StaffMemberSummary[]> {
  const { members } = await api<{ members: StaffMemberSummary[] }>('GET', '/api/staff/members');
  byId('members').replaceChildren(
    ...members.map((m) => el('tr', {}, [el('td', { text: m.username }), el('td', { text: m.roles.join(', ') }), el('td', { text: m.status === 'pending' ? 'waiting to be added' : m.status })])),
  );
  show(byId('pending-members'), members.some((m) => m.status === 'pending') && Boolean(session?.keys.instanceSecretKey));
  return members;
}

/** The admin's browser extends the keyset with the members who are waiting, and signs it. */
async function signNextKeyset(): Promise<void> {
  const instanceSecret = session?.keys.instanceSecretKey;
  if (!instanceSecret) throw new Error('Only the admin who holds the instance key can sign the list of readers.');
  const instance = nacl.sign.keyPair.fromSecretKey(instanceSecret);
  const info = await api<InstanceInfo>('GET', '/api/instance');
  // Check the current keyset against our own instance key before extending it.
  const current = verifyKeyset(info.keyset as SignedKeyset, { instanceId: info.instanceId, pinnedFingerprint: fingerprint(instance.publicKey) }).keyset;
  const members = await loadMembers();
  const added: KeysetMember[] = members
    .filter((m) => m.status === 'pending')
    .map((m) => ({ staffId: m.id, username: m.username, roles: m.roles, boxPk: m.boxPk, signPk: m.signPk }));
  const next = signKeyset(
    { v: 1, instanceId: info.instanceId, version: current.version + 1, prev: keysetHash(current), issuedDay: utcDay(), members: [...current.members, ...added] },
    instance,
  );
  await api('POST', '/api/staff/keysets', { signed: next });
  say(byId('workspace-status'), `Signed version ${next.keyset.version} of the list of readers: ${added.map((m) => m.username).join(', ')} added.`);
  await loadMembers();
}

async function loadInbox(requested: number): Promise<void> {
  const list = await api<CaseList>('GET', `/api/staff/cases?page=${Math.max(1, requested)}`);
  page = list.page;
  const pages = Math.max(1, Math.ceil(list.total / list.pageSize));
  byId('page-label').textContent = `Page ${page} of ${pages} (${list.total} cases)`;
  byId<HTMLButtonElement>('prev-page').disabled = page <= 1;
  byId<HTMLButtonElement>('next-page').disabled = page >= pages;
  byId('cases').replaceChildren(
    ...list.cases.map((c) => {
      const open = el('button', { text: 'Open', className: 'secondary', attrs: { type: 'button', 'aria-label': `Open case of ${c.handle} from ${c.createdDay}` } });
      open.addEventListener('click', () => openCase(c.caseId).catch((e) => say(byId('workspace-status'), errorMessage(e), 'error')));
      return el('tr', {}, [el('td', { text: c.handle }), el('td', { text: c.createdDay }), el('td', { text: STATUS_LABELS[c.status] ?? c.status }), el('td', {}, [open])]);
    }),
  );
  if (list.cases.length === 0) byId('cases').append(el('tr', {}, [el('td', { text: 'No cases yet.', attrs: { colspan: '4' } })]));
}

async function openCase(caseId: string): Promise<void> {
  const detail = await api<StaffCaseDetail>('GET', `/api/staff/cases/${caseId}`);
  const box = nacl.box.keyPair.fromSecretKey(session!.keys.boxSecretKey);
  const body = byId('case-body');
  body.replaceChildren();
  for (const env of detail.envelopes.filter((e) => e.kind === 'testimony')) {
    try {
      body.append(renderTestimony(openTestimony(env, detail.caseId, box, detail.survivorSignPk), { day: detail.createdDay, status: detail.status, handle: detail.handle }));
    } catch (e) {
      body.append(el('p', { attrs: { role: 'alert' }, text: `This testimony could not be opened: ${errorMessage(e)}` }));
    }
  }
  byId('case-heading').textContent = `Case of ${detail.handle}`;
  show(byId('inbox-panel'), false);
  show(byId('case-panel'));
  byId('case-heading').focus();
}
