import type { FastifyReply } from "fastify";
import { TERMINAL_STATUSES } from "../common/api/jobs.js";
import type { JobView } from "../jobs/service.js";
import { jobJson } from "./job-json.js";

/** Changes made in this process arrive at once (`watch`); a worker in another process is seen by this poll. */
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
/**
 * While a stream follows several unfinished jobs, their changes are read and sent together at most
 * this often: a batch of small jobs (one ends as the next starts) takes one read and one write
 * where it took several. A stream's last job is told at once.
 */
const GATHER_MS = 25;

/**
 * Open event streams per network (the anonymised address): a page follows a batch on one stream,
 * so this is far above what people use, and keeps one network from holding thousands of
 * connections that each read the database every second. Past it the answer is 429 and the web
 * client polls instead.
 */
export const MAX_STREAMS_PER_NETWORK = 20;

/** Counts the open streams of each network. */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly max = MAX_STREAMS_PER_NETWORK) {}

  /** A place for one more stream of `network` (give it back once, when the stream closes), or null when it has `max`. */
  take(network: string): (() => void) | null {
    const count = this.open.get(network) ?? 0;
    if (count >= this.max) return null;
    this.open.set(network, count + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.open.get(network) ?? 1) - 1;
      if (left > 0) this.open.set(network, left);
      else this.open.delete(network);
    };
  }
}

/** Where a stream reads the jobs it follows. */
export interface JobSource {
  /** these jobs as they are now; one that no longer exists is left out */
  some(ids: readonly string[]): Promise<JobView[]>;
  /** calls `listener` when this process changes the job; returns `stop` */
  watch(id: string, listener: () => void): () => void;
}

const ended = (view: JobView) => TERMINAL_STATUSES.includes(view.job.status);

/**
 * Server-Sent Events for one job or a batch: an `event: job` with each job's JSON at once and
 * after every change (gathered over GATHER_MS while several jobs run), until every job has ended
 * (or is gone). The jobs said to have changed are read again; the poll reads those still running.
 * Reads run one at a time, in order, so an older state never follows a newer one.
 */
export function streamJobEvents(reply: FastifyReply, first: JobView[], source: JobSource, base: string, onClose: () => void = () => undefined): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-accel-buffering": "no", // a proxy must pass events on as they come
    connection: "keep-alive",
  });
  const last = new Map<string, string>();
  const unwatch = new Map<string, () => void>();
  let closed = false;
  const stopFollowing = (id: string) => {
    unwatch.get(id)?.();
    unwatch.delete(id);
  };
  const send = (views: JobView[]) => {
    let text = "";
    for (const view of views) {
      const id = view.job.id;
      const json = JSON.stringify(jobJson(view, base));
      if (json !== last.get(id)) text += `event: job\ndata: ${json}\n\n`;
      last.set(id, json);
      if (ended(view)) stopFollowing(id);
    }
    if (text) res.write(text);
    if (unwatch.size === 0) finish();
  };
  const finish = () => {
    if (closed) return;
    closed = true;
    if (gathering) clearTimeout(gathering);
    clearInterval(poll);
    clearInterval(keepalive);
    for (const stop of unwatch.values()) stop();
    unwatch.clear();
    res.end();
  };
  // What to read next: the jobs said to have changed, or every one still running (the poll).
  const changed = new Set<string>();
  let readAll = false;
  let reading = false;
  let lastRead = 0;
  let gathering: NodeJS.Timeout | null = null;
  const read = () => {
    if (closed || reading || gathering || (!readAll && changed.size === 0)) return;
    const wait = unwatch.size > 1 ? lastRead + GATHER_MS - Date.now() : 0;
    if (wait > 0) {
      gathering = setTimeout(() => {
        gathering = null;
        read();
      }, wait);
      return;
    }
    lastRead = Date.now();
    const ids = readAll ? [...unwatch.keys()] : [...changed];
    changed.clear();
    readAll = false;
    reading = true;
    source
      .some(ids)
      .then(
        (views) => {
          if (closed) return;
          // A job that is gone (its history purged) has nothing more to tell.
          const found = new Set(views.map((view) => view.job.id));
          for (const id of ids) if (!found.has(id)) stopFollowing(id);
          send(views);
        },
        () => finish(),
      )
      .finally(() => {
        reading = false;
        read();
      });
  };
  for (const view of first) if (!ended(view)) unwatch.set(view.job.id, source.watch(view.job.id, () => (changed.add(view.job.id), read())));
  const poll = setInterval(() => ((readAll = true), read()), POLL_MS);
  const keepalive = setInterval(() => res.write(": keep-alive\n\n"), KEEPALIVE_MS);
  res.on("close", () => {
    finish();
    onClose();
  });
  send(first);
}
