/** Social media image sizes, defined once for the resize tool, the API and the pages. */
export interface SocialPreset {
  id: string;
  label: string;
  width: number;
  height: number;
}

export const SOCIAL_PRESETS = [
  { id: "instagram-square", label: "Instagram square post", width: 1080, height: 1080 },
  { id: "instagram-portrait", label: "Instagram portrait post", width: 1080, height: 1350 },
  { id: "instagram-story", label: "Instagram story", width: 1080, height: 1920 },
  { id: "x-post", label: "X post", width: 1600, height: 900 },
  { id: "x-header", label: "X header", width: 1500, height: 500 },
  { id: "facebook-post", label: "Facebook post", width: 1200, height: 630 },
  { id: "facebook-cover", label: "Facebook cover", width: 820, height: 312 },
  { id: "linkedin-post", label: "LinkedIn post", width: 1200, height: 627 },
  { id: "linkedin-banner", label: "LinkedIn banner", width: 1584, height: 396 },
  { id: "youtube-thumbnail", label: "YouTube thumbnail", width: 1280, height: 720 },
  { id: "pinterest-pin", label: "Pinterest pin", width: 1000, height: 1500 },
] as const satisfies readonly SocialPreset[];

export type SocialPresetId = (typeof SOCIAL_PRESETS)[number]["id"];

export const SOCIAL_PRESET_IDS = SOCIAL_PRESETS.map((p) => p.id) as [SocialPresetId, ...SocialPresetId[]];

export function socialPreset(id: SocialPresetId): SocialPreset {
  return SOCIAL_PRESETS.find((p) => p.id === id)!;
}
