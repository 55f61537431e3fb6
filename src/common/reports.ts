/** What a visitor may report a hosted image for; `copyright` is a takedown notice (DMCA and the like). */
export const REPORT_REASONS = ["illegal", "sexual", "violence", "harassment", "privacy", "spam", "copyright", "other"] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
