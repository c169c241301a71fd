/**
 * Live updates without a reload: asks the server again every LIVE_INTERVAL_MS while the page
 * is visible (polling: same-origin fetches the CSP already allows, a few requests a minute
 * against a limit of hundreds), pauses while the tab is hidden, and asks at once when it is
 * shown again. A failed round is retried at the next one; a session that has ended stops it.
 */
import { ApiFailure } from './api';

export const LIVE_INTERVAL_MS = 20_000;

export function startLiveUpdates(tick: () => Promise<void>, onEnded: (e: ApiFailure) => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let stopped = false;

  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && !document.hidden) timer = setTimeout(() => void round(), LIVE_INTERVAL_MS);
  };
  async function round(): Promise<void> {
    if (running || stopped || document.hidden) return;
    running = true;
    try {
      await tick();
    } catch (e) {
      if (e instanceof ApiFailure && (e.status === 401 || e.status === 403)) {
        stop();
        onEnded(e);
      }
    } finally {
      running = false;
      schedule();
    }
  }
  const onVisibility = () => (document.hidden ? clearTimeout(timer) : void round());
  function stop(): void {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  }
  document.addEventListener('visibilitychange', onVisibility);
  schedule();
  return stop;
}
