/**
 * Admin panel: the team, invites (made, listed, revoked), and signing the next keyset (adding or removing members).
 * A waiting member is added only once the admin has compared their key code (computed here
 * from the keys the server shows) with the one the member's own browser shows, and ticked it.
 */
import nacl from 'tweetnacl';
import {
  fingerprint,
  fingerprintLink,
  keysetHash,
  memberFingerprint,
  signKeyset,
  utcDay,
  type Keyset,
  type KeysetMember,
} from '../../protocol';
import type { InstanceInfo, PendingInvite, PendingInviteList, StaffActivity, StaffMemberSummary } from '../../protocol/api';
import { pinAfterVerified } from '../../protocol/pin';
import { api, serverNow } from './api';
import { byId, copyText, el, errorMessage, onSubmit, say, show } from './dom';
import { readPin, writePin } from './pin-store';
import { currentTrustedHistory, TrustError } from './trust';
import type { StaffSession } from './staff';
import { lastSeenText } from './staff-account';
import { resetTotpButton } from './staff-security';

let session: StaffSession;

export async function initTeamPanel(current: StaffSession): Promise<void> {
  session = current;
  show(byId('admin-panel'));
  await Promise.all([loadMembers(), showLinkToPublish(), loadInvites()]);
}

/**
 * The fingerprint link with the newest version, from the chain this browser verified (never the
 * server's word), and, when this admin holds the instance key, only from a chain that key signed:
 * on a browser with no pin (a new device, Tor Browser) a chain replaced in the database would
 * otherwise be offered as the link to publish, and every survivor coming in through it would
 * trust the replacer's key.
 */
async function showLinkToPublish(): Promise<void> {
  const target = byId('fingerprint-link');
  try {
    const { fingerprint: fp, keyset } = (await currentTrustedHistory(undefined, false)).current;
    const instanceSecret = session.keys.instanceSecretKey;
    if (instanceSecret && fp !== fingerprint(nacl.sign.keyPair.fromSecretKey(instanceSecret).publicKey))
      throw new Error(
        `Do not publish a link now: the list of readers this server serves is signed by another key (fingerprint ${fp}), not by your instance key. Someone may have replaced it in the server's database.`,
      );
    target.textContent = fingerprintLink(location.origin, fp, keyset.version);
  } catch (e) {
    target.textContent = errorMessage(e);
  }
}

/**
 * An invite link that also carries the instance fingerprint (`&fp=`), so that the new member's
 * browser pins it at enrolment instead of trusting the first list of readers it is served: the
 * admin's own instance key's, or else the chain this browser verified (as it stands, the link
 * is given without it).
 */
async function withFingerprint(url: string): Promise<string> {
  const instanceSecret = session.keys.instanceSecretKey;
  const fp = instanceSecret
    ? fingerprint(nacl.sign.keyPair.fromSecretKey(instanceSecret).publicKey)
    : await currentTrustedHistory(undefined, false).then(
        (h) => h.current.fingerprint,
        () => undefined,
      );
  return fp ? `${url}&fp=${fp.replace(/ /g, '')}` : url;
}

export function bindTeamPanel(): void {
  onSubmit(byId<HTMLFormElement>('invite-form'), byId('workspace-status'), async () => {
    const role = byId<HTMLSelectElement>('invite-role').value;
    const invite = await api<{ url: string; expiresAt: string }>('POST', '/api/staff/invites', { roles: role.split(',') });
    byId('invite-link').textContent = await withFingerprint(invite.url);
    byId('invite-expiry').textContent = new Date(invite.expiresAt).toLocaleString();
    show(byId('invite-result'));
    await loadInvites();
  });
  // copyText shows a failure on the button itself and never rejects: nothing to wait for.
  byId<HTMLButtonElement>('copy-invite').addEventListener(
    'click',
    (e) => void copyText(byId('invite-link').textContent ?? '', e.currentTarget as HTMLButtonElement),
  );
  byId('sign-keyset').addEventListener('click', () => {
    publishKeyset({ addWaiting: true }).catch((e) => say(byId('workspace-status'), errorMessage(e), 'error'));
  });
}

const rolesText = (roles: readonly string[]) => roles.join(', ').replaceAll('_', ' ');

