import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { parseByteSize } from "./common/byte-size.js";
import { parseDuration } from "./common/duration.js";
import { type Cidr, parseAllowList } from "./net/address-policy.js";

const MiB = 1024 * 1024;

/** A text setting turned into a value by `parse`, whose thrown message becomes the setting's error. */
const parsedSetting = <T>(fallback: string, parse: (text: string) => T) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    });
const duration = (fallback: string) => parsedSetting(fallback, parseDuration);

function parseRateLimit(text: string): { max: number; windowMs: number } | null {
  if (text === "0" || text === "off") return null;
  const match = /^(\d+)\/(.+)$/.exec(text.trim());
  if (!match || Number(match[1]) < 1) throw new Error(`use "<uploads>/<duration>" such as 100/10m, or off`);
  return { max: Number(match[1]), windowMs: parseDuration(match[2]!) };
}

const positiveInt = z.coerce.number().int().positive();
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => ["true", "1", "yes"].includes(v));

/**
 * Every setting Pixhaven reads, its default, and what it does. README's configuration table is
 * this list; keep them in step.
 */
const envSchema = z.object({
  PORT: positiveInt.max(65535).default(8080),
  HOST: z.string().default("0.0.0.0"),
  PUBLIC_URL: z
    .string()
    .url()
    .refine((url) => new URL(url).pathname.replace(/\/+$/, "") === "", "must be an origin such as https://img.example.org, without a path")
    .optional(),
  DATA_DIR: z.string().default("./data"),
  DATABASE_URL: z.string().optional(),
  MAX_UPLOAD_BYTES: positiveInt.default(50 * MiB),
  MAX_PIXELS: positiveInt.default(100_000_000),
  MAX_ANIMATION_PIXELS: positiveInt.optional(),
  UPLOAD_CONCURRENCY: positiveInt.default(availableParallelism()),
  DECODE_TIMEOUT: duration("60s"),
  DECODE_MEMORY: parsedSetting("320MiB", parseByteSize),
  TOMBSTONE_RETENTION: duration("30d"),
  UNVIEWED_IMAGE_RETENTION: parsedSetting("180d", (text) => (text === "off" ? null : parseDuration(text))),
  UPLOAD_IDLE_TIMEOUT: duration("30s"),
  UPLOAD_MIN_RATE: parsedSetting("1KiB", parseByteSize),
  MAX_PENDING_UPLOADS: positiveInt.default(100),
  REQUEST_TIMEOUT: duration("30m"),
  SHUTDOWN_TIMEOUT: duration("30s"),
  TOOL_RETENTION: duration("60m"),
  JOB_HISTORY_RETENTION: duration("90d"),
  JOB_MAX_ATTEMPTS: positiveInt.max(20).default(3),
  TOOL_CONCURRENCY: positiveInt.default(availableParallelism()),
  MODEL_WORKERS: positiveInt.max(256).default(availableParallelism()),
  MODEL_COMPUTE_THREADS: positiveInt.max(256).optional(),
  MODEL_NICE: z.coerce.number().int().min(0).max(19).default(10),
  RESTORE_MAX_PIXELS: positiveInt.default(250_000),
  UPSCALE_MAX_OUTPUT_PIXELS: positiveInt.default(16_000_000),
  COLORIZE_MODEL: z.string().min(1).optional(),
  NSFW_THRESHOLD: z.coerce.number().min(0).max(1).default(0.7),
  NSFW_CONCURRENCY: positiveInt.max(64).default(1),
  JOB_LEASE: duration("30s"),
  MAX_BATCH_FILES: positiveInt.max(1000).default(50),
  TRUST_PROXY: bool.default(false),
  UPLOAD_RATE_LIMIT: parsedSetting("100/10m", parseRateLimit),
  REPORT_RATE_LIMIT: parsedSetting("20/1h", parseRateLimit),
  REPORT_RETENTION: duration("365d"),
  CONTACT_RATE_LIMIT: parsedSetting("5/1h", parseRateLimit),
  CONTACT_RETENTION: duration("730d"),
  URL_IMPORT: z.enum(["on", "off"]).default("on"),
  URL_IMPORT_TIMEOUT: duration("20s"),
  URL_IMPORT_ALLOW: parsedSetting("", parseAllowList),
  BLOCKED_NETWORKS: parsedSetting("", parseAllowList),
  PROOF_OF_WORK: parsedSetting("off", (text) => {
    if (text === "off") return null;
    const bits = Number(text);
    if (!Number.isInteger(bits) || bits < 1 || bits > 32) throw new Error('use off, or the zero bits a proof needs (1 to 32; 16 is about a second in a browser)');
    return bits;
  }),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  METRICS_TOKEN: z.string().min(16, "use at least 16 random characters").optional(),
  ACCESS_LOG: z.enum(["file", "stdout"]).default("file"),
  ACCESS_LOG_RETENTION: parsedSetting("90d", (text) => {
    const ms = parseDuration(text);
    if (ms < 24 * 60 * 60 * 1000) throw new Error("use at least 1d: the access log is kept in files of a day");
    return ms;
  }),
  STORAGE: z.enum(["disk", "s3"]).default("disk"),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_BUCKET: z.string().min(1).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool.optional(),
  S3_PREFIX: z.string().default(""),
  AUTH_SECRET: z.string().min(32, "use at least 32 random characters").optional(),
  REGISTRATION: z.enum(["open", "invite", "closed"]).default("open"),
  REQUIRE_EMAIL_VERIFICATION: bool.optional(),
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().min(3).optional(),
  SESSION_LIFETIME: duration("30d"),
  SIGN_IN_RATE_LIMIT: parsedSetting("10/1m", parseRateLimit),
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_NAME: z.string().min(1).default("Single sign-on"),
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
}).superRefine((env, ctx) => {
  if (env.STORAGE === "s3" && !env.S3_BUCKET) ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: "required when STORAGE=s3" });
  // One key without the other would silently fall back to the default credential chain.
  if (!env.S3_ACCESS_KEY_ID !== !env.S3_SECRET_ACCESS_KEY) {
    ctx.addIssue({ code: "custom", path: [env.S3_ACCESS_KEY_ID ? "S3_SECRET_ACCESS_KEY" : "S3_ACCESS_KEY_ID"], message: "set both S3 keys, or neither" });
  }
  if (env.OIDC_ISSUER && !env.OIDC_CLIENT_ID) ctx.addIssue({ code: "custom", path: ["OIDC_CLIENT_ID"], message: "required when OIDC_ISSUER is set" });
  for (const p of ["GOOGLE", "GITHUB"] as const) {
    if (!env[`${p}_CLIENT_ID`] !== !env[`${p}_CLIENT_SECRET`]) ctx.addIssue({ code: "custom", path: [`${p}_CLIENT_SECRET`], message: `set both ${p}_CLIENT_ID and ${p}_CLIENT_SECRET, or neither` });
  }
});

