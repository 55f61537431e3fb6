import type { JobJson, JobStatus } from "$common/api/jobs.js";
import { ApiError, errorFromBody, request } from "./api.js";
import { t } from "./i18n/index.svelte.js";

export type { JobJson, JobStatus };

/** One entry of GET /api/v1/tools (src/http/tools.ts). */
export interface ToolInfo {
  name: string;
  title: string;
  description: string;
  runsOn: "browser" | "server" | "both";
  /** JSON Schema of the params */
  params: JsonSchema;
  accepts: string[];
  limits: { maxInputPixels?: number; maxOutputPixels?: number; maxPages?: number };
  available: boolean;
  unavailableReason?: string;
  secondsPerMegapixel: number | null;
  /** the measured rate of each kind of run (`costKey`: restore's mode, upscale's model and scale...) */
  secondsPerMegapixelByKind?: Record<string, number>;
}

export interface ToolsInfo {
  retentionSeconds: number;
  maxUploadBytes: number;
  maxBatchFiles: number;
  urlImport: boolean;
  tools: ToolInfo[];
}

/** The part of JSON Schema that the tool catalogue uses. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: (string | number)[];
  anyOf?: JsonSchema[];
  const?: string | number;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  maxLength?: number;
  /** an array's element */
  items?: JsonSchema;
  minItems?: number;
}

export interface SubmittedBatch {
  batchId: string;
  deleteToken: string;
  zipUrl: string;
  retentionSeconds: number;
  jobs: { id: string; status: JobStatus; url: string }[];
}

const TERMINAL: readonly JobStatus[] = ["succeeded", "failed", "expired"];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL.includes(status);
}

/** Runs on this server: what the P4 notice is about. */
export function runsOnServer(tool: ToolInfo): boolean {
  return tool.available && tool.runsOn !== "browser";
}

let toolsPromise: Promise<ToolsInfo> | undefined;

/** Asked once per page load: the retention period and the measured speeds change rarely. */
export function getTools(): Promise<ToolsInfo> {
  toolsPromise ??= request<ToolsInfo>("/api/v1/tools").catch((err: unknown) => {
    toolsPromise = undefined;
    throw err;
  });
  return toolsPromise;
}

export function deleteJob(id: string, deleteToken: string): Promise<void> {
  return request<void>(`/api/v1/jobs/${encodeURIComponent(id)}`, { method: "DELETE", headers: { "X-Delete-Token": deleteToken } });
}

export interface BatchUpload {
  done: Promise<SubmittedBatch>;
  abort(): void;
}

/** Sends a batch: files first, then URLs, so the jobs come back in the order of `files` then `urls`. */
export function submitBatch(
  tool: string,
  params: Record<string, unknown>,
  files: File[],
  urls: string[],
  onProgress: (loaded: number, total: number) => void,
  /** the server's proof-of-work challenge, solved (anonymous uploads, when it asks for one) */
  proof?: string,
): BatchUpload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<SubmittedBatch>((resolve, reject) => {
    xhr.open("POST", "/api/v1/jobs");
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    if (proof) xhr.setRequestHeader("X-Proof-Of-Work", proof);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onload = () => {
      if (xhr.status === 202) resolve(xhr.response as SubmittedBatch);
      else reject(errorFromBody(xhr.status, xhr.response));
    };
    xhr.onerror = () => reject(new Error(t("errors.filesNetwork")));
    xhr.onabort = () => reject(new Error(t("errors.uploadCancelled")));
    const form = new FormData();
    // The fields come before the files, so the server can refuse bad params before storing anything.
    form.append("tool", tool);
    form.append("params", JSON.stringify(params));
    for (const url of urls) form.append("url", url);
    for (const file of files) form.append("file", file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

const POLL_MS = 1000;
const MAX_POLL_FAILURES = 5;

export interface JobWatch {
  /** resolves once every job followed has ended (or the watch stopped): each job's last state seen */
  done: Promise<Map<string, JobJson>>;
  stop(): void;
}

/**
 * Follows the jobs `ids` of a batch until they have ended, on one connection however many they are
 * (a browser opens only six to a server): Server-Sent Events first, polling when the stream fails
 * (a proxy that buffers, a dropped connection). The batch's other jobs reach `onJob` too while it
 * runs; `stop()` ends it early.
 */
export function watchBatch(batchId: string, ids: readonly string[], onJob: (job: JobJson) => void): JobWatch {
  const path = `/api/v1/batches/${encodeURIComponent(batchId)}`;
  let stopped = false;
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish: (jobs: Map<string, JobJson>) => void = () => undefined;
  const last = new Map<string, JobJson>();
  const done = new Promise<Map<string, JobJson>>((resolve) => (finish = resolve));

  const stop = () => {
    stopped = true;
    source?.close();
    clearTimeout(timer);
    finish(last);
  };
  const seen = (jobs: JobJson[]) => {
    if (stopped) return;
    for (const job of jobs) {
      last.set(job.id, job);
      onJob(job);
    }
    if (ids.every((id) => isTerminal(last.get(id)?.status ?? "queued"))) stop();
  };
  let failures = 0;
  const poll = () => {
    if (stopped) return;
    request<{ jobs: JobJson[] }>(path).then(
      ({ jobs }) => {
        failures = 0;
        seen(jobs);
        timer = setTimeout(poll, POLL_MS);
      },
      (err: unknown) => {
        // A job that is gone will not come back; a network hiccup might pass.
        if ((err instanceof ApiError && err.gone) || ++failures >= MAX_POLL_FAILURES) stop();
        else timer = setTimeout(poll, POLL_MS * 2 ** failures);
      },
    );
  };

  if (typeof EventSource === "function") {
    source = new EventSource(`${path}/events`);
    source.addEventListener("job", (e) => {
      try {
        seen([JSON.parse((e as MessageEvent<string>).data) as JobJson]);
      } catch {
        // A garbled event: the next one, or polling, brings the state.
      }
    });
    source.onerror = () => {
      source?.close();
      poll();
    };
  } else {
    poll();
  }
  return { done, stop };
}
