/** How long a proof-of-work or login challenge may be answered. */
export const CHALLENGE_LIFETIME_MS = 5 * 60_000;
