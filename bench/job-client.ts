/**
 * The benchmarks' client of the job API: one multipart body built once (the figures measure the
 * server, not the client's encoder), POST /api/v1/jobs, then the Server-Sent Events of the job, or
 * of the whole batch on one connection, until it ends (no polling interval added to each job).
 */
import { type Agent, request } from "node:http";

const BOUNDARY = "pixhaven-bench-boundary";

/** One request for a job per file: a single file, or a batch (as a client uploading a folder sends it). */
export function jobBody(tool: string, params: unknown, file: { name: string; bytes: Buffer }, copies = 1): Buffer {
  const field = (name: string, value: string) => `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const part = (index: number) => [
    Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="${copies > 1 ? `${index}-` : ""}${file.name}"\r\ncontent-type: application/octet-stream\r\n\r\n`),
    file.bytes,
    Buffer.from("\r\n"),
  ];
  return Buffer.concat([
    Buffer.from(field("tool", tool) + field("params", JSON.stringify(params))),
    ...Array.from({ length: copies }, (_, i) => part(i)).flat(),
    Buffer.from(`--${BOUNDARY}--\r\n`),
  ]);
}

export function post(agent: Agent, port: number, body: Buffer): Promise<{ batchId: string; jobs: Array<{ id: string }> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/api/v1/jobs", method: "POST", agent, headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, "content-length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode === 202) resolve(JSON.parse(text));
          else reject(new Error(`POST /api/v1/jobs answered ${res.statusCode}: ${text}`));
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export interface JobEvent {
  id: string;
  status: string;
  createdAt: string;
  startedAt: string | null;
  error?: { code: string; message: string };
}

/** Follows the job's Server-Sent Events until it ends; resolves with its last state. */
export async function waitForEnd(agent: Agent, port: number, id: string): Promise<JobEvent> {
  const last = (await followEvents(agent, port, `/api/v1/jobs/${id}/events`)).get(id);
  if (!last) throw new Error(`no events for job ${id}`);
  return last;
}

/** Follows a batch's Server-Sent Events (one connection for all its jobs) until every job has ended; resolves with each job's last state. */
export async function waitForBatch(agent: Agent, port: number, batchId: string): Promise<JobEvent[]> {
  const last = await followEvents(agent, port, `/api/v1/batches/${batchId}/events`);
  if (last.size === 0) throw new Error(`no events for batch ${batchId}`);
  return [...last.values()];
}

/** Reads an event stream to its end: the last state of each job it named. */
function followEvents(agent: Agent, port: number, path: string): Promise<Map<string, JobEvent>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent, headers: { accept: "text/event-stream" } }, (res) => {
      let buffered = "";
      const last = new Map<string, JobEvent>();
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const data = buffered
            .slice(0, end)
            .split("\n")
            .find((line) => line.startsWith("data: "));
          buffered = buffered.slice(end + 2);
          if (data) {
            const job = JSON.parse(data.slice(6)) as JobEvent;
            last.set(job.id, job);
          }
        }
      });
      res.on("end", () => resolve(last));
    });
    req.on("error", reject);
    req.end();
  });
}
