import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { costKey } from "../common/tools/cost.js";
import { effectiveLimits, toolCatalogue } from "../common/tools/index.js";
import type { Config } from "../config.js";
import type { JobService } from "../jobs/service.js";
import type { ModelThreads } from "../models/pool.js";
import { runsOnServer, toolModels } from "../tools/registry.js";

export const toolSchema = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string(),
  runsOn: z.enum(["browser", "server", "both"]),
  params: z.record(z.string(), z.unknown()).describe("JSON Schema of the params a client sends; the server fills in defaults"),
  accepts: z.array(z.string()).describe("MIME types, judged from the bytes"),
  limits: z.object({ maxInputPixels: z.number().optional(), maxOutputPixels: z.number().optional(), maxPages: z.number().optional(), maxModelPixels: z.number().optional() }),
  available: z.boolean().describe("whether this server runs the tool"),
  unavailableReason: z.string().optional(),
  secondsPerMegapixel: z.number().nullable().describe("seconds per megapixel worked on, for a run with the default settings: the median of the recent runs on this server; null before any"),
  secondsPerMegapixelByKind: z
    .record(z.string(), z.number())
    .describe("the same for each kind of run the tool has made here, by costKey (restore: fast or ai; upscale: model-xscale, e.g. best-x4; remove-background: the model; ocr: languages-n); a kind not yet run is absent"),
});

export const toolsResponseSchema = z.object({
  retentionSeconds: z.number().int().describe("files sent to a server tool are deleted this long after their job ends"),
  maxUploadBytes: z.number().int(),
  maxBatchFiles: z.number().int(),
  urlImport: z.boolean(),
  tools: z.array(toolSchema),
});

/** Whether this server runs the tool: not a browser-only one, and every model it needs installed. */
async function availability(name: Parameters<typeof runsOnServer>[0], models: Pick<ModelThreads, "unavailable">): Promise<{ available: boolean; unavailableReason?: string }> {
  if (!runsOnServer(name)) return { available: false, unavailableReason: "runs in the browser only" };
  for (const model of toolModels(name)) {
    const reason = await models.unavailable(model);
    if (reason) return { available: false, unavailableReason: `its model is not installed: ${reason}` };
  }
  return { available: true };
}

export const toolsApi: FastifyPluginAsyncZod<{ jobs: JobService; config: Config; models: Pick<ModelThreads, "unavailable"> }> = async (app, { jobs, config, models }) => {
  const rates = async (tool: string, available: boolean) => {
    const byKind = available ? await jobs.secondsPerMegapixel(tool) : {};
    return { secondsPerMegapixel: byKind[costKey(tool, {})] ?? null, secondsPerMegapixelByKind: byKind };
  };
  app.get(
    "/api/v1/tools",
    {
      schema: {
        summary: "Every tool: parameters as JSON Schema, availability here, measured cost",
        tags: ["tools"],
        response: { 200: toolsResponseSchema },
      },
    },
    async () => {
      const tools = await Promise.all(
        toolCatalogue((name, own) => effectiveLimits(own, config.toolLimits[name], config.maxPixels)).map(async (tool) => {
          const { available, unavailableReason } = await availability(tool.name, models);
          return {
            ...tool,
            accepts: [...tool.accepts],
            available,
            ...(unavailableReason ? { unavailableReason } : {}),
            ...(await rates(tool.name, available)),
          };
        }),
      );
      return {
        retentionSeconds: Math.round(config.toolRetentionMs / 1000),
        maxUploadBytes: config.maxUploadBytes,
        maxBatchFiles: config.maxBatchFiles,
        urlImport: config.urlImport.enabled,
        tools,
      };
    },
  );
};
