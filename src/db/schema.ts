import type { Generated, Insertable, Selectable } from "kysely";

/** Times are epoch milliseconds in BIGINT columns, so both dialects compare and sort them alike. */
export interface ImagesTable {
  id: string; // share id
  /** pending: row written, blobs being stored; a crash there leaves a pending row the purge finishes */
  status: "pending" | "active" | "deleted";
  delete_token_hash: string | null;
  owner_id: string | null;
  mime: string;
  ext: string;
  width: number;
  height: number;
  frames: number;
  bytes: number;
  etag: string;
  blob_key: string | null;
  thumb_key: string | null;
  thumbhash: string;
  original_name: string | null;
  views: Generated<number>;
  created_at: number;
  last_viewed_at: number | null;
  deleted_at: number | null;
  /** P9: the NSFW classifier's likeliest class, its probability and all five (JSON); null until classified */
  nsfw_label: string | null;
  nsfw_score: number | null;
  nsfw_scores: string | null;
}

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "expired";

/**
 * A queued tool run. The row is the job's whole record: the queue only carries its id. Once its
 * files are gone (P5) the row stays as history without any image (P6) until JOB_HISTORY_RETENTION.
 */
export interface JobsTable {
  id: string;
  batch_id: string;
  /** the job's place in its batch, in the order its files were sent */
  batch_index: Generated<number>;
  tool: string;
  params: string; // JSON, as validated
  status: JobStatus;
  progress: number;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
  /** JSON summary a tool returns beside its files (what strip removed, the quality compress chose) */
  report: string | null;
  input_name: string;
  input_bytes: number;
  /** decoded size of the input, when it is an image; the cost estimate divides by it */
  input_pixels: number | null;
  /** null once the input is deleted (when the job ends) */
  input_key: string | null;
  delete_token_hash: string;
  owner_id: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** when the outputs are deleted; set when the job ends */
  expires_at: number | null;
  /** the worker that holds a running job renews this; past it, the job is taken back */
  lease_until: number | null;
}

export interface JobOutputsTable {
  job_id: string;
  idx: number;
  name: string;
  /** null once deleted */
  blob_key: string | null;
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
  downloads: number;
  last_download_at: number | null;
}

/**
 * A visitor's report of a hosted image (abuse, or a copyright notice). No address or account of the
 * reporter is kept; `contact` only when they give one. Purged REPORT_RETENTION after it is resolved (P14).
 */
export interface AbuseReportsTable {
  id: string;
  /** the image reported; kept as an id, since the image may be gone */
  image_id: string;
  reason: string;
  details: string;
  contact: string | null;
  /** open until a moderator resolves it: the image removed, or the report dismissed */
  status: "open" | "removed" | "dismissed";
  created_at: number;
  resolved_at: number | null;
}

/** A message to the operator from the contact page; deleted CONTACT_RETENTION after it came (P15). */
export interface ContactMessagesTable {
  id: string;
  /** where the answer goes */
  email: string;
  message: string;
  created_at: number;
}

/** A proof of work already taken (P16): its challenge's signature, kept until the challenge expires, so it passes once in the whole cluster. */
export interface SpentProofsTable {
  mac: string;
  expires_at: number;
}

/** One row per scheduled maintenance task, so each runs once per cluster, not once per process. */
export interface MaintenanceTable {
  name: string;
  next_run_at: number;
}

/** API tokens (Authorization: Bearer): only the SHA-256 of each token is stored (P20). */
export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
}

/** The last TOTP time-step each user signed in with: a code is accepted once only. */
export interface TotpStepsTable {
  user_id: string;
  step: number;
}

/** REGISTRATION=invite: one-use codes, stored as SHA-256 hashes. */
export interface InvitesTable {
  code_hash: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/**
 * better-auth's tables, created and extended by its own migrations (src/accounts/auth.ts) in the
 * same database and schema; only the columns Pixhaven reads or erases are typed. Its times are
 * Date values on PostgreSQL and ISO or epoch values on SQLite: read them through toEpochMs.
 */
export interface AuthUserTable {
  id: string;
  name: string;
  email: string;
  emailVerified: boolean | number;
  image: string | null;
  role: string | null;
  twoFactorEnabled: boolean | number | null;
  createdAt: AuthTime;
  updatedAt: AuthTime;
}

export interface AuthSessionTable {
  id: string;
  userId: string;
  token: string;
  expiresAt: AuthTime;
  createdAt: AuthTime;
  updatedAt: AuthTime;
  ipAddress: string | null;
  userAgent: string | null;
  secondFactor: boolean | number | null;
}

export interface AuthAccountTable {
  id: string;
  userId: string;
  accountId: string;
  providerId: string;
  password: string | null;
  createdAt: AuthTime;
}

export interface AuthVerificationTable {
  id: string;
  identifier: string;
  value: string;
  expiresAt: AuthTime;
}

export interface AuthTwoFactorTable {
  id: string;
  userId: string;
  secret: string;
  backupCodes: string;
}

export interface AuthPasskeyTable {
  id: string;
  userId: string;
  name: string | null;
  createdAt: AuthTime | null;
}

export type AuthTime = Date | string | number;

export interface Database {
  images: ImagesTable;
  jobs: JobsTable;
  abuse_reports: AbuseReportsTable;
  contact_messages: ContactMessagesTable;
  spent_proofs: SpentProofsTable;
  job_outputs: JobOutputsTable;
  maintenance: MaintenanceTable;
  api_tokens: ApiTokensTable;
  totp_steps: TotpStepsTable;
  invites: InvitesTable;
  user: AuthUserTable;
  session: AuthSessionTable;
  account: AuthAccountTable;
  verification: AuthVerificationTable;
  twoFactor: AuthTwoFactorTable;
  passkey: AuthPasskeyTable;
}

export type JobRow = Selectable<JobsTable>;
export type JobOutputRow = Selectable<JobOutputsTable>;

export type ImageRow = Selectable<ImagesTable>;
export type AbuseReportRow = Selectable<AbuseReportsTable>;
export type ContactMessageRow = Selectable<ContactMessagesTable>;
export type NewImageRow = Insertable<ImagesTable>;
