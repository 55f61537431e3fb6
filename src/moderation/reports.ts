import type { Kysely } from "kysely";
import type { Clock } from "../common/clock.js";
import { notFound } from "../common/errors.js";
import type { ReportReason } from "../common/reports.js";
import type { AbuseReportRow, Database } from "../db/schema.js";
import { isShareId, newShareId } from "../ids.js";
import type { ImageService } from "../images/service.js";


export interface NewReport {
  reason: ReportReason;
  details: string;
  contact: string | null;
}

export type ReportAction = "remove" | "dismiss";

/**
 * Reports of hosted images: filed by anyone who can see the image (nothing of the reporter is kept
 * but what they write, and an address to answer them when they give one), resolved by an
 * administrator (the image taken down, or the report dismissed), and purged a fixed time after
 * resolution (P14). An open report is kept until someone resolves it.
 */
export class AbuseReports {
  constructor(private readonly deps: { db: Kysely<Database>; images: ImageService; clock: Clock }) {}

  /** 404 for an unknown image, 410 for one deleted already (`ImageService.get`). */
  async file(imageId: string, report: NewReport): Promise<AbuseReportRow> {
    const image = await this.deps.images.get(imageId);
    const row: AbuseReportRow = { id: newShareId(), image_id: image.id, ...report, status: "open", created_at: this.deps.clock.now(), resolved_at: null };
    await this.deps.db.insertInto("abuse_reports").values(row).execute();
    return row;
  }

  /** Open reports oldest first (the queue to work through), or resolved ones newest first. */
  list(which: "open" | "resolved", limit = 100): Promise<AbuseReportRow[]> {
    const query = this.deps.db.selectFrom("abuse_reports").selectAll();
    return (which === "open" ? query.where("status", "=", "open").orderBy("created_at") : query.where("status", "!=", "open").orderBy("resolved_at", "desc"))
      .orderBy("id")
      .limit(limit)
      .execute();
  }

  /**
   * `remove` takes the image down (as its deletion would) and resolves every open report of it;
   * `dismiss` resolves this one. 404 for an unknown report; a resolved one is answered as it is.
   */
  async resolve(id: string, action: ReportAction): Promise<AbuseReportRow> {
    const report = isShareId(id) ? await this.find(id) : undefined;
    if (!report) throw notFound();
    if (report.status !== "open") return report;
    const now = this.deps.clock.now();
    if (action === "remove") {
      await this.deps.images.takeDown(report.image_id);
      await this.deps.db.updateTable("abuse_reports").set({ status: "removed", resolved_at: now }).where("image_id", "=", report.image_id).where("status", "=", "open").execute();
    } else {
      await this.deps.db.updateTable("abuse_reports").set({ status: "dismissed", resolved_at: now }).where("id", "=", id).where("status", "=", "open").execute();
    }
    return (await this.find(id))!;
  }

  /** P14: reports resolved more than `retentionMs` ago are deleted, with whatever their reporters wrote. */
  async purgeResolved(retentionMs: number): Promise<number> {
    const result = await this.deps.db
      .deleteFrom("abuse_reports")
      .where("resolved_at", "is not", null)
      .where("resolved_at", "<", this.deps.clock.now() - retentionMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private find(id: string): Promise<AbuseReportRow | undefined> {
    return this.deps.db.selectFrom("abuse_reports").selectAll().where("id", "=", id).executeTakeFirst();
  }
}
