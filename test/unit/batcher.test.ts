/** The group-commit queue (server/db/batcher.ts), with a stand-in batch function that records what it was given. */
import { accepted, Batcher, refused, type Outcome } from '../../server/db/batcher';

/** A batch function whose runs are recorded, and which the test finishes by hand. */
function recorder() {
  const runs: number[][] = [];
  const finish: (() => void)[] = [];
  const batcher = new Batcher<number, number>(
    (items) =>
      new Promise<Outcome<number>[]>((resolve) => {
        runs.push(items);
        finish.push(() => resolve(items.map((n) => (n < 0 ? refused(new Error(`negative: ${n}`)) : accepted(n * 10)))));
      }),
    3,
  );
  return { runs, finish, batcher };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('items queued in the same turn go together, and each gets its own outcome', async () => {
  const { runs, finish, batcher } = recorder();
  const results = Promise.allSettled([batcher.run(1), batcher.run(-2), batcher.run(3)]);
  await turn();
  expect(runs).toEqual([[1, -2, 3]]);
  finish[0]();
  const settled = await results;
  expect(settled[0]).toEqual({ status: 'fulfilled', value: 10 });
  expect(settled[1]).toMatchObject({ status: 'rejected', reason: new Error('negative: -2') });
  expect(settled[2]).toEqual({ status: 'fulfilled', value: 30 });
});

test('items that arrive while a batch runs wait for it, then go together, at most maxItems at a time', async () => {
  const { runs, finish, batcher } = recorder();
  const first = batcher.run(1);
  await turn();
  const later = [2, 3, 4, 5].map((n) => batcher.run(n));
  await turn();
  expect(runs).toEqual([[1]]);
  finish[0]();
  expect(await first).toBe(10);
  await turn();
  expect(runs).toEqual([[1], [2, 3, 4]]);
  finish[1]();
  await turn();
  expect(runs).toEqual([[1], [2, 3, 4], [5]]);
  finish[2]();
  expect(await Promise.all(later)).toEqual([20, 30, 40, 50]);
});

test('a batch that throws is tried again item by item, so only the item that fails is refused', async () => {
  const runs: number[][] = [];
  const batcher = new Batcher<number, number>((items) => {
    runs.push(items);
    if (items.includes(13)) return Promise.reject(new Error('13 spoils its batch'));
    return Promise.resolve(items.map((n) => accepted(n)));
  });
  const settled = await Promise.allSettled([batcher.run(1), batcher.run(13), batcher.run(2)]);
  expect(runs).toEqual([[1, 13, 2], [1], [13], [2]]);
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  // and the queue keeps working afterwards
  expect(await batcher.run(7)).toBe(7);
});
