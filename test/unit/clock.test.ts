/** server/clock.ts keeps the day's string until the day ends: it must still change at each UTC midnight, either way. */
import { clockFrom } from '../../server/clock';

test('today() follows the clock across UTC midnight, forward and back', () => {
  let t = Date.UTC(2026, 10, 29, 23, 59, 59, 999);
  const clock = clockFrom(() => t);
  expect(clock.today()).toBe('2026-11-29');
  t += 1;
  expect(clock.today()).toBe('2026-11-30');
  t += 86_400_000 - 1;
  expect(clock.today()).toBe('2026-11-30');
  t += 1;
  expect(clock.today()).toBe('2026-12-01');
  // a machine clock set back (NTP) gives the earlier day again
  t = Date.UTC(2026, 10, 30, 12);
  expect(clock.today()).toBe('2026-11-30');
  t = Date.UTC(1969, 11, 31, 23);
  expect(clock.today()).toBe('1969-12-31');
});
