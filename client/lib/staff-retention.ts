/** The admin's retention periods (<section id="retention-panel">): how long closed cases and accounts with no case are kept. */
import type { RetentionPeriods } from '../../protocol/api';
import { api } from './api';
import { byId, onSubmit, say, show } from './dom';

interface RetentionSettings extends RetentionPeriods {
  bounds: Record<keyof RetentionPeriods, { min: number; max: number }>;
}

export async function initRetentionPanel(): Promise<void> {
  show(byId('retention-panel'));
  fill(await api<RetentionSettings>('GET', '/api/staff/settings/retention'));
}

function fill(s: RetentionSettings): void {
  for (const [id, field] of [
    ['retention-closed', 'closedCaseDays'],
    ['retention-idle', 'idleAccountDays'],
  ] as const) {
    const input = byId<HTMLInputElement>(id);
    input.value = String(s[field]);
    input.min = String(s.bounds[field].min);
    input.max = String(s.bounds[field].max);
  }
}

export function bindRetentionPanel(): void {
  const status = byId('retention-status');
  onSubmit(byId<HTMLFormElement>('retention-form'), status, async () => {
    const saved = await api<RetentionSettings>('POST', '/api/staff/settings/retention', {
      closedCaseDays: Number(byId<HTMLInputElement>('retention-closed').value),
      idleAccountDays: Number(byId<HTMLInputElement>('retention-idle').value),
    });
    fill(saved);
    say(
      status,
      `Saved: closed cases are kept ${saved.closedCaseDays} days after closing or the survivor's last visit; accounts with no case ${saved.idleAccountDays} days.`,
    );
  });
}
