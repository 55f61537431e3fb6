/** The dashboard's API: the account's images, jobs and statistics (src/http/account.ts), and claiming. */
import type { JobJson } from "$common/api/jobs.js";
import type { NsfwResult } from "$common/nsfw.js";
import { accountCall } from "./account.svelte.js";
import { jobHistory } from "./job-history.svelte.js";
import { readOwned } from "./storage.js";

export interface MyImage {
  id: string;
  url: string;
  rawUrl: string;
  thumbUrl: string;
  width: number;
  height: number;
  bytes: number;
  mime: string;
  views: number;
  createdAt: string;
  nsfw: NsfwResult | null;
  originalName: string | null;
}

export interface MyJob extends JobJson {
  downloads: number;
  secondsLeft: number | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface MyStats {
  jobsPerTool: { tool: string; succeeded: number; failed: number; other: number }[];
  images: number;
  storageBytes: number;
}

export const PAGE_SIZE = 20;

const pageQuery = (cursor: string | null) => `?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;

export const myImages = (cursor: string | null) => accountCall<Page<MyImage>>("GET", `/api/v1/me/images${pageQuery(cursor)}`);
export const myJobs = (cursor: string | null) => accountCall<Page<MyJob>>("GET", `/api/v1/me/jobs${pageQuery(cursor)}`);
export const myStats = () => accountCall<MyStats>("GET", "/api/v1/me/stats");
export const deleteMyImages = (ids: string[]) => accountCall<{ deleted: string[]; notFound: string[] }>("DELETE", "/api/v1/me/images", { ids });
export const deleteMyJob = (id: string) => accountCall<void>("DELETE", `/api/v1/me/jobs/${encodeURIComponent(id)}`);

// Items this browser offered for claiming already (claimed, or the offer declined): never offered twice.
const HANDLED_KEY = "pixhaven.claimHandled";

function handled(): Set<string> {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(HANDLED_KEY) ?? "[]");
    return new Set(Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : []);
  } catch {
    return new Set();
  }
}

function markHandled(ids: string[]): void {
  try {
    localStorage.setItem(HANDLED_KEY, JSON.stringify([...new Set([...handled(), ...ids])]));
  } catch {
    // Without storage the offer simply comes back; claiming twice changes nothing.
  }
}

/** The server takes at most this many of each kind per claim. */
const MAX_CLAIM = 500;

export interface Claimable {
  images: { id: string; deleteToken: string }[];
  jobs: { id: string; deleteToken: string }[];
}

/** What this browser made anonymously and could move into the account: its deletion tokens prove it. */
export function claimable(alreadyMine: Set<string>): Claimable {
  const done = handled();
  const keep = (id: string) => !done.has(id) && !alreadyMine.has(id);
  return {
    images: (readOwned() ?? []).filter((e) => keep(e.id)).slice(0, MAX_CLAIM).map(({ id, deleteToken }) => ({ id, deleteToken })),
    jobs: jobHistory.newestFirst.filter((e) => keep(e.id)).slice(0, MAX_CLAIM).map(({ id, deleteToken }) => ({ id, deleteToken })),
  };
}

export async function claim(items: Claimable): Promise<{ images: string[]; jobs: string[] }> {
  const result = await accountCall<{ images: string[]; jobs: string[] }>("POST", "/api/v1/me/claim", items);
  markHandled([...items.images.map((i) => i.id), ...items.jobs.map((j) => j.id)]);
  return result;
}

export const declineClaim = (items: Claimable) => markHandled([...items.images.map((i) => i.id), ...items.jobs.map((j) => j.id)]);
