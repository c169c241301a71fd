/**
 * Erasures in batches (the sweeper's stale uploads and retention): each transaction erases a
 * bounded amount, so that on SQLite, whose one connection a transaction holds, requests
 * waiting for it are served between batches.
 */

/** What one batch erased, and whether more was left for the next. */
export interface Erased {
  erased: number;
  more: boolean;
}

/**
 * One batch out of `found` (read in order, `max + 1` of them at most, so that `more` can be
 * told): at most `max` ids, and beyond the first, no more than `budget` bytes in all. The
 * first is always taken, whatever its size: what it stands for is erased whole.
 */
export function batchWithin(
  found: { id: string; bytes: number | string }[],
  max: number,
  budget: number,
): { ids: string[]; more: boolean } {
  const ids: string[] = [];
  let bytes = 0;
  for (const row of found.slice(0, max)) {
    if (ids.length > 0 && bytes + Number(row.bytes) > budget) break;
    ids.push(row.id);
    bytes += Number(row.bytes);
  }
  return { ids, more: ids.length < found.length };
}
