/**
 * An error as a log line may name it: its code and name, never its message, which may quote
 * values (a row's, an address's, a mail server's answer quoting the recipient). Every log line
 * about a failure that is not Awaaz's own bug goes through this (the sweeper, alert delivery);
 * the 500 handler logs our own bugs in full (server/http/errors.ts).
 */
export function errorCodes(err: unknown): string {
  const { code, name } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; name?: unknown };
  const word = (v: unknown) => (typeof v === 'string' && /^[\w.-]{1,40}$/.test(v) ? v : undefined);
  return [word(code), word(name)].filter(Boolean).join(' ') || 'no code';
}
