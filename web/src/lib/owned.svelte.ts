import { ApiError, getImage } from "./api.js";
import { OWNED_KEY, parseOwned, readOwned, writeOwned, type OwnedUpload } from "./storage.js";

// Existence checks run as rows scroll into view; a few at a time keeps a long list
// from flooding the server on page load.
const MAX_PARALLEL_CHECKS = 3;

function newestFirst(entries: OwnedUpload[]): OwnedUpload[] {
  return entries
    .map((entry, index) => ({ entry, index, time: Date.parse(entry.createdAt) || 0 }))
    .sort((a, b) => b.time - a.time || b.index - a.index)
    .map(({ entry }) => entry);
}

/** The one view of the uploads made in this browser; the uploader, the viewer and the home page all go through it. */
class OwnedUploads {
  #entries = $state<OwnedUpload[]>(readOwned() ?? []);
  readonly newestFirst = $derived(newestFirst(this.#entries));
  #checked = new Set<string>();
  #waiting: string[] = [];
  #checking = 0;

  constructor() {
    // Another tab uploaded, deleted or forgot: follow it so both tabs agree.
    window.addEventListener("storage", (e) => {
      if (e.key === OWNED_KEY || e.key === null) this.#entries = parseOwned(e.newValue);
    });
  }

  get count(): number {
    return this.#entries.length;
  }

  tokenFor(id: string): string | undefined {
    return this.#entries.find((e) => e.id === id)?.deleteToken;
  }

  remember(entry: OwnedUpload): void {
    // It was just created, so there is nothing to confirm this session.
    this.#checked.add(entry.id);
    this.#update((entries) => [...entries.filter((e) => e.id !== entry.id), entry]);
  }

  forget(id: string): void {
    this.#update((entries) => entries.filter((e) => e.id !== id));
  }

  /** Drops the list and its delete tokens from this browser; the images stay online. */
  forgetAll(): void {
    this.#update(() => []);
  }

  /**
   * Asks the API once per page load whether the image still exists, and forgets it if it
   * is gone. Thumbnails are cached as immutable, so one deleted elsewhere can keep
   * loading from the cache; a failed thumbnail alone would miss it.
   */
  confirmExists(id: string): void {
    if (this.#checked.has(id)) return;
    this.#checked.add(id);
    this.#waiting.push(id);
    this.#pump();
  }

  #pump(): void {
    while (this.#checking < MAX_PARALLEL_CHECKS) {
      const id = this.#waiting.shift();
      if (id === undefined) return;
      if (!this.#entries.some((e) => e.id === id)) continue;
      this.#checking++;
      getImage(id)
        .catch((err: unknown) => {
          if (err instanceof ApiError && err.gone) this.forget(id);
          // Offline or a server hiccup says nothing about the image; try again next time.
          else this.#checked.delete(id);
        })
        .finally(() => {
          this.#checking--;
          this.#pump();
        });
    }
  }

  #update(change: (entries: OwnedUpload[]) => OwnedUpload[]): void {
    // Start from storage rather than memory, in case another tab wrote since the last storage event.
    const next = change(readOwned() ?? this.#entries);
    writeOwned(next);
    this.#entries = next;
  }
}

export const owned = new OwnedUploads();