/** Accounts and sign-in (src/accounts). */
export interface AccountsConfig {
  /** signs cookies and encrypts TOTP secrets; generated into DATA_DIR/auth-secret when unset */
  secret: string | undefined;
  /** open: anyone may sign up; invite: with an invitation code; closed: accounts come from `pixhaven users add` */
  registration: "open" | "invite" | "closed";
  requireEmailVerification: boolean;
  /** smtp(s)://user:pass@host:port; without it no mail is sent (and verification is off by default) */
  smtpUrl: string | undefined;
  mailFrom: string;
  sessionLifetimeMs: number;
  /** sign-in attempts per network (IPv4 /24, IPv6 /48) per window; null when off */
  signInRateLimit: { max: number; windowMs: number } | null;
  oidc: { issuer: string; clientId: string; clientSecret: string | undefined; name: string } | null;
  google: { clientId: string; clientSecret: string } | null;
  github: { clientId: string; clientSecret: string } | null;
}

/** Where blobs live: folders under DATA_DIR/blobs, or a bucket shared by several processes. */
export type StorageConfig = { kind: "disk" } | S3StorageConfig;

export interface S3StorageConfig {
  kind: "s3";
  /** absent for AWS itself */
  endpoint?: string;
  region: string;
  bucket: string;
  /** both or neither; without them the SDK's default credential chain applies */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** prepended to every key, so that several things can share a bucket */
  prefix: string;
}

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string;
  maxUploadBytes: number;
  maxPixels: number;
  maxAnimationPixels: number;
  uploadConcurrency: number;
  decodeTimeoutMs: number;
  /** decoder memory all uploads and tools together may hold at once */
  decodeMemoryBytes: number;
  tombstoneRetentionMs: number;
  /** P12: a hosted image nobody has viewed for this long (since its upload, if never) is removed; null: kept */
  unviewedImageRetentionMs: number | null;
  /** an upload whose body brings fewer than uploadMinBytesPerSecond × this in any such window is cut (408); 0: never */
  uploadIdleTimeoutMs: number;
  uploadMinBytesPerSecond: number;
  /** uploads still receiving their body at once; more answer 503 busy */
  maxPendingUploads: number;
  /** the longest a whole request (headers and body) may take to arrive; 0: no limit */
  requestTimeoutMs: number;
  /** how long SIGTERM waits for requests in flight before exiting anyway */
  shutdownTimeoutMs: number;
  /** files of server tools (inputs and outputs) are deleted this long after their job ends (P5) */
  toolRetentionMs: number;
  /** a job's history row (no image) stays this long after its files are gone (P6) */
  jobHistoryRetentionMs: number;
  jobMaxAttempts: number;
  /** tool jobs one worker process runs at once */
  toolConcurrency: number;
  /** threads that run models, each keeping the models it used loaded */
  modelWorkers: number;
  /** threads ONNX Runtime may use inside each model thread (default: cores ÷ MODEL_WORKERS) */
  modelComputeThreads: number;
  /** how far below the server's CPU priority model threads run (Linux nice, 0-19) */
  modelNice: number;
  /** the operator's limits for particular tools, over their specs' own (RESTORE_MAX_PIXELS, UPSCALE_MAX_OUTPUT_PIXELS) */
  toolLimits: Record<string, { maxModelPixels?: number; maxOutputPixels?: number }>;
  /** the manifest (JSON) of an operator-supplied ONNX colourisation model; colorize is unavailable without one */
  colorizeModel: string | undefined;
  /** P9: the viewer blurs a hosted image whose Porn + Hentai + Sexy probability is above this */
  nsfwThreshold: number;
  /** hosted images this process classifies at once, after storing them */
  nsfwConcurrency: number;
  /** a worker renews its hold on a running job this often (a third of it); a job not renewed in time is tried again */
  jobLeaseMs: number;
  maxBatchFiles: number;
  trustProxy: boolean;
  /** uploads per anonymised network (IPv4 /24, IPv6 /48) per window; null when off */
  uploadRateLimit: { max: number; windowMs: number } | null;
  /** P16: networks that may send nothing (uploads, tool jobs, reports, messages): 403 `blocked` */
  blockedNetworks: Cidr[];
  /** P16: zero bits an anonymous upload's proof of work needs; null when the check is off */
  proofOfWorkBits: number | null;
  /** abuse reports per anonymised network per window; null when off */
  reportRateLimit: { max: number; windowMs: number } | null;
  /** P14: a resolved report is deleted this long after its resolution */
  reportRetentionMs: number;
  /** contact messages per anonymised network per window; null when off */
  contactRateLimit: { max: number; windowMs: number } | null;
  /** P15: a contact message is deleted this long after it came */
  contactRetentionMs: number;
  /** uploads by URL: the server fetches from public addresses only, plus the ranges allowed here */
  urlImport: { enabled: boolean; timeoutMs: number; allowList: Cidr[] };
  logLevel: string;
  /** /metrics answers a scraper bearing this token; absent: no /metrics */
  metricsToken: string | null;
  /** P11: request logs in day files under `dir`, deleted after `retentionMs`; null: standard output only (ACCESS_LOG=stdout) */
  accessLog: { dir: string; retentionMs: number } | null;
  storage: StorageConfig;
  accounts: AccountsConfig;
  webDir: string;
}

