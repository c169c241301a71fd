/**
 * The values a testimony stores for "where" and the statuses a case moves through. Their
 * labels are the catalogs' context.* and status.* messages. DOM-free, so tests can import it.
 * The lists live in protocol/values.ts because the server validates disclosed values too.
 */
export {
  CONTEXT_VALUES,
  STATUS_VALUES,
  PROVINCE_VALUES,
  DRAFT_STATUS_VALUES,
  FIRST_STATISTICS_YEAR,
  type Context,
  type Province,
  type DraftStatus,
} from '../../protocol/values';
