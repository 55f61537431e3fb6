import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import type pg from "pg";

/**
 * Tells job workers that work is waiting, so they need not poll the jobs table hard. The jobs table
 * is the queue (durable, claimed by conditional updates); this port only shortens the wait. Workers
 * still poll slowly, so a lost signal delays a job by one poll, never loses it.
 */
export interface JobWakeup {
  notify(): Promise<void>;
  /** calls `listener` on every notification until the returned function is called */
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

/** One process (SQLite): the API and the workers live side by side. */
export class LocalWakeup implements JobWakeup {
  private readonly events = new EventEmitter();

  async notify(): Promise<void> {
    this.events.emit("work");
  }

  subscribe(listener: () => void): () => void {
    this.events.on("work", listener);
    return () => this.events.off("work", listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
  }
}

const CHANNEL = "pixhaven_jobs";

/** Several processes on PostgreSQL: NOTIFY reaches every worker process at once (LISTEN). */
export class PostgresWakeup implements JobWakeup {
  private readonly local = new LocalWakeup();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;

  private readonly connectionString: string;
  private readonly channel: string;

  /** `databaseUrl` as configured; instances kept apart by `?schema=` get a channel each. */
  constructor(databaseUrl: string) {
    const url = new URL(databaseUrl);
    const schema = url.searchParams.get("schema");
    url.searchParams.delete("schema");
    this.connectionString = url.toString();
    this.channel = schema ? `${CHANNEL}_${schema}` : CHANNEL;
  }

  async notify(): Promise<void> {
    await this.local.notify(); // this process's own workers, without the round trip
    await this.withClient((client) => client.query("select pg_notify($1, '')", [this.channel]));
  }

  subscribe(listener: () => void): () => void {
    void this.connect().catch(() => undefined); // workers poll anyway; a failed LISTEN only slows them
    return this.local.subscribe(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.local.close();
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private async withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T | undefined> {
    await this.connect().catch(() => undefined);
    return this.client ? use(this.client).catch(() => undefined) : undefined;
  }

  private connect(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.connecting ??= (async () => {
      // Loaded on first use: a server on SQLite (the default) never needs it.
      const { Client } = createRequire(import.meta.url)("pg") as typeof import("pg");
      const client = new Client({ connectionString: this.connectionString });
      client.on("notification", () => void this.local.notify());
      // A dropped connection is opened again on the next use.
      client.on("error", () => {
        if (this.client === client) this.client = null;
      });
      await client.connect();
      await client.query(`listen ${this.channel}`);
      this.client = client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }
}
