import { account } from "./account.svelte.js";
import { getConfig, request } from "./api.js";

/** A solved proof for an anonymous upload when this server asks for one (PROOF_OF_WORK); none otherwise. */
export async function proofIfAsked(): Promise<string | undefined> {
  const config = await getConfig().catch(() => null);
  return config?.proofOfWorkBits && !account.signedIn ? proveWork() : undefined;
}

/**
 * The answer an anonymous upload carries when the server asks for a proof of work (P16, a bot check
 * with no third party): a challenge from this server, solved in a web worker, for X-Proof-Of-Work.
 */
export async function proveWork(): Promise<string> {
  const issued = await request<{ challenge: string; bits: number }>("/api/v1/pow", { cache: "no-store" });
  const worker = new Worker(new URL("./pow.worker.ts", import.meta.url), { type: "module", name: "pixhaven-proof-of-work" });
  try {
    return await new Promise<string>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<string>) => resolve(event.data);
      worker.onerror = () => reject(new Error("The proof of work could not be computed."));
      worker.postMessage(issued);
    });
  } finally {
    worker.terminate();
  }
}
