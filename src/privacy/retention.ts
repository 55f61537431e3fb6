import type { Kysely } from "kysely";
import type { Clock } from "../common/clock.js";
import type { Database } from "../db/schema.js";

/**
 * A retention rule a domain hands to the purge: what it removes, how often it is due, and the
 * function that removes it (returning how many things went). The purge knows no domain.
 */
export interface RetentionRule {
  name: string;
  everyMs: number;
  run(): Promise<number>;
}

export type PurgeReport = Record<string, number>;

interface Log {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Runs retention rules. Each rule's next due time is a row in the database, advanced by a
 * conditional update, so however many processes run the schedule, a rule runs once per cluster per
 * period; `pixhaven purge` runs them all now.
 */
export class Retention {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    readonly rules: readonly RetentionRule[],
  ) {}

  /** Every rule, now, whatever its schedule (`pixhaven purge`). */
  async runAll(): Promise<PurgeReport> {
    const report: PurgeReport = {};
    for (const rule of this.rules) report[rule.name] = await rule.run();
    return report;
  }

  /** The rules due now that this process won; the others are some other process's turn. */
  async runDue(): Promise<PurgeReport> {
    const report: PurgeReport = {};
    for (const rule of this.rules) {
      if (await this.claim(rule)) report[rule.name] = await rule.run();
    }
    return report;
  }

  /** Checks every `tickMs` which rules are due; logs counts only (never ids or names). */
  schedule(tickMs: number, log: Log): () => void {
    let running = false;
    const tick = () => {
      if (running) return;
      running = true;
      this.runDue()
        .then(
          (report) => Object.keys(report).length && log.info({ purge: report }, "retention purge done"),
          (err) => log.error({ err }, "retention purge failed"),
        )
        .finally(() => {
          running = false;
        });
    };
    tick();
    const timer = setInterval(tick, tickMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async claim(rule: RetentionRule): Promise<boolean> {
    const now = this.clock.now();
    await this.db
      .insertInto("maintenance")
      .values({ name: rule.name, next_run_at: 0 })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    const result = await this.db
      .updateTable("maintenance")
      .set({ next_run_at: now + rule.everyMs })
      .where("name", "=", rule.name)
      .where("next_run_at", "<=", now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
