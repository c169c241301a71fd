/** Worker-thread entry for envelope-jobs.ts (bundled by run-in-worker.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { jobs, type Jobs } from './envelope-jobs';

const { job, input } = workerData as { job: keyof Jobs; input: never };
try {
  parentPort!.postMessage({ ok: true, result: (jobs[job] as (i: unknown) => unknown)(input) });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) });
}
