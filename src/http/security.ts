import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

/** The policy every page of Pixhaven runs under: its own origin only, no inline code. */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "blob:", "data:"],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", "blob:"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  upgradeInsecureRequests: null,
};

type Directives = Record<string, string[] | null>;

/** The directives as a Content-Security-Policy header value, as helmet writes them (null: left out). */
function serialise(directives: Directives): string {
  return Object.entries(directives)
    .filter((entry): entry is [string, string[]] => entry[1] !== null)
    .map(([name, values]) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), ...values].join(" "))
    .join(";");
}

/**
 * The policy of the in-browser background-removal page alone (served at its own address, a
 * document of its own): ONNX Runtime Web starts its workers and loads its glue code from blob:
 * URLs and ndarray compiles functions with new Function, so that page needs 'unsafe-eval' and
 * blob: scripts and connections. Every other page keeps CONTENT_SECURITY_POLICY.
 */
export const RELAXED_SCRIPT_POLICY = serialise({
  ...CONTENT_SECURITY_POLICY,
  scriptSrc: [...CONTENT_SECURITY_POLICY.scriptSrc, "'unsafe-eval'", "blob:"],
  connectSrc: [...CONTENT_SECURITY_POLICY.connectSrc, "blob:"],
});

// Pixhaven needs none of these; denying them means no injected content could ask for them either,
// and opts every page out of interest-based advertising APIs.
const PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=(), interest-cohort=()";

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("permissions-policy", PERMISSIONS_POLICY);
  });
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    // Cross-origin isolation lets the browser tools use threads (SharedArrayBuffer) later.
    crossOriginEmbedderPolicy: { policy: "require-corp" },
    crossOriginOpenerPolicy: { policy: "same-origin" },
    crossOriginResourcePolicy: { policy: "same-origin" },
    referrerPolicy: { policy: "no-referrer" },
    frameguard: { action: "deny" }, // as frame-ancestors 'none', for browsers without CSP 2
    hsts: false, // only the operator's TLS front knows whether HTTPS is permanent
  });
}
