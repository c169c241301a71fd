/** Benchmark knobs from the environment: a whole number at least `min`, or the default. */
export function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name} must be an integer >= ${min} (got "${raw}")`);
    process.exit(2);
  }
  return n;
}
