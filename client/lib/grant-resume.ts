/**
 * Sharing older cases with a colleague takes a while; if the page closes first, it resumes by
 * itself at this moderator's next sign-in in this browser. What is kept (localStorage, per
 * signed-in member) is only whom the sharing was for: staff ids, no key and no case.
 */
const key = (me: string) => `awaaz.grants-unfinished.${me}`;

function read(me: string): string[] {
  try {
    const ids: unknown = JSON.parse(localStorage.getItem(key(me)) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** Notes that sharing with `target` started (`unfinished`) or ended. */
export function noteGrants(me: string, target: string, unfinished: boolean): void {
  const ids = read(me).filter((id) => id !== target);
  if (unfinished) ids.push(target);
  if (ids.length) localStorage.setItem(key(me), JSON.stringify(ids));
  else localStorage.removeItem(key(me));
}

/** The colleagues whose sharing this member started and did not finish. */
export const unfinishedGrants = (me: string): string[] => read(me);
