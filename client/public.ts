/**
 * The public pages (/stories, a story, /stats) are drawn by the server; survivor-base.js
 * gives them the language switch and quick exit. This entry has nothing more to do, and is
 * kept so every page has its own script, as the others do.
 */
export {};
