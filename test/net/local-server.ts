import http from "node:http";
import type { AddressInfo } from "node:net";

export interface LocalServer {
  /** e.g. http://127.0.0.1:1234 */
  origin: string;
  port: number;
  /** TCP connections accepted so far */
  connections: number;
  /** requests as received, in order */
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

/** An HTTP server on a loopback address, the only kind of server the URL import tests talk to. */
export async function startLocalServer(handler: http.RequestListener, host = "127.0.0.1"): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    state.requests.push(req);
    handler(req, res);
  });
  const state: LocalServer = {
    origin: "",
    port: 0,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on("connection", () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.address() as AddressInfo).port;
  state.origin = `http://${host.includes(":") ? `[${host}]` : host}:${state.port}`;
  return state;
}
