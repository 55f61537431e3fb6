import { z } from "zod";

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
});

export const uploadedSchema = imageSchema.extend({
  deleteToken: z.string().describe("returned once; send as X-Delete-Token to delete"),
  deleteUrl: z.string().describe("the viewer page with the token in its fragment (never sent to the server): opening it offers deletion"),
});

export const idParams = z.object({ id: z.string() });
