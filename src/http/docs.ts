import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";

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
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    uiConfig: { validatorUrl: null, deepLinking: false },
    staticCSP: true,
    // Same-origin only: no external validator badge, fonts or images.
    transformStaticCSP: (header) => header.replace(/ validator\.swagger\.io| https:| upgrade-insecure-requests;/g, ""),
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
