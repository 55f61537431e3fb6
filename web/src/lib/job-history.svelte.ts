// Tool jobs started in this browser. Like image delete tokens, a batch's token lives only here:
// whoever holds it may delete the job's files. Nothing else about a job is stored.
export const JOBS_KEY = "pixhaven.jobs";

export interface RememberedJob {
  id: string;
  batchId: string;
  tool: string;
  deleteToken: string;
  createdAt: string;
}

function isRememberedJob(value: unknown): value is RememberedJob {
  const v = value as Partial<RememberedJob> | null;
  return typeof v?.id === "string" && typeof v.batchId === "string" && typeof v.tool === "string" && typeof v.deleteToken === "string";
}

export function parseJobs(json: string | null): RememberedJob[] {
  try {
    const parsed: unknown = JSON.parse(json ?? "[]");
    return Array.isArray(parsed) ? parsed.filter(isRememberedJob) : [];
  } catch {
    return [];
  }
}

function read(): RememberedJob[] | null {
  try {
    return parseJobs(localStorage.getItem(JOBS_KEY));
  } catch {
    return null;
  }
}

function write(entries: RememberedJob[]): void {
  try {
    if (entries.length === 0) localStorage.removeItem(JOBS_KEY);
    else localStorage.setItem(JOBS_KEY, JSON.stringify(entries));
  } catch {
    // Private modes and full quotas throw; the jobs still run, they just are not listed later.
  }
}

class JobHistory {
  #entries = $state<RememberedJob[]>(read() ?? []);
  readonly newestFirst = $derived(
    this.#entries
      .map((entry, index) => ({ entry, index, time: Date.parse(entry.createdAt) || 0 }))
      .sort((a, b) => b.time - a.time || b.index - a.index)
      .map(({ entry }) => entry),
  );

  constructor() {
    // Another tab ran or deleted a job: follow it.
    window.addEventListener("storage", (e) => {
      if (e.key === JOBS_KEY || e.key === null) this.#entries = parseJobs(e.newValue);
    });
  }

  get count(): number {
    return this.#entries.length;
  }

  remember(jobs: RememberedJob[]): void {
    const ids = new Set(jobs.map((j) => j.id));
    this.#update((entries) => [...entries.filter((e) => !ids.has(e.id)), ...jobs]);
  }

  forget(id: string): void {
    this.#update((entries) => entries.filter((e) => e.id !== id));
  }

  #update(change: (entries: RememberedJob[]) => RememberedJob[]): void {
    // From storage rather than memory, in case another tab wrote since the last storage event.
    const next = change(read() ?? this.#entries);
    write(next);
    this.#entries = next;
  }
}

export const jobHistory = new JobHistory();