/** The invites not yet used or expired, each with a button to revoke it. */
async function loadInvites(): Promise<void> {
  const { invites } = await api<PendingInviteList>('GET', '/api/staff/invites');
  byId('pending-invites').replaceChildren(...invites.map(inviteRow));
  show(byId('pending-invites-table'), invites.length > 0);
  show(byId('no-pending-invites'), invites.length === 0);
}

function inviteRow(invite: PendingInvite): HTMLElement {
  const roles = rolesText(invite.roles);
  const expires = new Date(invite.expiresAt).toLocaleString();
  const revoke = el('button', {
    text: 'Revoke',
    className: 'secondary',
    attrs: { type: 'button', 'aria-label': `Revoke invite for ${roles}, made by ${invite.createdBy}, expires ${expires}` },
  });
  revoke.addEventListener('click', () => {
    if (!confirm(`Revoke the invite for ${roles} made by ${invite.createdBy}? Its link stops working at once.`)) return;
    const status = byId('workspace-status');
    api('POST', `/api/staff/invites/${invite.id}/revoke`, {})
      .then(() => say(status, `Revoked the invite for ${roles} made by ${invite.createdBy}.`))
      .catch((e) => say(status, errorMessage(e), 'error'))
      // Used, expired or revoked meanwhile: the list shows what is left either way.
      .finally(() => loadInvites().catch((e) => say(status, errorMessage(e), 'error')));
  });
  return el('tr', {}, [
    el('td', { text: roles }),
    el('td', { text: invite.createdBy }),
    el('td', { text: expires }),
    el('td', {}, [revoke]),
  ]);
}

async function loadMembers(): Promise<StaffMemberSummary[]> {
  const { members } = await api<{ members: StaffMemberSummary[] }>('GET', '/api/staff/members');
  // "Last seen" column (staff security): who is active
  const activity = await api<StaffActivity>('GET', '/api/staff/activity').catch(() => undefined);
  const seen = new Map((activity?.members ?? []).map((a) => [a.id, a]));
  byId('members').replaceChildren(
    ...members.map((m) => {
      const actions = el('td');
      if (m.status === 'active' && m.id !== session.me.id && session.keys.instanceSecretKey) {
        const remove = el('button', {
          text: 'Remove',
          className: 'secondary',
          attrs: { type: 'button', 'aria-label': `Remove ${m.username}` },
        });
        remove.addEventListener('click', () => {
          if (
            !confirm(
              `Remove ${m.username}? They are signed out at once, and the keys wrapped to them are erased: they will not be able to read any case again.`,
            )
          )
            return;
          publishKeyset({ removeStaffId: m.id }).catch((e) => say(byId('workspace-status'), errorMessage(e), 'error'));
        });
        actions.append(remove);
      }
      if (m.status !== 'removed' && m.id !== session.me.id) actions.append(resetTotpButton(m, loadMembers));
      return el('tr', {}, [
        el('td', { text: m.username }),
        el('td', { text: m.roles.join(', ') }),
        el('td', { text: m.status === 'pending' ? `waiting to be added (key code ${memberFingerprint(m.boxPk, m.signPk)})` : m.status }),
        el('td', { text: lastSeenText(seen.get(m.id)) }),
        actions,
      ]);
    }),
  );
  const waiting = members.filter((m) => m.status === 'pending');
  byId('waiting-members').replaceChildren(
    ...waiting.map((m) => {
      const code = memberFingerprint(m.boxPk, m.signPk);
      // The roles shown here are the ones signed: the key code does not cover them.
      const box = el('input', { attrs: { type: 'checkbox', 'data-staff-id': m.id, 'data-code': code, 'data-roles': m.roles.join(',') } });
      return el('li', {}, [
        el('p', {}, [el('strong', { text: m.username }), ` (${m.roles.join(', ')}), key code:`]),
        el('p', { className: 'key-code', text: code, attrs: { 'data-key-code-of': m.username } }),
        el('label', { className: 'inline' }, [box, ` The codes match for ${m.username}`]),
      ]);
    }),
  );
  show(byId('pending-members'), waiting.length > 0 && Boolean(session.keys.instanceSecretKey));
  return members;
}

