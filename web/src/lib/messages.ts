/**
 * The tools pages' texts under the names they had before the catalogue (./i18n): live views of
 * its sections in the current language, so reading them in a template follows a language change.
 * New code calls t("section.key", ...) instead.
 */
import { type Catalogue, messages } from "./i18n/index.svelte.js";
import { formatDuration } from "./format.js";

function section<K extends keyof Catalogue>(name: K): Catalogue[K] {
  return new Proxy({} as Catalogue[K], {
    get: (_target, key) => (messages()[name] as Record<string | symbol, unknown>)[key],
  });
}

export const nav = section("nav");
export const toolPage = section("toolPage");
export const batchText = section("batchText");
export const jobText = section("jobText") as Catalogue["jobText"] & { status: Record<string, string> };
export const compareText = section("compareText");
export const historyText = section("historyText");
export const urlUpload = section("urlUpload");
export const formText = section("formText");
export const paramLabels = section("paramLabels") as Record<string, string>;

// These two took the retention in seconds; the catalogue takes the duration already written out.
const toolsIndexSection = section("toolsIndex");
export const toolsIndex = new Proxy(toolsIndexSection, {
  get: (target, key) =>
    key === "retention" ? (seconds: number) => target.retention(formatDuration(seconds)) : target[key as keyof typeof target],
}) as unknown as Omit<Catalogue["toolsIndex"], "retention"> & { retention(seconds: number): string };
const noticeSection = section("retentionNotice");
export const retentionNotice = new Proxy(noticeSection, {
  get: (target, key) => (key === "body" ? (seconds: number) => target.body(formatDuration(seconds)) : target[key as keyof typeof target]),
}) as unknown as Omit<Catalogue["retentionNotice"], "body"> & { body(seconds: number): string };
