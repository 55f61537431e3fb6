import path from "node:path";
import { type Clock, systemClock } from "./common/clock.js";
import type { Config } from "./config.js";
import { type Db, openDatabase } from "./db/index.js";
import { migrateToLatest } from "./db/migrations.js";
import { type ClassifyPixels, NsfwClassification } from "./images/nsfw.js";
import { ImageRepository } from "./images/repository.js";
import { ABANDONED_UPLOAD_AFTER_MS, ImageService } from "./images/service.js";
import { ViewCounter } from "./images/views.js";
import { ImageWorkers } from "./images/workers.js";
import type { BlobStore } from "./storage/blob-store.js";
import { createBlobStore } from "./storage/index.js";
import { claimTempDir, type TempDir } from "./storage/temp-dir.js";
import { JobEvents } from "./jobs/events.js";
import { JobRepository } from "./jobs/repository.js";
import { JobService } from "./jobs/service.js";
import { LocalWakeup, PostgresWakeup, type JobWakeup } from "./jobs/wakeup.js";
import { AbuseReports } from "./moderation/reports.js";
import { ContactMessages } from "./moderation/contact.js";
import { ProofOfWork } from "./moderation/proof-of-work.js";
import { authSecret } from "./accounts/secret.js";
import { IdentifiedInputs, runToolWith, toolGate } from "./jobs/tools.js";
import { JobWorker, type RunTool } from "./jobs/worker.js";
import { classifyNsfw } from "./models/nsfw.js";
import { ModelThreads } from "./models/pool.js";
import { ToolRunner } from "./tools/runner.js";
import { Retention } from "./privacy/retention.js";
import { MemoryBudget } from "./tools/memory-budget.js";
import { Accounts } from "./accounts/index.js";
import { Metrics } from "./metrics.js";

/** One process's domain: what `serve`, `purge` and the tests share. No HTTP here. */
export interface Core {
  config: Config;
  /** what every expiry and purge in this process reads the time from */
  clock: Clock;
  db: Db;
  blobs: BlobStore;
  images: ImageService;
  jobs: JobService;
  /** sign-in, API tokens, the dashboard, export and erasure */
  accounts: Accounts;
  /** runs tool jobs; started by the worker role only */
  jobWorker: JobWorker;
  retention: Retention;
  /** the one way to run a tool in this process (jobs, CLI, tests) */
  tools: ToolRunner;
  models: ModelThreads;
  /** reports of hosted images and their resolution */
  reports: AbuseReports;
  /** messages to the operator from the contact page */
  contact: ContactMessages;
  /** the anonymous upload's bot check (P16); absent when PROOF_OF_WORK is off */
  proofOfWork?: ProofOfWork;
  /** what /metrics shows of this process and the cluster; null without METRICS_TOKEN (nothing is counted) */
  metrics: Metrics | null;
  /** P9: classifies each hosted image after it is stored */
  nsfw: NsfwClassification;
  /** decoder memory shared by uploads and tools */
  budget: MemoryBudget;
  workers: ImageWorkers;
  /** this process's own temp folder under DATA_DIR/tmp */
  temp: TempDir;
  /** closes the pools and removes this process's temp folder */
  close(): Promise<void>;
}

export interface CoreOptions {
  clock?: Clock;
  /** how jobs run their tool; the tool registry unless a test gives another */
  runTool?: RunTool;
  /** the NSFW classifier hosting uses; the model threads unless a test gives another */
  classifyNsfw?: ClassifyPixels;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** false in a process that never starts its job worker (`serve --role api`): it keeps nothing for runs */
  runsJobs?: boolean;
}

const JOB_POLL_MS = 1000;
/** A cold model thread loads the classifier first (about 1.5 s); a warm one answers in about 0.1 s. */
const NSFW_TIMEOUT_MS = 60_000;
const silent = { info() {}, warn() {}, error() {} };

