/**
 * Closed lists of values that survivors choose from and that may be disclosed (contexts for
 * the public wall and statistics, provinces for statistics) and the statuses a case or a
 * publication draft moves through. Their labels are the catalogs' messages. No zod here, so
 * survivor pages can import it without bundling the validators.
 */
export const CONTEXT_VALUES = ['workplace', 'family', 'education', 'online', 'public_place', 'other'] as const;
export type Context = (typeof CONTEXT_VALUES)[number];
/** A case's statuses: the one list (protocol/api.ts's CaseStatus schema is built from it). */
export const STATUS_VALUES = ['new', 'in_review', 'waiting_for_survivor', 'closed'] as const;
/** Pakistan's provinces and territories, and "elsewhere": coarse enough to disclose in statistics. */
export const PROVINCE_VALUES = [
  'punjab',
  'sindh',
  'khyber_pakhtunkhwa',
  'balochistan',
  'islamabad',
  'gilgit_baltistan',
  'azad_kashmir',
  'elsewhere',
] as const;
export type Province = (typeof PROVINCE_VALUES)[number];
/** The earliest year a survivor can disclose for statistics; earlier years are grouped under it. */
export const FIRST_STATISTICS_YEAR = 1980;
/**
 * A draft's life: proposed to the survivor, changes asked for, approved (consent signed),
 * published, revoked by the survivor, or superseded by a newer draft.
 */
export const DRAFT_STATUS_VALUES = [
  'proposed',
  'changes_requested',
  'approved',
  'published',
  'revoked',
  'superseded',
  'taken_down',
] as const;
export type DraftStatus = (typeof DRAFT_STATUS_VALUES)[number];
/** What the survivor's page sends to confirm "delete everything" (the API refuses anything else). */
export const DELETE_EVERYTHING_CONFIRMATION = 'delete everything';
