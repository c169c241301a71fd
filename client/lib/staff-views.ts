/**
 * The workspace's views and their addresses. Each view lists the ids of the page sections it
 * shows; at start the sections are moved into their view's container, so a section added to
 * staff.html later only needs its id listed here (an id the page lacks is skipped). A section
 * no view lists stays where it is, visible in every view.
 *
 * Addresses live in the fragment (#/cases, #/cases/<caseId>, #/publishing/<caseId>, #/team …):
 * the server serves /staff for all of them, nothing after # is sent to it, and each change is
 * a history entry, so Back and Forward move between views and cases.
 */
import type { StaffRole } from '../../protocol';
import { byId, el } from './dom';

export type ViewId = 'cases' | 'publishing' | 'matches' | 'team' | 'audit' | 'account';

export interface StaffView {
  id: ViewId;
  label: string;
  /** roles that may use the view (any of them); 'any' for every member, waiting ones too */
  roles: StaffRole[] | 'any';
  /** the page sections the view shows, by id, in order */
  sections: string[];
  /** laid out as a desk: the list and the open item side by side on a wide screen */
  desk?: boolean;
}

export const VIEWS: StaffView[] = [
  { id: 'cases', label: 'Cases', roles: ['moderator'], sections: ['inbox-panel', 'case-panel'], desk: true },
  {
    id: 'publishing',
    label: 'Publishing',
    roles: ['moderator', 'advocate'],
    sections: ['publishing-panel', 'publishing-case'],
    desk: true,
  },
  { id: 'matches', label: 'Matches', roles: ['matching_counselor'], sections: ['matching-panel'] },
  { id: 'team', label: 'Team', roles: ['admin'], sections: ['admin-panel', 'settings-panel', 'retention-panel', 'takedown-panel'] },
  { id: 'audit', label: 'Audit', roles: ['admin'], sections: ['audit-panel'] },
  { id: 'account', label: 'Account', roles: 'any', sections: ['account-panel', 'alerts-panel'] },
];

/** Where the page is: a view, and the case open in it, if any. */
export interface Place {
  view: ViewId;
  caseId?: string;
}

export function placeOf(hash: string): Place | undefined {
  const match = /^#\/([a-z]+)(?:\/([A-Za-z0-9_-]{1,64}))?$/.exec(hash);
  const view = VIEWS.find((v) => v.id === match?.[1]);
  if (!match || !view) return undefined;
  return { view: view.id, caseId: match[2] };
}

export function addressOf(place: Place): string {
  return `#/${place.view}${place.caseId ? `/${place.caseId}` : ''}`;
}

export function viewsFor(roles: StaffRole[], active: boolean): StaffView[] {
  return VIEWS.filter((v) => (v.roles === 'any' ? true : active && v.roles.some((r) => roles.includes(r))));
}

/** Puts every listed section into its view's container (once; sections already placed stay). */
export function placeSections(): void {
  const workspace = byId('views');
  for (const view of VIEWS) {
    let container = document.getElementById(`view-${view.id}`);
    if (!container) {
      container = el('div', { className: view.desk ? 'view desk' : 'view', attrs: { id: `view-${view.id}`, 'data-view': view.id } });
      container.hidden = true;
      workspace.append(container);
    }
    for (const id of view.sections) {
      const section = document.getElementById(id);
      if (section && section.parentElement !== container) container.append(section);
    }
  }
}

/** The navigation: one link per view this member may use; `count` cells are filled by whoever counts. */
export function renderNavigation(views: StaffView[]): void {
  const nav = byId('staff-nav');
  nav.replaceChildren(
    el(
      'ul',
      {},
      views.map((v) =>
        el('li', {}, [
          el('a', { attrs: { href: addressOf({ view: v.id }), 'data-view-link': v.id } }, [
            el('span', { text: v.label }),
            el('span', { className: 'count', attrs: { id: `count-${v.id}`, hidden: '' } }),
            el('span', { className: 'visually-hidden', attrs: { id: `count-${v.id}-words` } }),
          ]),
        ]),
      ),
    ),
  );
  nav.hidden = views.length < 2;
}

/** Shows one view, marks its link as the current page and names it in the title. */
export function showView(id: ViewId): void {
  for (const view of VIEWS) {
    const container = document.getElementById(`view-${view.id}`);
    if (container) container.hidden = view.id !== id;
  }
  for (const link of document.querySelectorAll<HTMLElement>('[data-view-link]')) {
    if (link.dataset.viewLink === id) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const label = VIEWS.find((v) => v.id === id)?.label ?? '';
  document.title = `${label} · Staff · Awaaz`;
}

/** A count beside a view's link ("3", "99+"), or none. */
export function setViewCount(id: ViewId, count: number, capped: boolean, what: string): void {
  const cell = document.getElementById(`count-${id}`);
  if (!cell) return;
  cell.hidden = count === 0;
  cell.textContent = count === 0 ? '' : capped ? `${count}+` : String(count);
  // The number is drawn for the eye; screen readers get it in words, after the link's name.
  cell.setAttribute('aria-hidden', 'true');
  const words = document.getElementById(`count-${id}-words`);
  if (words) words.textContent = count === 0 ? '' : `, ${capped ? `more than ${count}` : count} ${what}`;
}
