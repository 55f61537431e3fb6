/**
 * The anonymous upload's proof of work, as the server checks it and the browser solves it: a
 * nonce such that SHA-256("<challenge>:<nonce>") starts with the challenge's number of zero bits.
 */
export const proofInput = (challenge: string, nonce: number): string => `${challenge}:${nonce}`;

export function leadingZeroBits(bytes: Uint8Array): number {
  let bits = 0;
  for (const byte of bytes) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}
