import type { FastifyReply } from "fastify";
import { TERMINAL_STATUSES } from "../common/api/jobs.js";
import type { JobView } from "../jobs/service.js";
import { jobJson } from "./job-json.js";

const POLL_MS = 250;
const KEEPALIVE_MS = 15_000;

/**
 * Server-Sent Events for one job: its JSON at once and after every change, until it ends. The job
 * row is read every POLL_MS, so progress made by a worker in another process arrives the same way
 * as progress made here.
 */
export function streamJobEvents(reply: FastifyReply, first: JobView, load: () => Promise<JobView>, base: string): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-accel-buffering": "no", // a proxy must pass events on as they come
    connection: "keep-alive",
  });
  let last = "";
  let closed = false;
  const send = (view: JobView) => {
    const json = JSON.stringify(jobJson(view, base));
    if (json !== last) res.write(`event: job\ndata: ${json}\n\n`);
    last = json;
    return TERMINAL_STATUSES.includes(view.job.status);
  };
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(poll);
    clearInterval(keepalive);
    res.end();
  };
  const poll = setInterval(() => {
    load().then(
      (view) => !closed && send(view) && finish(),
      () => finish(),
    );
  }, POLL_MS);
  const keepalive = setInterval(() => res.write(": keep-alive\n\n"), KEEPALIVE_MS);
  res.on("close", finish);
  if (send(first)) finish();
}
