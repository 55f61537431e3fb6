import { z } from "zod";

export { errorSchema, imageSchema, serverConfigSchema, uploadedSchema } from "../common/api/images.js";

export const idParams = z.object({ id: z.string() });
