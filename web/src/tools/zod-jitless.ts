import { z } from "zod";

/**
 * zod 4 probes `new Function("")` the first time it builds an object schema, to decide whether it
 * may compile parsers; under Pixhaven's CSP (no 'unsafe-eval') that probe is reported as a violation
 * on every page that touches a shared tool spec. Parsing without the compiled fast path is plenty
 * for a form's params. This module must run before any module that builds a schema: main.ts
 * imports it first.
 */
z.config({ jitless: true });
