/**
 * Instance settings an admin changes from the staff page (today: the staff session timeouts).
 * Unset or out-of-bounds values fall back to the configuration (STAFF_SESSION_IDLE_MINUTES,
 * STAFF_SESSION_ABSOLUTE_HOURS), so an instance works without any row here.
 */
import { SESSION_SETTING_BOUNDS } from '../../protocol/api';
import type { Config } from '../config';
import type { Db } from './database';

export interface SessionTimeouts {
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
}

const KEYS = { sessionIdleMinutes: 'session.idle_minutes', sessionAbsoluteHours: 'session.absolute_hours' } as const;

function within(value: number, bounds: { min: number; max: number }): boolean {
  return Number.isInteger(value) && value >= bounds.min && value <= bounds.max;
}

export function settingsRepo(db: Db, config: Config) {
  const defaults: SessionTimeouts = {
    sessionIdleMinutes: Math.round(config.staffSessionIdleMs / 60_000),
    sessionAbsoluteHours: Math.round(config.staffSessionAbsoluteMs / 3_600_000),
  };
  return {
    defaults,
    /** The timeouts in force: the admin's, else the configuration's. */
    async sessionTimeouts(): Promise<SessionTimeouts & { idleMs: number; absoluteMs: number }> {
      const rows: { key: string; value: string }[] = await db('settings').whereIn('key', Object.values(KEYS)).select('key', 'value');
      const stored = new Map(rows.map((r) => [r.key, Number(r.value)]));
      const idle = stored.get(KEYS.sessionIdleMinutes);
      const absolute = stored.get(KEYS.sessionAbsoluteHours);
      const out: SessionTimeouts = {
        sessionIdleMinutes:
          idle !== undefined && within(idle, SESSION_SETTING_BOUNDS.sessionIdleMinutes) ? idle : defaults.sessionIdleMinutes,
        sessionAbsoluteHours:
          absolute !== undefined && within(absolute, SESSION_SETTING_BOUNDS.sessionAbsoluteHours)
            ? absolute
            : defaults.sessionAbsoluteHours,
      };
      return { ...out, idleMs: out.sessionIdleMinutes * 60_000, absoluteMs: out.sessionAbsoluteHours * 3_600_000 };
    },
    /** Stores both timeouts (already validated against SESSION_SETTING_BOUNDS by the route). */
    async setSessionTimeouts(trx: Db, value: SessionTimeouts): Promise<void> {
      for (const [field, key] of Object.entries(KEYS) as [keyof SessionTimeouts, string][]) {
        await trx('settings')
          .insert({ key, value: String(value[field]) })
          .onConflict('key')
          .merge();
      }
    },
  };
}
export type SettingsRepo = ReturnType<typeof settingsRepo>;