/** Opens (and migrates) the database, checks storage, claims a temp folder and builds the services. */
export async function createCore(config: Config, { clock = systemClock, runTool, classifyNsfw: classifyOverride, log = silent, runsJobs = true }: CoreOptions = {}): Promise<Core> {
  const db = openDatabase(config.databaseUrl);
  const blobs = createBlobStore(config);
  let temp: TempDir | undefined;
  let accounts: Accounts;
  // Job changes and cancellations, heard by live views and this process's worker.
  const events = new JobEvents();
  try {
    await migrateToLatest(db.db, db.schema);
    accounts = await Accounts.open({ config, db: db.db, dialect: db.dialect, blobs, clock, log }); // better-auth's tables after ours
    await blobs.check(); // a wrong bucket or a read-only disk stops the start, not the first upload
    temp = await claimTempDir(path.join(config.dataDir, "tmp"));
  } catch (err) {
    await db.close();
    throw err;
  }
  const workers = new ImageWorkers(config.uploadConcurrency, config.decodeTimeoutMs);
  const budget = new MemoryBudget(config.decodeMemoryBytes);
  const limits = { maxPixels: config.maxPixels, maxAnimationPixels: config.maxAnimationPixels, decodeTimeoutMs: config.decodeTimeoutMs };
  const models = new ModelThreads(config.modelWorkers, { computeThreads: config.modelComputeThreads, nice: config.modelNice, settings: { colorizeManifest: config.colorizeModel } });
  const imageRepo = new ImageRepository(db.db);
  const nsfw = new NsfwClassification({
    repo: imageRepo,
    blobs,
    classify: classifyOverride ?? ((pixels) => classifyNsfw(models, pixels, NSFW_TIMEOUT_MS)),
    limits,
    concurrency: config.nsfwConcurrency,
    log,
  });
  const images = new ImageService({
    repo: imageRepo,
    blobs,
    clock,
    workers,
    views: new ViewCounter(clock),
    tmpDir: temp.path,
    limits,
    budget,
    maxUploadBytes: config.maxUploadBytes,
    concurrency: config.uploadConcurrency,
    classification: nsfw,
  });
  const ownTemp = temp;
  const wakeup: JobWakeup = db.dialect === "postgres" ? new PostgresWakeup(config.databaseUrl) : new LocalWakeup();
  const jobRepo = new JobRepository(db.db);
  const jobSettings = { retentionMs: config.toolRetentionMs, historyMs: config.jobHistoryRetentionMs, maxAttempts: config.jobMaxAttempts };
  const tools = new ToolRunner({ limits, budget, threads: workers, models, tempDir: temp.path, toolLimits: config.toolLimits });
  // What a submission learnt of its input, for the run in this process (bounded); none where no job runs.
  const identified = runsJobs ? new IdentifiedInputs() : undefined;
  const jobs = new JobService({ repo: jobRepo, blobs, clock, wakeup, settings: jobSettings, gate: toolGate(limits, identified), events });
  const metrics = config.metricsToken === null ? null : new Metrics({ activeJobs: () => jobRepo.countActive(), modelThreads: () => models.load(), imageThreads: () => workers.load() });
  const jobWorker = new JobWorker({
    repo: jobRepo,
    blobs,
    clock,
    wakeup,
    runTool: runTool ?? runToolWith(tools, identified),
    tmpDir: temp.path,
    settings: { ...jobSettings, concurrency: config.toolConcurrency, leaseMs: config.jobLeaseMs, pollMs: JOB_POLL_MS },
    log,
    events,
    ...(metrics ? { metrics } : {}),
  });
  const reports = new AbuseReports({ db: db.db, images, clock });
  const contact = new ContactMessages({ db: db.db, clock });
  const proofOfWork = config.proofOfWorkBits === null ? undefined : new ProofOfWork(authSecret(config.accounts.secret, config.dataDir), config.proofOfWorkBits, clock, db.db);
  const MINUTE = 60_000;
  const unviewed = config.unviewedImageRetentionMs;
  const retention = new Retention(db.db, clock, [
    { name: "tool_files", everyMs: MINUTE, run: () => jobs.purgeExpiredToolFiles() },
    { name: "job_history", everyMs: 60 * MINUTE, run: () => jobs.purgeJobHistory() },
    { name: "tombstones", everyMs: 60 * MINUTE, run: () => images.purgeTombstones(config.tombstoneRetentionMs) },
    { name: "abuse_reports", everyMs: 60 * MINUTE, run: () => reports.purgeResolved(config.reportRetentionMs) },
    { name: "contact_messages", everyMs: 60 * MINUTE, run: () => contact.purge(config.contactRetentionMs) },
    ...(unviewed === null ? [] : [{ name: "unviewed_images", everyMs: 60 * MINUTE, run: () => images.purgeUnviewed(unviewed) }]),
    { name: "abandoned_uploads", everyMs: 60 * MINUTE, run: () => images.purgeAbandonedUploads(ABANDONED_UPLOAD_AFTER_MS) },
    ...(proofOfWork ? [{ name: "spent_proofs", everyMs: 60 * MINUTE, run: () => proofOfWork.purgeSpent() }] : []),
    // Not a purge, but the same once-per-cluster schedule: images a stopped process or a missing model left unclassified (P9).
    { name: "nsfw_unclassified", everyMs: 5 * MINUTE, run: () => nsfw.sweep() },
  ]);
  return {
    config,
    clock,
    db,
    blobs,
    images,
    reports,
    contact,
    ...(proofOfWork ? { proofOfWork } : {}),
    jobs,
    accounts,
    jobWorker,
    retention,
    tools,
    models,
    nsfw,
    metrics,
    budget,
    workers,
    temp: ownTemp,
    async close() {
      nsfw.stop();
      await jobWorker.stop();
      await wakeup.close();
      await tools.close();
      await models.close();
      await nsfw.idle(); // its last task failed with the threads: nothing writes to the database now
      await workers.close();
      await db.close();
      await ownTemp.remove();
    },
  };
}
