/**
 * A settings mistake found by a tool's shared spec (zod), worded from the catalogue: the spec's
 * own messages are for the API and the CLI, in English.
 */
import { t } from "./i18n/index.svelte.js";

/** The form label of each setting a device tool page offers. */
const LABELS = {
  quality: "device.quality",
  effort: "device.effort",
  width: "device.width",
  height: "device.height",
  percent: "device.percent",
  background: "device.background",
  format: "device.format",
  preset: "device.preset",
  fit: "device.fit",
  chromaSubsampling: "device.chroma",
} as const;

export interface SettingIssue {
  code: string;
  path: readonly PropertyKey[];
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
}

export function settingProblem(issue: SettingIssue): string {
  const name = String(issue.path[0] ?? "");
  // Resize's one rule across fields: exactly one way of giving the size.
  if (issue.code === "custom" && ["width", "height", "percent", "preset"].includes(name)) return t("device.settingProblems.oneSize");
  const field = name in LABELS ? t(LABELS[name as keyof typeof LABELS]) : name;
  if (issue.code === "too_small" && issue.minimum !== undefined) {
    return t(issue.inclusive === false ? "device.settingProblems.notAbove" : "device.settingProblems.tooSmall", field, String(issue.minimum));
  }
  if (issue.code === "too_big" && issue.maximum !== undefined) return t("device.settingProblems.tooBig", field, String(issue.maximum));
  return t("device.settingProblems.notValid", field);
}
