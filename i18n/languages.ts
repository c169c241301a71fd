/**
 * The languages of the survivor pages. English is the default: its messages ship in
 * survivor-base.js and as the HTML's no-JavaScript text. Every other language is one lazy asset
 * (assets/catalog-<lang>.js, written by scripts/build.mjs from lazy-catalogs.ts) that
 * client/lib/i18n.ts loads under its integrity hash only for a reader who chooses that
 * language, so a further language costs the survivor pages' budget nothing up front.
 * Kept apart from the catalogs, so that code which only needs the list imports no messages.
 */
export const LANGS = ['en', 'ur'] as const;
export type Lang = (typeof LANGS)[number];
export const DEFAULT_LANG = 'en' satisfies Lang;
/** A language loaded on demand: every one but the default. */
export type LazyLang = Exclude<Lang, typeof DEFAULT_LANG>;

/** Written right to left. */
export const RTL: Record<Lang, boolean> = { en: false, ur: true };

export function isLang(v: string): v is Lang {
  return (LANGS as readonly string[]).includes(v);
}

/** Where a lazy language's catalog is served (scripts/build.mjs writes it; bench/page-size.ts keeps it out of the page budget). */
export function catalogAssetPath(lang: LazyLang): string {
  return `/assets/catalog-${lang}.js`;
}
