/**
 * An HTTP proxy on a loopback port in front of a test server (the S3 one), that misbehaves on
 * request: answer with an error status, delay, never answer, cut or stall a body partway, or flip
 * a byte of it. The client is pointed at the proxy's endpoint; rules pick requests by method and
 * path, optionally only the first N of them. Every request is logged (method, path, headers, what
 * was done) so tests can also see what the client sent, such as the parts of a multipart upload.
 *
 * `emulateConditionalWrites` makes the proxy honour `If-None-Match: *` on PUT for a server that
 * ignores it (s3rver): it checks whether the key exists and answers 412 as S3 does, one PUT per key
 * at a time. That is an emulation for exercising a client's 412 path, not evidence about a server.
 */
import { once } from "node:events";
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export type Fault =
  /** Answer with this status and an S3-style XML error, without asking the upstream. */
  | { kind: "status"; status: number }
  /** Wait, then forward as usual. */
  | { kind: "delay"; ms: number }
  /** Read the request and never answer. */
  | { kind: "hang" }
  /** Forward, send the status, headers (with the full Content-Length) and the first bytes, then cut the connection. */
  | { kind: "truncate"; afterBytes: number }
  /** Forward, send the first bytes, then go silent with the connection left open. */
  | { kind: "stall"; afterBytes: number }
  /** Forward with the first byte of the body inverted (same length, so only a digest notices). */
  | { kind: "corrupt" };

export interface FaultRule {
  /** GET, PUT, HEAD, POST, DELETE; any when absent. */
  method?: string;
  /** A substring of, or a pattern for, the request path with its query; any when absent. */
  path?: string | RegExp;
  fault: Fault;
  /** Applies to this many matching requests, then expires; every one when absent. */
  times?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The fault applied, if any. */
  fault: Fault["kind"] | undefined;
  /** The status sent to the client (undefined while pending, or never for "hang"). */
  status: number | undefined;
}

const ERROR_CODES: Record<number, string> = { 403: "AccessDenied", 404: "NoSuchKey", 412: "PreconditionFailed", 500: "InternalError", 503: "ServiceUnavailable" };

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  private rules: { rule: FaultRule; left: number }[] = [];
  private readonly keyLocks = new Map<string, Promise<void>>();
  private readonly agent = new http.Agent({ keepAlive: true });

  private constructor(
    private readonly server: http.Server,
    private readonly upstream: URL,
    private readonly emulateConditionalWrites: boolean,
  ) {}

  static async start(upstream: string, options: { emulateConditionalWrites?: boolean } = {}): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, new URL(upstream), options.emulateConditionalWrites === true);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      proxy.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(502).end(String(error));
        else res.destroy();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  addFault(rule: FaultRule): void {
    this.rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.rules = [];
  }

  /** Closes the proxy, hung and stalled connections included. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const entry = this.rules.find(({ rule, left }) => {
      if (left <= 0) return false;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) return false;
      if (rule.path === undefined) return true;
      return typeof rule.path === "string" ? path.includes(rule.path) : rule.path.test(path);
    });
    if (entry === undefined) return undefined;
    entry.left -= 1;
    return entry.rule.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const fault = this.takeFault(method, path);
    const logged: ProxiedRequest = { method, path, headers: req.headers, fault: fault?.kind, status: undefined };
    this.requests.push(logged);
    res.on("finish", () => (logged.status = res.statusCode));

    if (fault?.kind === "hang") {
      req.resume();
      return;
    }
    if (fault?.kind === "status") {
      req.resume();
      await once(req, "end");
      respondWithError(res, fault.status);
      return;
    }
    if (fault?.kind === "delay") await sleep(fault.ms);
    if (this.emulateConditionalWrites && method === "PUT" && req.headers["if-none-match"] === "*") {
      await this.withKeyLock(path.split("?")[0] ?? path, async () => {
        if (await this.exists(path.split("?")[0] ?? path, req.headers)) {
          req.resume();
          await once(req, "end");
          respondWithError(res, 412);
        } else {
          await this.forward(req, res, fault);
        }
      });
      return;
    }
    await this.forward(req, res, fault);
  }

  private async forward(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined): Promise<void> {
    const upstreamRequest = http.request({
      host: this.upstream.hostname,
      port: this.upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: this.agent,
    });
    req.pipe(upstreamRequest);
    const [upstreamResponse] = (await once(upstreamRequest, "response")) as [IncomingMessage];
    res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
    const limit = fault?.kind === "truncate" || fault?.kind === "stall" ? fault.afterBytes : Number.POSITIVE_INFINITY;
    let sent = 0;
    for await (const chunk of upstreamResponse) {
      let bytes = chunk as Buffer;
      if (fault?.kind === "corrupt" && sent === 0 && bytes.length > 0) {
        bytes = Buffer.from(bytes);
        bytes[0] = (bytes[0] ?? 0) ^ 0xff;
      }
      const room = limit - sent;
      if (bytes.length >= room && limit !== Number.POSITIVE_INFINITY) {
        if (room > 0) res.write(bytes.subarray(0, room));
        upstreamResponse.destroy();
        if (fault?.kind === "truncate") {
          // Let the bytes already written leave before cutting the connection.
          await new Promise<void>((resolve) => res.socket?.write("", () => resolve()) ?? resolve());
          res.socket?.destroy();
        }
        return; // "stall": the client waits for bytes that never come
      }
      res.write(bytes);
      sent += bytes.length;
    }
    res.end();
  }

  private async exists(path: string, headers: IncomingHttpHeaders): Promise<boolean> {
    const head = http.request({ host: this.upstream.hostname, port: this.upstream.port, method: "HEAD", path, headers: { host: headers.host }, agent: this.agent });
    head.end();
    const [response] = (await once(head, "response")) as [IncomingMessage];
    response.resume();
    return response.statusCode === 200;
  }

  private async withKeyLock(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.keyLocks.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const settled = current.catch(() => undefined);
    this.keyLocks.set(key, settled);
    try {
      await current;
    } finally {
      if (this.keyLocks.get(key) === settled) this.keyLocks.delete(key);
    }
  }
}

function respondWithError(res: ServerResponse, status: number): void {
  const code = ERROR_CODES[status] ?? "InjectedFault";
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test fault proxy</Message><RequestId>fault-proxy</RequestId></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
