/**
 * Admin panel: the audit log, verified in this browser with protocol/audit.ts. It fetches the
 * whole chain, checks every link from the instance's genesis, and compares it with the newest
 * entry this browser saw before (kept in localStorage with its position): if that entry is no
 * longer there, the history was rewritten, and the page says so loudly and keeps the old
 * checkpoint until the admin chooses to trust the log as it is now.
 */
import { AUDIT_ACTION_LABELS, auditLogKeeps, verifyAuditChain, type AuditCheckpoint, type AuditRecord } from '../../protocol';
import type { AuditPage, InstanceInfo, StaffMemberSummary } from '../../protocol/api';
import { api } from './api';
import { byId, el, errorMessage, say, show } from './dom';

const FETCH_PAGE = 500;
const SHOWN_PER_PAGE = 50;

let instanceId = '';
let records: AuditRecord[] = [];
let names = new Map<string, string>();
let shown = SHOWN_PER_PAGE;

const checkpointKey = () => `awaaz.audit.checkpoint.${instanceId}`;

interface StoredCheckpoint extends AuditCheckpoint {
  seenAt: string;
}

function readCheckpoint(): StoredCheckpoint | undefined {
  try {
    const raw = localStorage.getItem(checkpointKey());
    if (!raw) return undefined;
    const c = JSON.parse(raw) as StoredCheckpoint;
    return Number.isSafeInteger(c.seq) && typeof c.hash === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

function writeCheckpoint(c: AuditCheckpoint): void {
  localStorage.setItem(
    checkpointKey(),
    JSON.stringify({ seq: c.seq, hash: c.hash, seenAt: new Date().toISOString() } satisfies StoredCheckpoint),
  );
}

export async function initAuditPanel(): Promise<void> {
  show(byId('audit-panel'));
  await loadAndVerify();
}

export function bindAuditPanel(): void {
  byId('audit-reload').addEventListener('click', () => {
    loadAndVerify().catch((e) => alarm(`The audit log could not be loaded: ${errorMessage(e)}`));
  });
  byId('audit-more').addEventListener('click', () => {
    shown += SHOWN_PER_PAGE;
    render();
  });
  byId('audit-accept').addEventListener('click', () => {
    const head = records[records.length - 1];
    if (!head || !verifyAuditChain(records, instanceId).ok) return;
    if (
      !confirm(
        'Only do this if you know why the history changed (for example, the database was restored from a backup). Trust the audit log as it is now?',
      )
    )
      return;
    writeCheckpoint(head);
    show(byId('audit-accept'), false);
    show(byId('audit-alert'), false);
    say(byId('audit-verdict'), `This browser now trusts the log up to entry #${head.seq}.`);
  });
}

function alarm(text: string): void {
  const box = byId('audit-alert');
  box.replaceChildren(el('strong', { text: 'Warning: ' }), text);
  show(box);
}

async function fetchAll(): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (let after = 0; ;) {
    const page = await api<AuditPage>('GET', `/api/staff/audit?after=${after}&limit=${FETCH_PAGE}`);
    out.push(...page.entries);
    if (page.entries.length < FETCH_PAGE) return out;
    after = page.entries[page.entries.length - 1].seq;
  }
}

async function loadAndVerify(): Promise<void> {
  show(byId('audit-alert'), false);
  show(byId('audit-accept'), false);
  say(byId('audit-verdict'), 'Loading and checking the audit log…');
  const [info, list, all] = await Promise.all([
    api<InstanceInfo>('GET', '/api/instance'),
    api<{ members: StaffMemberSummary[] }>('GET', '/api/staff/members'),
    fetchAll(),
  ]);
  instanceId = info.instanceId;
  names = new Map(list.members.map((m) => [m.id, m.username]));
  records = all;
  shown = SHOWN_PER_PAGE;
  render();

  const verdict = verifyAuditChain(records, instanceId);
  const checkpoint = readCheckpoint();
  if (!verdict.ok) {
    say(byId('audit-verdict'), '');
    alarm(
      `The audit log does not verify: ${verdict.reason}. The database was changed outside the application. Keep this page as evidence and check the server.`,
    );
    return;
  }
  if (checkpoint && !auditLogKeeps(records, checkpoint)) {
    say(byId('audit-verdict'), '');
    const what =
      records.length < checkpoint.seq
        ? `the log now has only ${records.length} entries`
        : `entry #${checkpoint.seq} is now a different one`;
    alarm(
      `The history of the audit log was rewritten. On ${checkpoint.seenAt.slice(0, 16).replace('T', ' ')} UTC this browser saw entry #${checkpoint.seq} with hash ${checkpoint.hash.slice(0, 16)}…; ${what}. ` +
        'Each entry is still chained to the one before, so whoever did it recomputed the chain: someone with access to the server.',
    );
    show(byId('audit-accept'));
    return;
  }
  if (verdict.head) writeCheckpoint(verdict.head);
  say(
    byId('audit-verdict'),
    verdict.head
      ? `Verified in this browser: ${verdict.count} entries, each chained to the one before${checkpoint ? `, including entry #${checkpoint.seq} seen earlier` : ''}. Newest: #${verdict.head.seq}, hash ${verdict.head.hash.slice(0, 16)}…`
      : 'The audit log is empty.',
  );
}

function who(id: string | null): string {
  if (id === null) return 'system';
  return names.get(id) ?? `id ${id.slice(0, 8)}…`;
}

function detailText(r: AuditRecord): string {
  const parts: string[] = [];
  if (r.subject && r.subject !== r.actorId) parts.push(`on ${names.get(r.subject) ?? r.subject}`);
  for (const [k, v] of Object.entries(r.detail ?? {})) {
    const value = Array.isArray(v)
      ? `[${v.map((x) => (typeof x === 'string' && names.has(x) ? names.get(x) : String(x))).join(', ')}]`
      : typeof v === 'string' && names.has(v)
        ? names.get(v)
        : String(v);
    parts.push(`${k}: ${value}`);
  }
  return parts.join('; ');
}

function render(): void {
  const newestFirst = records.slice(-shown).reverse();
  byId('audit-entries').replaceChildren(
    ...newestFirst.map((r) =>
      el('tr', { attrs: { 'data-seq': String(r.seq) } }, [
        el('td', { text: String(r.seq) }),
        el('td', { text: new Date(r.at).toISOString().slice(0, 19).replace('T', ' ') }),
        el('td', { text: who(r.actorId) }),
        el('td', { text: AUDIT_ACTION_LABELS[r.action] ?? r.action }),
        el('td', { text: detailText(r) }),
      ]),
    ),
  );
  if (records.length === 0) byId('audit-entries').append(el('tr', {}, [el('td', { text: 'No entries yet.', attrs: { colspan: '5' } })]));
  show(byId('audit-more'), records.length > shown);
}
