import { z } from "zod";
import { NSFW_CLASSES, type NsfwClass } from "../nsfw.js";

/**
 * The hosting API's shapes: the HTTP layer validates its answers against them and the web app
 * takes its types from them, so the two cannot drift.
 */
export const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const imageSchema = z.object({
  id: z.string().describe("share id: 11 URL-safe characters, 66 random bits"),
  url: z.string().describe("viewer page"),
  rawUrl: z.string().describe("the stored bytes"),
  thumbUrl: z.string().describe("WebP thumbnail, at most 400 px"),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  mime: z.string(),
  frames: z.number().int().describe("1, or the number of animation frames"),
  thumbhash: z.string().describe("base64 ThumbHash placeholder"),
  views: z.number().int(),
  createdAt: z.string().describe("ISO 8601"),
  nsfw: z
    .object({
      label: z.enum(NSFW_CLASSES).describe("the likeliest class"),
      score: z.number().describe("its probability, 0..1"),
      scores: z.object(Object.fromEntries(NSFW_CLASSES.map((c) => [c, z.number()])) as Record<NsfwClass, z.ZodNumber>).describe("every class's probability; they sum to 1"),
    })
    .nullable()
    .describe("the NSFW classifier's answer (P9), null until it has run: images are classified just after they are stored"),
});

export const uploadedSchema = imageSchema.extend({
  deleteToken: z.string().describe("returned once; send as X-Delete-Token to delete"),
  deleteUrl: z.string().describe("the viewer page with the token in its fragment (never sent to the server): opening it offers deletion"),
});

export const serverConfigSchema = z.object({
  maxUploadBytes: z.number(),
  maxPixels: z.number(),
  acceptedTypes: z.array(z.string()),
  nsfwThreshold: z.number().describe("viewers blur an image whose Porn + Hentai + Sexy probability is above this (NSFW_THRESHOLD)"),
  proofOfWorkBits: z.number().nullable().describe("zero bits an anonymous upload's proof of work needs (GET /api/v1/pow); null: no check"),
  retention: z
    .object({
      toolFilesSeconds: z.number().describe("files sent to a server tool and its results, after the job ends (TOOL_RETENTION, P5)"),
      jobHistorySeconds: z.number().describe("a job's history without any file (JOB_HISTORY_RETENTION, P6)"),
      tombstoneSeconds: z.number().describe("the id of a deleted image answers 410 this long (TOMBSTONE_RETENTION, P13)"),
      unviewedImageSeconds: z.number().nullable().describe("a hosted image nobody views for this long is deleted (UNVIEWED_IMAGE_RETENTION, P12); null: never"),
      reportSeconds: z.number().describe("a report of an image, after it is resolved (REPORT_RETENTION, P14)"),
      contactSeconds: z.number().describe("a message from the contact page, after it came (CONTACT_RETENTION, P15)"),
      accessLogSeconds: z.number().nullable().describe("a day file of the server's request log, after the day began (ACCESS_LOG_RETENTION, P11); null: the log goes to standard output, kept as the operator's log system keeps it"),
    })
    .describe("how long each kind of data is kept: the periods the purges enforce, in seconds"),
});

export type ErrorJson = z.infer<typeof errorSchema>;
export type ImageJson = z.infer<typeof imageSchema>;
export type UploadedImageJson = z.infer<typeof uploadedSchema>;
export type ServerConfigJson = z.infer<typeof serverConfigSchema>;
