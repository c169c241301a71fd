/**
 * How a lazy language's catalog travels: only its values, in the order of en.ts's keys. The
 * keys already ship with English in survivor-base.js, so sending them again would cost an Urdu
 * reader about 1.5 KB gzipped for nothing. Both ends read the same en.ts of the same build, and
 * the catalog's integrity hash ties it to that build; a catalog of the wrong length is refused.
 */
import { en, type Catalog } from './en';

/** Taken once, before any script adds messages to the English object (client/lib/i18n.ts addMessages). */
const KEYS = Object.keys(en) as (keyof Catalog)[];

export function packCatalog(catalog: Catalog): string[] {
  return KEYS.map((key) => catalog[key]);
}

/** The catalog back from its values, or undefined if they are not one value (a string) per key. */
export function unpackCatalog(values: unknown): Catalog | undefined {
  if (!Array.isArray(values) || values.length !== KEYS.length || !values.every((v) => typeof v === 'string')) return undefined;
  return Object.fromEntries(KEYS.map((key, i) => [key, values[i]])) as Catalog;
}
