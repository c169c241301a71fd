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

const DAY_MS = 86_400_000;

export function clockFrom(now: () => number): Clock {
  // Every request asks for the day, several times: the string is kept until the day ends.
  let day = '';
  let dayStart = 0;
  return {
    now,
    today() {
      const t = now();
      if (t < dayStart || t >= dayStart + DAY_MS) {
        dayStart = t - (((t % DAY_MS) + DAY_MS) % DAY_MS);
        day = utcDay(new Date(dayStart));
      }
      return day;
    },
  };
}

/** The machine's clock. */
// eslint-disable-next-line no-restricted-syntax -- the one place the real time is read
export const systemClock: Clock = clockFrom(() => Date.now());
