/**
 * The one clock the server reads. createApp takes it (tests pass one they can move forward)
 * and hands it on; nothing under server/ calls Date.now() or `new Date()` for the current
 * time by itself (eslint's no-restricted-syntax rule in eslint.config.mjs says so).
 */
import { utcDay } from '../protocol';

export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  /** the current UTC day, YYYY-MM-DD: the finest time a survivor's record keeps */
  today(): string;
}

export function clockFrom(now: () => number): Clock {
  return { now, today: () => utcDay(new Date(now())) };
}

/** The machine's clock. */
// eslint-disable-next-line no-restricted-syntax -- the one place the real time is read
export const systemClock: Clock = clockFrom(() => Date.now());
