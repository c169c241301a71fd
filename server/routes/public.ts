/**
 * What the public sees: the wall of published stories (/stories, filterable by context), each
 * story's page under its unlinkable alias, an Atom feed, and statistics of what survivors
 * chose to disclose. Drawn on the server, so they work without JavaScript (Tor Browser's
 * safest level); no third-party request, charts in SVG.
 *
 * A withdrawn story's address answers 410 Gone at once; one taken down by staff, 410 with their reason. Nothing here may be cached
 * (Cache-Control: no-store, set for every response in app.ts) or archived (X-Robots-Tag).
 */
import { Router, type Request, type Response } from 'express';
import { CONTEXT_VALUES, PROVINCE_VALUES } from '../../protocol';
import { schemas } from '../../protocol/api';
import type { AppContext } from '../app';
import { STORIES_PAGE_SIZE, type StorySummary } from '../db/publishing-repo';
import { HttpError } from '../http/errors';
import { escapeHtml, html, msgHtml, pageMessages, publicPageRenderer, trusted, type Html, type PageMessageKey } from '../http/html';
import { sendHtml } from '../http/static';
import { parseWith } from '../http/validate';

/** No published figure is below this (DESIGN: small counts could single someone out). */
export const SMALLEST_SHOWN_COUNT = 5;
const FEED_SIZE = 50;
const EXCERPT_CHARS = 280;
const PAGES_LABEL: PageMessageKey = 'wall.pages';

export type Cell = { key: string; count: number };

/**
 * Small-count suppression: a category counted fewer than 5 times is left out of its chart
 * altogether, label and all (a row that says "not shown" would still tell that someone
 * chose it). Where exactly one category is left out, the smallest shown one goes too, so the
 * missing one cannot be worked out from a total (the month chart counts everyone, so it
 * gives away the other charts' totals whenever every survivor disclosed that field).
 * Returns only the rows to show.
 */
export function suppressSmallCounts(counts: Record<string, number>): Cell[] {
  const cells = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([key, n]) => ({ key, count: n, hidden: n < SMALLEST_SHOWN_COUNT }));
  if (cells.filter((c) => c.hidden).length === 1) {
    const smallest = cells.filter((c) => !c.hidden).sort((a, b) => a.count - b.count || a.key.localeCompare(b.key))[0];
    if (smallest) smallest.hidden = true;
  }
  return cells.filter((c) => !c.hidden).map(({ key, count }) => ({ key, count }));
}

function noArchive(res: Response): void {
  res.setHeader('X-Robots-Tag', 'noindex, noarchive');
}

const contextLabel = (context: string) => msgHtml('span', `context.${context}` as PageMessageKey);

function storyMeta(s: StorySummary): Html {
  return html`<p class="hint story-meta">${msgHtml('span', 'wall.storyMeta', { alias: s.alias, month: s.month })} · ${contextLabel(s.context)}</p>`;
}

/** Paragraphs as the survivor wrote them (blank lines), each in its own direction. */
function paragraphs(text: string): Html {
  return html`${text
    .split(/\n\s*\n/)
    .filter((p) => p.trim())
    .map((p) => html`<p class="text" dir="auto">${p.trim()}</p>`)}`;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= EXCERPT_CHARS ? flat : flat.slice(0, EXCERPT_CHARS).replace(/\s+\S*$/, '') + '…';
}

function atomDate(month: string): string {
  return `${month}-01T00:00:00Z`;
}
const xml = (s: string) => escapeHtml(s);

