/** A browser tool's settings, remembered in this browser only (P3): never sent anywhere. */
const KEY = "pixhaven.deviceTools";

export type SavedSettings = Partial<{
  format: "same" | "jpeg" | "png" | "webp" | "avif";
  quality: number | null;
  lossless: boolean;
  effort: number | null;
  chroma: "4:2:0" | "4:4:4";
  background: string;
  sizeBy: "preset" | "size" | "percent";
  preset: import("$common/tools/presets.js").SocialPresetId;
  width: number | null;
  height: number | null;
  percent: number;
  fit: "inside" | "cover" | "fill";
  withoutEnlargement: boolean;
}>;

function readAll(): Record<string, SavedSettings> {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return parsed && typeof parsed === "object" ? (parsed as Record<string, SavedSettings>) : {};
  } catch {
    return {};
  }
}

export function loadSettings(tool: string): SavedSettings {
  return readAll()[tool] ?? {};
}

export function saveSettings(tool: string, settings: SavedSettings): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...readAll(), [tool]: settings }));
  } catch {
    // Private modes and full quotas throw; the settings then last for this page only.
  }
}
