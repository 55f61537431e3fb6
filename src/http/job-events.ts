import type { FastifyReply } from "fastify";
import { TERMINAL_STATUSES } from "../common/api/jobs.js";
import type { JobView } from "../jobs/service.js";
import { jobJson } from "./job-json.js";

/** Changes made in this process arrive at once (`watch`); a worker in another process is seen by this poll. */
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;

/**
 * Server-Sent Events for one job: its JSON at once and after every change, until it ends.
 */
export function streamJobEvents(reply: FastifyReply, first: JobView, load: () => Promise<JobView>, watch: (listener: () => void) => () => void, base: string): void {
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
    unwatch();
    res.end();
  };
  let loading = false;
  let again = false;
  const refresh = () => {
    if (closed) return;
    if (loading) {
      again = true; // one more read after this one, so the last change is never missed
      return;
    }
    loading = true;
    load()
      .then(
        (view) => !closed && send(view) && finish(),
        () => finish(),
      )
      .finally(() => {
        loading = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  };
  const poll = setInterval(refresh, POLL_MS);
  const unwatch = watch(refresh);
  const keepalive = setInterval(() => res.write(": keep-alive\n\n"), KEEPALIVE_MS);
  res.on("close", finish);
  if (send(first)) finish();
}
