import { t } from "./i18n/index.svelte.js";

import type { ImageJson, ServerConfigJson, UploadedImageJson } from "$common/api/images.js";
import type { ReportReason } from "$common/reports.js";

/** The server's own response types (src/common/api), never copies of them. */
export type ServerConfig = ServerConfigJson;
export type ImageInfo = ImageJson;
export type UploadedImage = UploadedImageJson;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get gone(): boolean {
    return this.status === 404 || this.status === 410;
  }
}

// Proxies and crashes can answer without the JSON error body; say something useful anyway.
const fallbackMessages: Record<number, "errors.badRequest" | "errors.notFound" | "errors.gone" | "errors.tooLarge" | "errors.unsupported" | "errors.unprocessable" | "errors.tooMany"> = {
  400: "errors.badRequest",
  404: "errors.notFound",
  410: "errors.gone",
  413: "errors.tooLarge",
  415: "errors.unsupported",
  422: "errors.unprocessable",
  429: "errors.tooMany",
};

function fallbackMessage(status: number): string {
  const key = fallbackMessages[status];
  return key ? t(key) : t("errors.status", status);
}

export function errorFromBody(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : `http_${status}`;
  const message =
    typeof error?.message === "string" && error.message
      ? error.message
      : fallbackMessage(status);
  return new ApiError(status, code, message);
}

async function readJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

export async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { ...init, headers: { Accept: "application/json", ...init?.headers } });
  if (!res.ok) throw errorFromBody(res.status, await readJson(res));
  return (res.status === 204 ? undefined : await res.json()) as T;
}

let configPromise: Promise<ServerConfig> | undefined;

export function getConfig(): Promise<ServerConfig> {
  configPromise ??= request<ServerConfig>("/api/v1/config").catch((err: unknown) => {
    // Let a later call retry instead of caching the failure forever.
    configPromise = undefined;
    throw err;
  });
  return configPromise;
}

export function getImage(id: string, signal?: AbortSignal): Promise<ImageInfo> {
  return request<ImageInfo>(`/api/v1/images/${encodeURIComponent(id)}`, { signal });
}

export function deleteImage(id: string, deleteToken: string): Promise<void> {
  return request<void>(`/api/v1/images/${encodeURIComponent(id)}`, {
    method: "DELETE",
    headers: { "X-Delete-Token": deleteToken },
  });
}

export interface ImageReport {
  reason: ReportReason;
  details: string;
  contact?: string;
  goodFaith?: boolean;
}

/** Sends a report of the image to this server's moderators. */
export function reportImage(id: string, report: ImageReport): Promise<{ id: string }> {
  return request<{ id: string }>(`/api/v1/images/${encodeURIComponent(id)}/reports`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(report),
  });
}

export interface UploadHandle {
  done: Promise<UploadedImage>;
  abort(): void;
}

export class UploadAborted extends Error {
  constructor() {
    super("Upload cancelled.");
    this.name = "UploadAborted";
  }
}

// XMLHttpRequest rather than fetch: fetch still reports no upload progress.
export function uploadImage(
  file: File,
  onProgress: (loaded: number, total: number) => void,
  onSent: () => void,
  /** the server's proof-of-work challenge, solved (anonymous uploads, when it asks for one) */
  proof?: string,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadedImage>((resolve, reject) => {
    xhr.open("POST", "/api/v1/images");
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    if (proof) xhr.setRequestHeader("X-Proof-Of-Work", proof);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.upload.onload = () => onSent();
    xhr.onload = () => {
      if (xhr.status === 201 || xhr.status === 200) resolve(xhr.response as UploadedImage);
      else reject(errorFromBody(xhr.status, xhr.response));
    };
    xhr.onerror = () => reject(new Error(t("errors.uploadNetwork")));
    xhr.onabort = () => reject(new UploadAborted());
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

/** The server fetches the image itself (URL import), then stores it like an uploaded file. */
export function uploadImageFromUrl(url: string, proof?: string): UploadHandle {
  const controller = new AbortController();
  const done = request<UploadedImage>("/api/v1/images", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(proof ? { "X-Proof-Of-Work": proof } : {}) },
    body: JSON.stringify({ url }),
    signal: controller.signal,
  }).catch((err: unknown) => {
    throw controller.signal.aborted ? new UploadAborted() : err;
  });
  return { done, abort: () => controller.abort() };
}
