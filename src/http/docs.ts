import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";

/** Multipart bodies are streamed, not validated by a schema, so their shape is described here. */
const MULTIPART_BODIES: Record<string, object> = {
  "/api/v1/images": {
    required: true,
    content: {
      "multipart/form-data": {
        schema: {
          type: "object",
          properties: {
            file: { type: "string", format: "binary", description: "one JPEG, PNG, WebP, AVIF, GIF or HEIC/HEIF image" },
            url: { type: "string", format: "uri", maxLength: 1024, description: "instead of `file`: an http(s) address the server fetches the image from" },
          },
        },
      },
      "application/json": {
        schema: { type: "object", required: ["url"], properties: { url: { type: "string", format: "uri", description: "an http(s) address the server fetches the image from" } } },
      },
    },
  },
};

const SWAGGER_UI_STYLE_HASH = "sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w=";

/** OpenAPI at /openapi.json and a docs page at /docs, both generated from the route schemas. */
export async function registerApiDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: "Pixhaven API",
        version,
        description: 'Private image hosting. Errors are always `{"error":{"code","message"}}`.',
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (documentObject) => {
      const doc = jsonSchemaTransformObject(documentObject) as { paths?: Record<string, Record<string, { requestBody?: object }>> };
      for (const [path, requestBody] of Object.entries(MULTIPART_BODIES)) {
        const post = doc.paths?.[path]?.post;
        if (post) post.requestBody = requestBody;
      }
      return doc as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    uiConfig: { validatorUrl: null, deepLinking: false },
    staticCSP: true,
    // Same-origin only: no external validator badge, fonts or images; the one <style> element the
    // bundle injects is allowed by its hash (test/e2e/docs.test.ts fails if a new version changes it).
    transformStaticCSP: (header) =>
      header
        .replace(/ validator\.swagger\.io| https:| upgrade-insecure-requests;/g, "")
        .replace("style-src 'self'", `style-src 'self' '${SWAGGER_UI_STYLE_HASH}'`),
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
