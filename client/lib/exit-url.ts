/**
 * Where "Quick exit" goes when the server has not (yet) said otherwise. It must equal the
 * server's default QUICK_EXIT_URL (server/config.ts; test/unit/safety-config.test.ts checks
 * it) and the href of the quick-exit link in client/pages/partials/header.html, so that the
 * button works before any request has answered, and without JavaScript.
 */
export const DEFAULT_QUICK_EXIT_URL = 'https://weather.com/';

/** Only plain web pages: never javascript:, data: or a relative path back into Awaaz. */
export function isExitUrl(url: unknown): url is string {
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:';
  } catch {
    return false;
  }
}
