import { connect, type Socket } from "node:net";

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: any;
  /** the whole answer as received, for debugging a failure */
  text: string;
}

/** Parses the first HTTP/1.1 answer in `text` (Content-Length framed, as every error is). */
export function parseReply(text: string): RawReply {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`no complete answer in ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers["content-length"] ?? text.length - end - 4);
  const raw = text.slice(end + 4, end + 4 + length);
  let body: any = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // not JSON: the test says what it expected
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body, text };
}

/** A loopback connection to the test server that records everything the server sends. */
export function openRaw(port: number): { socket: Socket; received(): string; closed: Promise<void> } {
  const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("error", () => undefined); // a reset after the answer is part of several cases
  // The server ending its side is enough: it has said all it will.
  const closed = new Promise<void>((resolve) => {
    socket.once("end", () => resolve());
    socket.once("close", () => resolve());
  });
  return { socket, received: () => Buffer.concat(chunks).toString("latin1"), closed };
}

/**
 * Sends `request` as is, optionally half-closes, and resolves with the server's first answer once
 * the server closes the connection (or `waitMs` passes).
 */
export async function rawExchange(port: number, request: string | Buffer, { end = false, waitMs = 10_000 } = {}): Promise<RawReply> {
  const conn = openRaw(port);
  await new Promise<void>((resolve) => conn.socket.once("connect", () => resolve()));
  conn.socket.write(request);
  if (end) conn.socket.end();
  await Promise.race([conn.closed, new Promise((r) => setTimeout(r, waitMs))]);
  conn.socket.destroy();
  return parseReply(conn.received());
}

/** Resolves once `received()` holds a complete Content-Length framed answer. */
export async function waitForReply(received: () => string, timeoutMs = 10_000): Promise<RawReply> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = received();
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
      if (length && text.length >= end + 4 + Number(length[1])) return parseReply(text);
    }
    if (Date.now() > until) throw new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 300))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
