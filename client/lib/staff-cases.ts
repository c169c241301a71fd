/** Moderator panel: the case inbox and one case, decrypted in this browser. */
import nacl from 'tweetnacl';
import type { CaseList, StaffCaseDetail } from '../../protocol/api';
import { api } from './api';
import { byId, el, errorMessage, say, show } from './dom';
import type { StaffSession } from './staff';
import { openTestimony, renderTestimony, STATUS_LABELS } from './testimony';

let session: StaffSession;
let page = 1;

export async function initCasesPanel(current: StaffSession): Promise<void> {
  session = current;
  show(byId('inbox-panel'));
  await loadInbox(1);
}

export function bindCasesPanel(): void {
  byId('prev-page').addEventListener('click', () => loadInbox(page - 1));
  byId('next-page').addEventListener('click', () => loadInbox(page + 1));
  byId('close-case').addEventListener('click', () => {
    show(byId('case-panel'), false);
    show(byId('inbox-panel'));
  });
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
  const box = nacl.box.keyPair.fromSecretKey(session.keys.boxSecretKey);
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