export function publicRoutes(ctx: AppContext, clientDir: string): Router {
  const router = Router();
  const { publishing } = ctx.repos;
  const page = publicPageRenderer(clientDir);

  function send(req: Request, res: Response, status: number, title: PageMessageKey, main: Html, head?: Html): void {
    const body = page(title, main, head);
    if (body === undefined) throw new HttpError(503, 'not_built', 'the pages are not built; run `npm run build`');
    noArchive(res);
    sendHtml(req, res, status, body);
  }
  const feedLink = html`<link rel="alternate" type="application/atom+xml" href="/stories/feed.atom" title="Awaaz">`;

  router.get('/stories', async (req, res) => {
    const query = parseWith(schemas.storiesQuery, req.query, 'query');
    const { stories, total } = await publishing.listStories(query);
    const pages = Math.max(1, Math.ceil(total / STORIES_PAGE_SIZE));
    const link = (p: number, context = query.context) =>
      `/stories?${new URLSearchParams({ ...(context ? { context } : {}), ...(p > 1 ? { page: String(p) } : {}) }).toString()}`.replace(
        /\?$/,
        '',
      );
    const filters = html`<nav aria-labelledby="filter-label" class="filters">${msgHtml('p', 'wall.filter', {}, { id: 'filter-label' })}<ul class="links">
      <li><a href="/stories" ${query.context ? '' : trusted('aria-current="page"')}>${msgHtml('span', 'wall.all')}</a></li>
      ${CONTEXT_VALUES.map((c) => html`<li><a href="${link(1, c)}" ${query.context === c ? trusted('aria-current="page"') : ''}>${contextLabel(c)}</a></li>`)}
    </ul></nav>`;
    const list = stories.length
      ? html`<ol class="stories">${stories.map(
          (s) => html`<li><article class="story-card">
            <h2><a href="/stories/${s.alias}" dir="auto">${s.title}</a></h2>
            ${storyMeta(s)}
            <p dir="auto">${excerpt(s.text)}</p>
          </article></li>`,
        )}</ol>`
      : msgHtml('p', query.context ? 'wall.noneHere' : 'wall.none');
    const nav =
      pages > 1
        ? html`<nav class="pager" aria-label="${pageMessages[PAGES_LABEL]}" data-i18n-attr="aria-label:${PAGES_LABEL}"><ul class="links">
        ${query.page > 1 ? html`<li><a rel="prev" href="${link(query.page - 1)}">${msgHtml('span', 'wall.newer')}</a></li>` : ''}
        <li>${msgHtml('span', 'wall.pageOf', { page: query.page, pages })}</li>
        ${query.page < pages ? html`<li><a rel="next" href="${link(query.page + 1)}">${msgHtml('span', 'wall.older')}</a></li>` : ''}
      </ul></nav>`
        : '';
    send(
      req,
      res,
      200,
      'wall.title',
      html`${msgHtml('h1', 'wall.heading')}${msgHtml('p', 'wall.intro')}${msgHtml('p', 'wall.feed', {}, { class: 'hint' })}${filters}${list}${nav}`,
      feedLink,
    );
  });

  router.get('/stories/feed.atom', async (_req, res) => {
    const { stories } = await publishing.listStories({ page: 1 });
    const base = ctx.config.publicUrl;
    const entries = stories.slice(0, FEED_SIZE).map(
      (s) => `  <entry>
    <title>${xml(s.title)}</title>
    <id>${xml(`${base}/stories/${s.alias}`)}</id>
    <link href="${xml(`${base}/stories/${s.alias}`)}"/>
    <updated>${atomDate(s.month)}</updated>
    <category term="${xml(s.context)}"/>
    <content type="text">${xml(s.text)}</content>
  </entry>`,
    );
    const updated = stories[0] ? atomDate(stories[0].month) : '1970-01-01T00:00:00Z';
    noArchive(res);
    res.type('application/atom+xml; charset=utf-8').send(`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>${xml(pageMessages['wall.feedTitle'])}</title>
  <id>${xml(`${base}/stories`)}</id>
  <link rel="self" href="${xml(`${base}/stories/feed.atom`)}"/>
  <link href="${xml(`${base}/stories`)}"/>
  <author><name>Awaaz</name></author>
  <updated>${updated}</updated>
${entries.join('\n')}
</feed>
`);
  });

  router.get('/stories/:alias', async (req, res) => {
    const param = String(req.params.alias);
    const alias = /^[a-z2-9]{10}$/.test(param) ? param : undefined;
    const found = alias ? await publishing.story(alias) : undefined;
    if (!found)
      return send(req, res, 404, 'wall.missingTitle', html`${msgHtml('h1', 'wall.missingTitle')}${msgHtml('p', 'wall.backToWall')}`);
    if (found.state === 'gone' && found.takedownReason !== null)
      return send(
        req,
        res,
        410,
        'wall.takenDownTitle',
        html`${msgHtml('h1', 'wall.takenDownTitle')}${msgHtml('p', 'wall.takenDownText')}<blockquote class="takedown-reason" dir="auto">${paragraphs(found.takedownReason)}</blockquote>${msgHtml('p', 'wall.backToWall')}`,
      );
    if (found.state === 'gone')
      return send(
        req,
        res,
        410,
        'wall.goneTitle',
        html`${msgHtml('h1', 'wall.goneTitle')}${msgHtml('p', 'wall.goneText')}${msgHtml('p', 'wall.backToWall')}`,
      );
    const s = found.story;
    send(
      req,
      res,
      200,
      'wall.storyTitle',
      html`<article class="story"><h1 dir="auto">${s.title}</h1>${storyMeta(s)}${paragraphs(s.text)}</article>${msgHtml('p', 'wall.consentNote', {}, { class: 'notice' })}${msgHtml('p', 'wall.backToWall')}`,
      feedLink,
    );
  });

  router.get('/stats', async (req, res) => {
    const counts = await publishing.statistics();
    const chart = (heading: PageMessageKey, cells: Cell[], label: (key: string) => Html | string, id: string) => {
      if (cells.length === 0)
        return html`<section aria-labelledby="${id}">${msgHtml('h2', heading, {}, { id })}${msgHtml('p', 'stats.noData')}</section>`;
      const max = Math.max(1, ...cells.map((c) => c.count));
      return html`<section aria-labelledby="${id}">${msgHtml('h2', heading, {}, { id })}
        <table class="chart"><tbody>${cells.map(
          (c) => html`<tr><th scope="row">${label(c.key)}</th>
            <td class="bar">${trusted(`<svg viewBox="0 0 100 10" preserveAspectRatio="none" width="100%" height="16" aria-hidden="true" focusable="false"><rect x="0" y="0" height="10" width="${((c.count / max) * 100).toFixed(1)}" fill="currentColor"/></svg>`)}</td>
            <td class="count">${c.count}</td></tr>`,
        )}</tbody></table></section>`;
    };
    const byKey = (order: readonly string[]) => (a: Cell, b: Cell) => order.indexOf(a.key) - order.indexOf(b.key);
    const months = suppressSmallCounts(counts.byMonth).sort((a, b) => a.key.localeCompare(b.key));
    const contexts = suppressSmallCounts(counts.byContext).sort(byKey(CONTEXT_VALUES));
    const provinces = suppressSmallCounts(counts.byProvince).sort(byKey(PROVINCE_VALUES));
    const years = suppressSmallCounts(counts.byYear).sort((a, b) => a.key.localeCompare(b.key));
    send(
      req,
      res,
      200,
      'stats.title',
      html`${msgHtml('h1', 'stats.heading')}${msgHtml('p', 'stats.intro', { n: SMALLEST_SHOWN_COUNT })}
        ${chart('stats.byContext', contexts, (k) => contextLabel(k), 'chart-context')}
        ${chart('stats.byMonth', months, (k) => html`<span dir="ltr">${k}</span>`, 'chart-month')}
        ${chart('stats.byProvince', provinces, (k) => msgHtml('span', `province.${k}` as PageMessageKey), 'chart-province')}
        ${chart('stats.byYear', years, (k) => html`<span dir="ltr">${k}</span>`, 'chart-year')}`,
    );
  });

  return router;
}
