/**
 * An HTTP proxy in front of an S3 server that records every request (method, path and query, status):
 * what a reader asked the server for, seen from the server's side. Requests are forwarded unchanged,
 * Host header included, so SigV4 signatures made for the proxy's address still verify.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent, e.g. `/bucket?delimiter=%2F&prefix=velero%2F`. */
  readonly url: string;
  readonly status: number;
}

export interface RecordingProxy {
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  /** Forget what was recorded so far. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target);
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const up = http.request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        requests.push({ method: req.method ?? "", url: req.url ?? "", status: r.statusCode ?? 0 });
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", (e) => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", status: 502 });
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    reset: () => void requests.splice(0),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
