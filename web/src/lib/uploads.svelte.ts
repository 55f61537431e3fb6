import { getConfig, uploadImage, uploadImageFromUrl, UploadAborted, type ServerConfig, type UploadedImage, type UploadHandle } from "./api.js";
import { proofIfAsked } from "./proof-of-work.js";
import { formatBytes } from "./format.js";
import { t } from "./i18n/index.svelte.js";
import { owned } from "./owned.svelte.js";

const MAX_PARALLEL = 3;

export type UploadStatus = "queued" | "uploading" | "processing" | "done" | "error";

let nextKey = 1;

export class UploadItem {
  readonly key = nextKey++;
  status = $state<UploadStatus>("queued");
  loaded = $state(0);
  result = $state<UploadedImage | null>(null);
  error = $state<string | null>(null);
  abort: (() => void) | null = null;

  /** Either a file from this device or an address the server fetches the image from. */
  constructor(
    readonly file: File | null,
    readonly url: string | null = null,
  ) {}

  get name(): string {
    return this.file?.name ?? this.url ?? "";
  }

  get finished(): boolean {
    return this.status === "done" || this.status === "error";
  }

  fail(message: string): void {
    this.status = "error";
    this.error = message;
  }
}

/** HEIC files often arrive with an empty MIME type, so the extension decides. */
function looksLikeImage(file: File): boolean {
  return file.type.startsWith("image/") || /\.(heic|heif)$/i.test(file.name) || file.type === "";
}

function rejectionFor(file: File, config: ServerConfig | null): string | null {
  if (!looksLikeImage(file)) return "This is not an image file.";
  if (config && file.size > config.maxUploadBytes) {
    return `Too large: ${formatBytes(file.size)}. The limit is ${formatBytes(config.maxUploadBytes)} per image.`;
  }
  return null;
}

class UploadQueue {
  items = $state<UploadItem[]>([]);
  #active = 0;

  add(files: Iterable<File>): void {
    for (const file of files) this.items.push(new UploadItem(file));
    this.#pump();
  }

  addUrl(url: string): void {
    this.items.push(new UploadItem(null, url));
    this.#pump();
  }

  remove(item: UploadItem): void {
    item.abort?.();
    this.items = this.items.filter((i) => i !== item);
  }

  clearFinished(): void {
    this.items = this.items.filter((i) => !i.finished);
  }

  #pump(): void {
    while (this.#active < MAX_PARALLEL) {
      const item = this.items.find((i) => i.status === "queued");
      if (!item) return;
      // Claimed synchronously so the next loop turn does not pick it again.
      item.status = "uploading";
      this.#active++;
      void this.#run(item).finally(() => {
        this.#active--;
        this.#pump();
      });
    }
  }

  async #run(item: UploadItem): Promise<void> {
    const file = item.file;
    let upload: UploadHandle;
    // Without the config the server's own limits still apply and explain themselves.
    const config = await getConfig().catch(() => null);
    if (file) {
      const rejection = rejectionFor(file, config);
      if (rejection) return item.fail(rejection);
    }
    // A server that asks anonymous uploads for a proof of work gets one, solved off the page's thread.
    let proof: string | undefined;
    try {
      proof = await proofIfAsked();
    } catch (err) {
      return item.fail(err instanceof Error ? err.message : String(err));
    }
    if (!this.items.includes(item)) return;
    if (file) {
      upload = uploadImage(
        file,
        (loaded) => (item.loaded = loaded),
        () => {
          item.loaded = file.size;
          item.status = "processing";
        },
        proof,
      );
    } else {
      item.status = "processing";
      upload = uploadImageFromUrl(item.url ?? "", proof);
    }
    item.abort = upload.abort;
    try {
      const result = await upload.done;
      owned.remember({ id: result.id, deleteToken: result.deleteToken, url: result.url, createdAt: result.createdAt });
      item.result = result;
      item.status = "done";
    } catch (err) {
      if (err instanceof UploadAborted) return;
      item.fail(err instanceof Error ? err.message : t("errors.uploadFailed"));
    } finally {
      item.abort = null;
    }
  }
}

// Module-level so uploads keep going while the user looks at a finished one.
export const uploads = new UploadQueue();