/** Reads the environment once; throws a message naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  // A setting left empty (`DATABASE_URL=` in an env file) means "not set", never an empty value:
  // an empty database address would otherwise open a temporary database and lose everything.
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== "")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(overrides.dataDir ?? e.DATA_DIR);
  const port = overrides.port ?? e.PORT;
  return {
    port,
    host: e.HOST,
    // As browsers write an Origin (lower-case scheme and host, no default port), which the CSRF check compares with it.
    publicUrl: e.PUBLIC_URL ? new URL(e.PUBLIC_URL).origin : `http://localhost:${port}`,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, "pixhaven.sqlite")}`,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxPixels: e.MAX_PIXELS,
    maxAnimationPixels: e.MAX_ANIMATION_PIXELS ?? e.MAX_PIXELS * 10,
    uploadConcurrency: e.UPLOAD_CONCURRENCY,
    decodeTimeoutMs: e.DECODE_TIMEOUT,
    decodeMemoryBytes: e.DECODE_MEMORY,
    tombstoneRetentionMs: e.TOMBSTONE_RETENTION,
    unviewedImageRetentionMs: e.UNVIEWED_IMAGE_RETENTION,
    uploadIdleTimeoutMs: e.UPLOAD_IDLE_TIMEOUT,
    uploadMinBytesPerSecond: e.UPLOAD_MIN_RATE,
    maxPendingUploads: e.MAX_PENDING_UPLOADS,
    requestTimeoutMs: e.REQUEST_TIMEOUT,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
    toolRetentionMs: e.TOOL_RETENTION,
    jobHistoryRetentionMs: e.JOB_HISTORY_RETENTION,
    jobMaxAttempts: e.JOB_MAX_ATTEMPTS,
    toolConcurrency: e.TOOL_CONCURRENCY,
    modelWorkers: e.MODEL_WORKERS,
    modelComputeThreads: e.MODEL_COMPUTE_THREADS ?? Math.max(1, Math.floor(availableParallelism() / e.MODEL_WORKERS)),
    modelNice: e.MODEL_NICE,
    toolLimits: { restore: { maxModelPixels: e.RESTORE_MAX_PIXELS }, upscale: { maxOutputPixels: e.UPSCALE_MAX_OUTPUT_PIXELS } },
    colorizeModel: e.COLORIZE_MODEL ? path.resolve(e.COLORIZE_MODEL) : undefined,
    nsfwThreshold: e.NSFW_THRESHOLD,
    nsfwConcurrency: e.NSFW_CONCURRENCY,
    jobLeaseMs: e.JOB_LEASE,
    maxBatchFiles: e.MAX_BATCH_FILES,
    trustProxy: e.TRUST_PROXY,
    uploadRateLimit: e.UPLOAD_RATE_LIMIT,
    blockedNetworks: e.BLOCKED_NETWORKS,
    proofOfWorkBits: e.PROOF_OF_WORK,
    reportRateLimit: e.REPORT_RATE_LIMIT,
    reportRetentionMs: e.REPORT_RETENTION,
    contactRateLimit: e.CONTACT_RATE_LIMIT,
    contactRetentionMs: e.CONTACT_RETENTION,
    urlImport: { enabled: e.URL_IMPORT === "on", timeoutMs: e.URL_IMPORT_TIMEOUT, allowList: e.URL_IMPORT_ALLOW },
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN ?? null,
    accessLog: e.ACCESS_LOG === "file" ? { dir: path.join(dataDir, "logs"), retentionMs: e.ACCESS_LOG_RETENTION } : null,
    storage: storageConfig(e),
    accounts: accountsConfig(e, port),
    webDir: path.join(packageRoot(), "dist", "web"),
    ...overrides,
  };
}

function accountsConfig(e: z.infer<typeof envSchema>, port: number): AccountsConfig {
  const host = new URL(e.PUBLIC_URL ?? `http://localhost:${port}`).hostname;
  return {
    secret: e.AUTH_SECRET,
    registration: e.REGISTRATION,
    // A one-machine instance without a mail server must still let people in.
    requireEmailVerification: e.REQUIRE_EMAIL_VERIFICATION ?? e.SMTP_URL !== undefined,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? `Pixhaven <noreply@${host}>`,
    sessionLifetimeMs: e.SESSION_LIFETIME,
    signInRateLimit: e.SIGN_IN_RATE_LIMIT,
    oidc: e.OIDC_ISSUER && e.OIDC_CLIENT_ID ? { issuer: e.OIDC_ISSUER.replace(/\/+$/, ""), clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET, name: e.OIDC_NAME } : null,
    google: e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET ? { clientId: e.GOOGLE_CLIENT_ID, clientSecret: e.GOOGLE_CLIENT_SECRET } : null,
    github: e.GITHUB_CLIENT_ID && e.GITHUB_CLIENT_SECRET ? { clientId: e.GITHUB_CLIENT_ID, clientSecret: e.GITHUB_CLIENT_SECRET } : null,
  };
}

function storageConfig(e: z.infer<typeof envSchema>): StorageConfig {
  if (e.STORAGE === "disk" || !e.S3_BUCKET) return { kind: "disk" }; // a missing bucket was refused above
  return {
    kind: "s3",
    ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
    region: e.S3_REGION,
    bucket: e.S3_BUCKET,
    ...(e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } : {}),
    // Self-hosted services (MinIO, Garage, Ceph) rarely have a DNS name per bucket.
    forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
    prefix: e.S3_PREFIX,
  };
}

/** The folder holding package.json, whether running from src/ (tests) or dist/src/ (built). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url)); // decoded: install paths may hold spaces
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("package.json not found above " + import.meta.url);
    dir = parent;
  }
  return dir;
}
