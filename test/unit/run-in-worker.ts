/**
 * Runs a job of envelope-jobs.ts in a worker thread, outside jest's vm context (where tweetnacl
 * is ~8x slower, see envelope-jobs.ts). The worker runs the same TypeScript sources, bundled
 * with esbuild (a devDependency) instead of transpiled by ts-jest.
 */
import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Jobs } from './envelope-jobs';

let bundle: string | undefined;

function workerCode(): string {
  bundle ??= buildSync({
    entryPoints: [join(__dirname, 'envelope-jobs.worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  }).outputFiles[0].text;
  return bundle;
}

export function runInWorker<K extends keyof Jobs>(job: K, input: Parameters<Jobs[K]>[0]): Promise<ReturnType<Jobs[K]>> {
  const worker = new Worker(workerCode(), { eval: true, workerData: { job, input } });
  return new Promise<ReturnType<Jobs[K]>>((resolve, reject) => {
    worker.once('message', (m: { ok: true; result: ReturnType<Jobs[K]> } | { ok: false; error: string }) => {
      if (m.ok) resolve(m.result);
      else reject(new Error(`worker job ${job} failed: ${m.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before answering`)));
  }).finally(() => void worker.terminate());
}
