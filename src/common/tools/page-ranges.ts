/** "all", or page numbers and ranges from 1 ("1-3,5", "4-" to the end), checked before the page count is known. */
export const PAGE_SELECTION = /^\s*(?:all|[1-9]\d{0,5}\s*(?:-\s*(?:[1-9]\d{0,5})?\s*)?(?:,\s*[1-9]\d{0,5}\s*(?:-\s*(?:[1-9]\d{0,5})?\s*)?)*)\s*$/;

/** Whether every closed range of a selection runs upwards ("3-1" does not). */
export function rangesAscend(text: string): boolean {
  return [...text.matchAll(/(\d+)\s*-\s*(\d+)/g)].every((m) => Number(m[2]) >= Number(m[1]));
}

/**
 * Parses a page selection such as "1-3,5" or "all" into 1-based page numbers, in the order given,
 * each once. Returns null when the text is malformed or names a page past `pageCount`; the open
 * range "4-" runs to the last page. Stops once more than `limit` pages are chosen, so a caller
 * enforcing a cap sees that it was exceeded without a huge list being built.
 */
export function parsePageRanges(text: string, pageCount: number, limit = Number.MAX_SAFE_INTEGER): number[] | null {
  const trimmed = text.trim().toLowerCase();
  if (!Number.isSafeInteger(pageCount) || pageCount <= 0) return null;
  if (trimmed === "all") return range(1, Math.min(pageCount, limit + 1));
  const pages = new Set<number>();
  for (const part of trimmed.split(",")) {
    const match = /^\s*(\d{1,6})\s*(?:(-)\s*(\d{1,6})?)?\s*$/.exec(part);
    if (!match) return null;
    const from = Number(match[1]);
    const to = match[2] ? (match[3] ? Number(match[3]) : pageCount) : from;
    if (from < 1 || to < from || to > pageCount) return null;
    for (let page = from; page <= to && pages.size <= limit; page++) pages.add(page);
  }
  return [...pages];
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
