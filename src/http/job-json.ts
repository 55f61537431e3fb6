import type { JobJson } from "../common/api/jobs.js";
import { iso } from "../common/clock.js";
import type { JobView } from "../jobs/service.js";

/** A job as the API shows it: times in ISO 8601, download addresses while the files exist. */
export function jobJson({ job, outputs }: JobView, base: string): JobJson {
  const url = `${base}/api/v1/jobs/${job.id}`;
  return {
    id: job.id,
    batchId: job.batch_id,
    tool: job.tool,
    params: JSON.parse(job.params),
    status: job.status,
    progress: job.progress,
    attempts: job.attempts,
    createdAt: iso(job.created_at)!,
    startedAt: iso(job.started_at),
    finishedAt: iso(job.finished_at),
    expiresAt: iso(job.expires_at),
    ...(job.error_code ? { error: { code: job.error_code, message: job.error_message ?? "" } } : {}),
    ...(job.report ? { report: JSON.parse(job.report) } : {}),
    inputs: [{ name: job.input_name, bytes: job.input_bytes }],
    outputs: outputs.map((o) => ({
      name: o.name,
      url: o.blob_key && job.status === "succeeded" ? `${url}/outputs/${o.idx}` : null,
      mime: o.mime,
      bytes: o.bytes,
      width: o.width,
      height: o.height,
      downloads: o.downloads,
      lastDownloadAt: iso(o.last_download_at),
    })),
    url,
    eventsUrl: `${url}/events`,
  };
}
