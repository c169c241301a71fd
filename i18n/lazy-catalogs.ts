/**
 * The survivor catalog of each language loaded on demand (languages.ts), as its asset carries
 * it (packing.ts). Read by scripts/build.mjs, which writes each into assets/catalog-<lang>.js,
 * and by the tests; never bundled into a page script, which would put every language in it.
 * The evidence tools' and the public pages' messages (evidence.ts, public.ts) travel with
 * their own scripts, which no survivor page loads up front.
 */
import type { Catalog } from './en';
import type { LazyLang } from './languages';
import { packCatalog } from './packing';
import { ur } from './ur';

export const LAZY_CATALOGS: Record<LazyLang, Catalog> = { ur };

/** What assets/catalog-<lang>.js sets globalThis.AwaazCatalogs[lang] to. */
export function catalogAsset(lang: LazyLang): string[] {
  return packCatalog(LAZY_CATALOGS[lang]);
}
