/**
 * What this browser does with images the classifier finds sensitive: blur them until asked, hide
 * them, or show them. Kept in localStorage only (P3): no request ever carries it.
 */
export type NsfwFilter = "blur" | "hide" | "show";

export const NSFW_FILTER_KEY = "pixhaven.nsfwFilter";
export const NSFW_FILTERS: readonly NsfwFilter[] = ["blur", "hide", "show"];

function parse(value: string | null): NsfwFilter {
  return value === "hide" || value === "show" ? value : "blur";
}

function stored(): NsfwFilter {
  try {
    return parse(localStorage.getItem(NSFW_FILTER_KEY));
  } catch {
    return "blur";
  }
}

let current = $state<NsfwFilter>(stored());

// Changed in another tab: follow it.
window.addEventListener("storage", (e) => {
  if (e.key === NSFW_FILTER_KEY) current = parse(e.newValue);
});

export const nsfwFilter = {
  get choice(): NsfwFilter {
    return current;
  },
  set(choice: NsfwFilter): void {
    current = choice;
    try {
      if (choice === "blur") localStorage.removeItem(NSFW_FILTER_KEY);
      else localStorage.setItem(NSFW_FILTER_KEY, choice);
    } catch {
      // Not persisted, but the choice still applies on this page.
    }
  },
};
