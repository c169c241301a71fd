/**
 * What every page says when its scripts cannot run (Tor Browser's Safest level), in English
 * and Urdu. Only the build writes these into the pages' HTML (server/http/html.ts
 * noscriptNotice, {{noscript}}); no script shows them, so they stay out of the script catalogs
 * and cost the survivor pages' budget only once per page. The safety page's own text on Tor
 * Browser's levels is in en.ts and ur.ts (safety.tor*).
 */
export const NOSCRIPT_KEYS = ['noscript.needs', 'noscript.how', 'noscript.why'] as const;
export type NoscriptMessageKey = (typeof NOSCRIPT_KEYS)[number];

export const noscriptEn: Record<NoscriptMessageKey, string> = {
  'noscript.needs': '**This page needs JavaScript: in Tor Browser, the Safer or Standard security level, not Safest.**',
  'noscript.how': 'To change it: the shield icon → Settings → Security Level → “Safer” or “Standard”.',
  'noscript.why': 'Its scripts encrypt your words on your own device before they leave it.',
};

export const noscriptUr: Record<NoscriptMessageKey, string> = {
  'noscript.needs': '**اس صفحے کو جاوا اسکرپٹ چاہیے: ٹور براؤزر میں Safer یا Standard سیکیورٹی لیول، Safest نہیں۔**',
  'noscript.how': 'لیول بدلنے کے لیے: شیلڈ کے نشان پر کلک کریں، پھر Settings، پھر Security Level، پھر Safer یا Standard۔',
  'noscript.why': 'اس کے اسکرپٹ آپ کے الفاظ، آپ کے فون یا کمپیوٹر سے باہر جانے سے پہلے، وہیں انکرپٹ کرتے ہیں۔',
};
