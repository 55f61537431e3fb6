/** Anything with Node's worker `postMessage` shape: a Worker or a MessagePort. */
interface Postable {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
}

/**
 * Posts `message`, moving the buffers in `transfer` instead of copying them. Some buffers cannot be
 * moved (Node 22 and later refuse those a native addon allocated, such as sharp's output, and those
 * of Buffer's shared pool): the message is then copied, which costs a copy but never fails.
 */
export function postMoving(target: Postable, message: unknown, transfer: readonly ArrayBuffer[]): void {
  if (transfer.length === 0) return target.postMessage(message);
  try {
    target.postMessage(message, transfer);
  } catch (err) {
    if ((err as Error).name !== "DataCloneError") throw err;
    target.postMessage(message);
  }
}
