/**
 * The account-lock refusal of server/services/staff-sign-in.ts: when it applies, the wait it
 * names (seconds under 90 s, whole minutes from there, both rounded up) and the Retry-After
 * header it carries. The integration tests reach only locks of 30 and 60 seconds; the lock
 * grows to LOGIN_LOCK.maxMs, which only the minutes wording covers.
 */
import { HttpError } from '../../server/http/errors';
import { lockDelayMs, LOGIN_LOCK } from '../../server/http/staff-credentials';
import { accountLocked } from '../../server/services/staff-sign-in';

const AT = 1_800_000_000_000;

function refusal(lockedForMs: number): HttpError {
  const e = accountLocked(AT + lockedForMs, AT);
  if (!e) throw new Error(`no refusal for a lock of ${lockedForMs} ms`);
  return e;
}

test('no refusal once the lock has ended, or when there was none', () => {
  expect(accountLocked(0, AT)).toBeUndefined();
  expect(accountLocked(AT - 1, AT)).toBeUndefined();
  expect(accountLocked(AT, AT)).toBeUndefined();
});

test('a lock is a 429 account_locked whose Retry-After is the wait in whole seconds, rounded up', () => {
  const e = refusal(1);
  expect([e.status, e.code]).toEqual([429, 'account_locked']);
  expect(e.headers).toEqual({ 'Retry-After': '1' });
  expect(e.message).toBe('too many failed sign-ins for this account; try again in 1 seconds');
  expect(refusal(29_001).headers['Retry-After']).toBe('30');
  expect(refusal(29_001).message).toMatch(/in 30 seconds$/);
});

test('from 90 seconds the wait is named in minutes, rounded up', () => {
  expect(refusal(89_000).message).toMatch(/in 89 seconds$/);
  expect(refusal(90_000).message).toMatch(/in 2 minutes$/);
  expect(refusal(90_000).headers['Retry-After']).toBe('90');
  expect(refusal(4 * 60_000).message).toMatch(/in 4 minutes$/);
  expect(refusal(4 * 60_000 + 1).message).toMatch(/in 5 minutes$/);
});

test('the longest lock the policy sets reads as 15 minutes', () => {
  const longest = lockDelayMs(LOGIN_LOCK.threshold + 10);
  expect(longest).toBe(LOGIN_LOCK.maxMs);
  const e = refusal(longest);
  expect(e.message).toMatch(/in 15 minutes$/);
  expect(e.headers['Retry-After']).toBe(String(15 * 60));
});
