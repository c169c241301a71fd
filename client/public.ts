/**
 * The public pages (/stories, a story, /stats) are drawn by the server; survivor-base.js
 * gives them the language switch and quick exit. This script brings the pages' own messages
 * (i18n/public.ts), so survivor-base.js need not carry them; it runs blocking in the head,
 * after survivor-base.js and before the body is translated (scripts/build.mjs BLOCKING_PAGES).
 */
import { publicEn, publicUr } from '../i18n/public';
import { addMessages } from './lib/i18n';

addMessages({ en: publicEn, ur: publicUr });
