/**
 * The values a testimony stores for "where" and the statuses a case moves through. Their
 * labels are the catalogs' context.* and status.* messages. DOM-free, so tests can import it.
 */
export const CONTEXT_VALUES = ['workplace', 'family', 'education', 'online', 'public_place', 'other'] as const;
export type Context = (typeof CONTEXT_VALUES)[number];
export const STATUS_VALUES = ['new', 'in_review', 'waiting_for_survivor', 'closed'] as const;