/** The waiting members the admin ticked, with the key code and the roles each was shown with. */
function confirmedMembers(): Map<string, { code: string; roles: string }> {
  const ticked = [...byId('waiting-members').querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')];
  return new Map(ticked.map((box) => [box.dataset.staffId ?? '', { code: box.dataset.code ?? '', roles: box.dataset.roles ?? '' }]));
}

/**
 * The chain this browser accepts to extend: verified whole against this browser's pin (the
 * newest version it saw, with that keyset's hash) and under the admin's own instance key. A
 * server whose newest keyset is older than the pin (its newest rows deleted, say to bring back
 * a removed member) or differs from it is refused, so the admin never re-signs a rolled-back
 * list as the next version.
 */
async function trustedCurrent(info: InstanceInfo, instancePk: Uint8Array): Promise<Keyset> {
  let verified;
  try {
    verified = (await currentTrustedHistory(info, false)).current;
  } catch (e) {
    if (!(e instanceof TrustError)) throw e;
    throw new Error(
      `Nothing was signed: the list of readers this server serves is not the one this browser last saw (${String(e.params?.reason ?? e.message)}). Someone may have changed the server's database, for instance to bring back a removed member. Check the team and the audit log with another admin before signing again.`,
      { cause: e },
    );
  }
  if (verified.fingerprint !== fingerprint(instancePk))
    throw new Error('Nothing was signed: the list of readers this server serves is not signed by your instance key.');
  return verified.keyset;
}

/** The admin's browser builds the next keyset from the current one, signs it and publishes it. */
async function publishKeyset(change: { addWaiting?: boolean; removeStaffId?: string }): Promise<void> {
  const instanceSecret = session.keys.instanceSecretKey;
  if (!instanceSecret) throw new Error('Only the admin who holds the instance key can sign the list of readers.');
  const instance = nacl.sign.keyPair.fromSecretKey(instanceSecret);
  const info = await api<InstanceInfo>('GET', '/api/instance');
  const current = await trustedCurrent(info, instance.publicKey);
  const confirmed = change.addWaiting ? confirmedMembers() : new Map<string, { code: string; roles: string }>();
  if (change.addWaiting && confirmed.size === 0)
    throw new Error(
      'Compare each waiting member’s key code with the one their own screen shows, and tick those that match, before signing.',
    );
  const members = await loadMembers();
  // Only the ticked members, with the very keys whose code the admin compared and the roles the admin saw.
  const added: KeysetMember[] = members
    .filter((m) => m.status === 'pending' && confirmed.get(m.id)?.code === memberFingerprint(m.boxPk, m.signPk))
    .map((m) => ({ staffId: m.id, username: m.username, roles: m.roles, boxPk: m.boxPk, signPk: m.signPk }));
  if (change.addWaiting && added.length < confirmed.size)
    throw new Error('A waiting member’s keys changed on the server since you compared their code. Nothing was signed: compare again.');
  // So what is signed is exactly what the admin saw (the key code does not cover roles).
  const changedRoles = added.find((m) => m.roles.join(',') !== confirmed.get(m.staffId)?.roles);
  if (changedRoles)
    throw new Error(
      `The server now lists other roles for ${changedRoles.username} (${changedRoles.roles.join(', ')}) than the ones you saw when you ticked (${confirmed.get(changedRoles.staffId)?.roles.split(',').join(', ') ?? ''}). Nothing was signed: check their invite, then compare again.`,
    );
  const kept = current.members.filter((m) => m.staffId !== change.removeStaffId);
  const next = signKeyset(
    {
      v: 1,
      instanceId: info.instanceId,
      version: current.version + 1,
      prev: keysetHash(current),
      issuedDay: utcDay(serverNow()),
      members: [...kept, ...added],
    },
    instance,
  );
  await api('POST', '/api/staff/keysets', { signed: next });
  // This browser now knows this version (and its hash): an older or different list served later is refused.
  writePin(pinAfterVerified(readPin(), info.instanceId, fingerprint(instance.publicKey), next.keyset.version, keysetHash(next.keyset)));
  const names = added.map((m) => m.username).join(', ');
  say(
    byId('workspace-status'),
    `Signed version ${next.keyset.version} of the list of readers.${names ? ` Added: ${names}.` : ''}${change.removeStaffId ? ' Publish the new link below in place of the old one.' : ''}`,
  );
  // A removed admin's pending invites were deleted with them.
  await Promise.all([loadMembers(), showLinkToPublish(), loadInvites()]);
}
