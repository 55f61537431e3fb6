/**
 * Solves the anonymous upload's proof of work off the page's thread: the first nonce whose
 * SHA-256 of "<challenge>:<nonce>" starts with `bits` zero bits.
 */
import { leadingZeroBits, proofInput } from "$common/proof-of-work.js";

const encoder = new TextEncoder();
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<{ challenge: string; bits: number }>) => void) | null;
  postMessage(answer: string): void;
};

scope.onmessage = async (event) => {
  const { challenge, bits } = event.data;
  for (let nonce = 0; ; nonce++) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(proofInput(challenge, nonce))));
    if (leadingZeroBits(digest) >= bits) {
      scope.postMessage(`${challenge}:${nonce}`);
      return;
    }
  }
};
