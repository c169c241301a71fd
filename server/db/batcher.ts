/**
 * Group commit: requests that arrive while the database is busy share the next round trip.
 *
 * `run(item)` queues an item and answers with its own outcome. The first item waits one turn of
 * the event loop (setImmediate), so that the requests that arrived together go together; while
 * a batch is in the database, new items queue, and the next batch takes them all (up to
 * `maxItems`) as soon as it is back. An idle server therefore answers a lone request at once,
 * and a busy one pays one transaction, one commit and one round trip per statement for many
 * requests instead of for each (bench/README.md, issue 14).
 *
 * `runBatch` answers one outcome per item, in order: a value, or the error that item alone
 * deserves. If it throws instead, every item of the batch is tried again alone (a batch of
 * one), so that one item's unexpected failure (a constraint, a deadlock between instances)
 * fails that item only.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export const accepted = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const refused = <T>(error: unknown): Outcome<T> => ({ ok: false, error });

interface Waiting<In, Out> {
  item: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

export class Batcher<In, Out> {
  private queue: Waiting<In, Out>[] = [];
  private draining = false;

  constructor(
    private readonly runBatch: (items: In[]) => Promise<Outcome<Out>[]>,
    private readonly maxItems = 64,
  ) {}

  run(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxItems);
      let outcomes: Outcome<Out>[];
      try {
        outcomes = await this.runBatch(batch.map((w) => w.item));
      } catch (error) {
        if (batch.length === 1) {
          batch[0].reject(error);
          continue;
        }
        outcomes = await Promise.all(batch.map((w) => this.runAlone(w.item)));
      }
      batch.forEach((w, i) => {
        const outcome = outcomes[i];
        if (outcome.ok) w.resolve(outcome.value);
        else w.reject(outcome.error);
      });
    }
    this.draining = false;
  }

  private async runAlone(item: In): Promise<Outcome<Out>> {
    try {
      const [outcome] = await this.runBatch([item]);
      return outcome;
    } catch (error) {
      return refused(error);
    }
  }
}
