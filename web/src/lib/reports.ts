/**
 * Checks on the reports of the tools that have their own result view: a report that does not have
 * the expected shape (an older server, another version) falls back to the plain list of facts.
 */
import type { NsfwResult } from "$common/nsfw.js";
import { NSFW_CLASSES } from "$common/nsfw.js";
import type { OcrResult } from "$common/tools/ocr.js";

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const isBox = (value: unknown): boolean => isObject(value) && ["x0", "y0", "x1", "y1"].every((k) => typeof value[k] === "number");

const isTextBox = (value: unknown): boolean =>
  isObject(value) && typeof value.text === "string" && typeof value.confidence === "number" && isBox(value.bbox);

export function isOcrReport(report: unknown): report is OcrResult {
  return (
    isObject(report) &&
    typeof report.text === "string" &&
    typeof report.confidence === "number" &&
    Array.isArray(report.words) &&
    Array.isArray(report.lines) &&
    report.words.every(isTextBox) &&
    report.lines.every(isTextBox)
  );
}

export function isNsfwReport(report: unknown): report is NsfwResult {
  return (
    isObject(report) &&
    typeof report.label === "string" &&
    (NSFW_CLASSES as readonly string[]).includes(report.label) &&
    typeof report.score === "number" &&
    isObject(report.scores) &&
    NSFW_CLASSES.every((name) => typeof (report.scores as Record<string, unknown>)[name] === "number")
  );
}
