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
}

export interface Database {
  images: ImagesTable;
}

export type ImageRow = Selectable<ImagesTable>;
export type NewImageRow = Insertable<ImagesTable>;
