// The HTTP API and /metrics. Nothing a client sends can crash or stall the supervisor: bodies are capped,
// slow clients time out, and every handler failure becomes a 500.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { statusDocJson } from "../../control/status-json.js";
import { parseTimeArg, TIME_ARG_HINT } from "../../control/time-arg.js";
import type { HttpConfig } from "../../manifest/types.js";
import { ConnectionPool, type ConnectionStats } from "../transports/connection-pool.js";
import type { Logger } from "../outputs/logger.js";
import { realClock } from "../real-clock.js";
import type { Clock } from "../../core/clock.js";
import type { LiveFeedOptions } from "./live-feed.js";
import { RejectLog } from "../transports/reject-log.js";
import { BadRequestError, ShuttingDownError, UnknownServiceError, type ApiBackend, type ControlCommand } from "./backend.js";
import { LiveFeed } from "./live-feed.js";
import { createMetrics } from "./metrics.js";
import { pingSignalOf } from "../../core/ping.js";
import { crossOriginReason, foreignHostReason } from "./origin.js";
import { HttpError } from "./http-error.js";
import { StreamRoute } from "./stream-route.js";
import { defaultWebDir, PAGE_HEADERS, WebFiles } from "./web-files.js";

export interface HttpApi {
  readonly address: { readonly host: string; readonly port: number };
  readonly stats: () => ConnectionStats;
  /** stops accepting, lets requests in flight answer, then closes every connection */
  close(): Promise<void>;
}

export { MAX_STREAMS_PER_PEER } from "./stream-route.js";
export const MAX_BODY_BYTES = 64 * 1024;
/** more connections than this: the least valuable one is closed to make room for the newcomer */
export const MAX_HTTP_CONNECTIONS = 256;
const CLOSE_GRACE_MS = 2_000;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const READ_PATHS = ["/api/status", "/api/heartbeat/status", "/metrics"] as const;
const MUTATION = /^\/api\/services\/([^/]+)\/(start|stop|restart|scale)$/;
const QUERY = /^\/api\/services\/([^/]+)\/(beats|tasks)$/;
/** a dead man's switch's ping (healthchecks.io's paths): success, start, fail, or an exit status */
const PING = /^\/ping\/([^/]+)(?:\/([^/]+))?\/?$/;
const STREAM_PATH = "/api/stream";
const ROUTES = [...READ_PATHS, STREAM_PATH, "/api/services/NAME/{beats,tasks}", "/api/services/NAME/{start,stop,restart,scale}", "/ping/NAME[/start|/fail|/CODE]", "/ (the dashboard)"];
const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...JSON_HEADERS, ...headers }).end(`${JSON.stringify(body)}\n`);
}

/** sha256 first, so timingSafeEqual compares equal lengths and the token's length does not leak */
function sameToken(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function bearerOf(req: IncomingMessage): RegExpExecArray | null {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? "");
}

/** the request carries `token` as its bearer token */
function hasBearer(req: IncomingMessage, token: string): boolean {
  const given = bearerOf(req)?.[1];
  return given !== undefined && sameToken(given, token);
}

function checkBearer(req: IncomingMessage, token: string): void {
  if (!hasBearer(req, token)) {
    const message = bearerOf(req) ? "wrong bearer token" : "missing bearer token (Authorization: Bearer …)";
    throw new HttpError(401, message, {}, { "www-authenticate": 'Bearer realm="vigil"' });
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off("data", onData);
      req.resume(); // drain; requestTimeout bounds a client that never stops
      reject(tooLarge());
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    // after "end" these are no-ops; before it, the client went away mid-body
    req.once("error", () => reject(new HttpError(400, "request aborted")));
    req.once("close", () => reject(new HttpError(400, "request aborted")));
  });
}

function parseMutationBody(body: Buffer): Record<string, unknown> {
  const text = body.toString("utf8").trim();
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, "request body is not valid JSON (send none, or {})");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new HttpError(400, "request body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function replicasOf(body: Record<string, unknown>): number {
  const replicas = body["replicas"];
  if (typeof replicas !== "number" || !Number.isInteger(replicas)) throw new HttpError(400, 'scale needs a body {"replicas": N} with a whole number N');
  return replicas;
}

function parseTarget(target: string): URL {
  try {
    return new URL(target, "http://vigil.invalid");
  } catch {
    throw new HttpError(400, "malformed request target");
  }
}

/** ?since=10m or an ISO time; absent or empty: open */
function timeParam(url: URL, key: "since" | "until", nowMs: number): number | null {
  const text = url.searchParams.get(key);
  if (text === null || text === "") return null;
  const at = parseTimeArg(text, nowMs);
  if (at === null) throw new HttpError(400, `${key}=${JSON.stringify(text.slice(0, 40))}: expected ${TIME_ARG_HINT}`);
  return at;
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `malformed service name in the path: ${raw}`);
  }
}

function noTokenReason(config: HttpConfig): string {
  return config.tokenEnv ? `the environment variable ${config.tokenEnv} is empty or not set` : "no http.token_env is configured in the manifest";
}

/** Reads the token at start: a non-loopback address without one is refused here, whatever the loader let through. */
function resolveToken(config: HttpConfig, env: NodeJS.ProcessEnv, logger: Logger): string | null {
  const token = config.tokenEnv ? env[config.tokenEnv]?.trim() || null : null;
  if (token === null && !isLoopback(config.host)) {
    throw new Error(`http: refusing to listen on ${config.host}:${config.port} (not loopback) without a bearer token: ${noTokenReason(config)}`);
  }
  if (token === null && config.tokenEnv) {
    logger.log("warn", null, "http-no-token", `http: ${noTokenReason(config)}; start/stop/restart over HTTP are refused`);
  }
  return token;
}

function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof UnknownServiceError) return new HttpError(404, err.message, { known: err.known });
  if (err instanceof ShuttingDownError) return new HttpError(503, err.message, {}, { "retry-after": "5" });
  if (err instanceof BadRequestError) return new HttpError(400, err.message);
  return null;
}

export interface HttpApiOptions {
  /** where the dashboard's files are (default: dist/web) */
  readonly webDir?: string;
  readonly clock?: Clock;
  readonly feed?: Omit<LiveFeedOptions, "actions">;
}

export async function startHttpApi(
  config: HttpConfig,
  backend: ApiBackend,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
  opts: HttpApiOptions = {},
): Promise<HttpApi> {
  const token = resolveToken(config, env, logger);
  const authEverywhere = !isLoopback(config.host);
  const metrics = createMetrics(backend);
  const web = new WebFiles(opts.webDir ?? defaultWebDir());
  const dashboard = backend.dashboard;
  const feed = dashboard ? new LiveFeed(opts.clock ?? realClock, backend, dashboard, { actions: token === null ? "disabled" : "token", ...opts.feed }) : null;
  const streams = feed ? new StreamRoute(feed, backend, logger) : null;

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = parseTarget(req.url ?? "/");
    const method = req.method ?? "GET";
    const body = await readBody(req);
    const ping = backend.ping ? PING.exec(url.pathname) : null;
    // a ping carries its check's own token (token_env), checked by the backend
    if (ping && backend.ping) return pingRoute(req, res, method, ping, backend.ping.bind(backend), token, logger);

    const path = url.pathname;
    // the page and its files hold no data, and a browser cannot send a bearer token when it navigates
    if (dashboard && !path.startsWith("/api/") && path !== "/metrics" && (method === "GET" || method === "HEAD")) {
      const file = await web.get(path);
      if (file) return void res.writeHead(200, { ...PAGE_HEADERS, "content-type": file.contentType, "content-length": file.body.length }).end(method === "HEAD" ? undefined : file.body);
    }
    if (authEverywhere && token !== null) checkBearer(req, token);
    if (!authEverywhere) {
      const foreign = foreignHostReason(req, config.host);
      if (foreign !== null && !(token !== null && hasBearer(req, token))) throw new HttpError(421, foreign);
    }
    if (path === STREAM_PATH) {
      if (method !== "GET") throw new HttpError(405, `${method} not allowed on ${path}`, {}, { allow: "GET" });
      if (!streams) throw new HttpError(404, `no route ${path}`, { routes: ROUTES });
      return streams.open(req, res, url);
    }
    if ((READ_PATHS as readonly string[]).includes(path)) {
      if (method !== "GET" && method !== "HEAD") throw new HttpError(405, `${method} not allowed on ${path}`, {}, { allow: "GET, HEAD" });
      backend.readFigures?.();
      if (path === "/api/heartbeat/status") return sendJson(res, 200, backend.heartbeatStatus());
      if (path === "/api/status") {
        const doc = backend.status(url.searchParams.getAll("service").filter(Boolean), { history: wantsHistory(url) });
        return void res.writeHead(200, JSON_HEADERS).end(`${statusDocJson(doc)}\n`);
      }
      const text = await metrics.scrape();
      return void res.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" }).end(text);
    }
    const query = QUERY.exec(path);
    if (query && backend.beats && backend.tasks) {
      if (method !== "GET" && method !== "HEAD") throw new HttpError(405, `${method} not allowed on ${path}`, {}, { allow: "GET, HEAD" });
      const name = decodeName(query[1] ?? "");
      if (query[2] === "tasks") return sendJson(res, 200, backend.tasks(name));
      const now = Date.now();
      return sendJson(res, 200, backend.beats(name, timeParam(url, "since", now), timeParam(url, "until", now)));
    }
    const mutation = MUTATION.exec(path);
    if (!mutation) throw new HttpError(404, `no route ${path}`, { routes: ROUTES });
    if (method !== "POST") throw new HttpError(405, `${method} not allowed on ${path}`, {}, { allow: "POST" });
    const foreign = crossOriginReason(req);
    if (foreign !== null) throw new HttpError(403, foreign);
    if (token === null) throw new HttpError(403, `start/stop/restart/scale over HTTP are disabled: ${noTokenReason(config)}`);
    checkBearer(req, token);
    const fields = parseMutationBody(body);
    const name = decodeName(mutation[1] ?? "");
    if (mutation[2] === "scale") {
      const replicas = replicasOf(fields);
      if (!backend.scale) throw new HttpError(404, `no route ${path}`, { routes: ROUTES });
      backend.scale(name, replicas);
      logger.log("info", name, "http-control", `scale to ${replicas} requested over HTTP`, { remote: req.socket.remoteAddress });
      return sendJson(res, 202, { accepted: true, command: "scale", services: [name], replicas });
    }
    const command = mutation[2] as ControlCommand;
    backend.control(command, [name]);
    logger.log("info", name, "http-control", `${command} requested over HTTP`, { remote: req.socket.remoteAddress });
    sendJson(res, 202, { accepted: true, command, services: [name] });
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    let error = toHttpError(err);
    if (!error) {
      logger.log("error", null, "http-error", `http: ${req.method} ${req.url} failed: ${(err as Error)?.message ?? String(err)}`);
      error = new HttpError(500, "internal error; see the supervisor's log");
    }
    if (res.headersSent || res.destroyed) return void res.destroy();
    // a body left unread would keep the connection busy; the client opens a new one
    const close: Record<string, string> = error.status === 413 || error.status === 400 ? { connection: "close" } : {};
    sendJson(res, error.status, { error: error.message, ...error.extra }, { ...error.headers, ...close });
  };

  // a full server closes the connection worth least (still sending its first headers, then idle between
  // requests, then slowest with its body) rather than refusing the newcomer: a crowd of idle or
  // slowloris connections cannot lock /api/status and /metrics out
  const rejects = new RejectLog(realClock, logger, "HTTP API");
  const pool = new ConnectionPool({
    capacity: MAX_HTTP_CONNECTIONS,
    // the server's own timeouts close idle and slow connections
    idleMs: null,
    maxRejectsInARow: Infinity,
    clock: realClock,
    onClose: () => rejects.report("evicted", undefined, "the server was full: the connection worth least was closed to make room for a new one"),
  });
  /** responses under way per connection, and the refusal of a malformed request that waits for them */
  const answering = new WeakMap<Socket, number>();
  const refusals = new WeakMap<Socket, () => void>();
  const server = createServer(
    { maxHeaderSize: 16 * 1024, headersTimeout: 5_000, requestTimeout: 10_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 },
    (req, res) => {
      const socket = req.socket;
      pool.busy(socket);
      answering.set(socket, (answering.get(socket) ?? 0) + 1);
      res.on("close", () => {
        pool.accepted(socket);
        const left = (answering.get(socket) ?? 1) - 1;
        if (left > 0) return void answering.set(socket, left);
        answering.delete(socket);
        refusals.get(socket)?.();
      });
      res.on("error", () => res.destroy());
      route(req, res).catch((err: unknown) => {
        try {
          fail(req, res, err);
        } catch {
          res.destroy();
        }
      });
    },
  );
  server.on("connection", (socket: Socket) => pool.admit(socket));
  server.maxRequestsPerSocket = 1_000;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    // Node's own answer is on its way on this connection (a 400 for an HTTP/1.1 request without Host,
    // with Connection: close): it is the last, as Node's own clientError handler would leave it
    if ((socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage?.headersSent) return void socket.end();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large"
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
    const body = `${JSON.stringify({ error: `malformed request (${err.code ?? err.message})` })}\n`;
    const head = `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close`;
    const refuse = (): void => void socket.end(`${head}\r\n\r\n${body}`, () => socket.destroy());
    if (!answering.has(socket)) return refuse();
    // requests pipelined before the malformed one are answered first, in order; a timeout ends it all
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") return void socket.destroy();
    refusals.set(socket, refuse);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(new Error(`http: cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}`, { cause: err }));
    server.once("error", onError);
    server.listen(config.port, config.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on("error", (err) => logger.log("error", null, "http-error", `http server: ${err.message}`));
  const bound = server.address() as AddressInfo;
  const shown = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  logger.log("info", null, "http-listening", `http API on http://${shown}:${bound.port}`, { host: bound.address, port: bound.port });

  let closed: Promise<void> | null = null;
  return {
    address: { host: bound.address, port: bound.port },
    stats: () => pool.stats(),
    close() {
      closed ??= new Promise((resolve) => {
        feed?.closeAll();
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          pool.closeAll();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}

function pingRoute(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  match: RegExpExecArray,
  ping: NonNullable<ApiBackend["ping"]>,
  httpToken: string | null,
  logger: Logger,
): void {
  if (method !== "POST") throw new HttpError(405, `${method} not allowed on a ping; use POST`, {}, { allow: "POST" });
  const name = decodeName(match[1] ?? "");
  const signal = pingSignalOf(match[2]);
  if (signal === null) throw new HttpError(404, `no route ${match[0]}: after the check's name comes start, fail or an exit status 0-255`, { routes: ROUTES });
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? "")?.[1] ?? null;
  const answer = ping(name, signal, bearer, httpToken);
  if (!answer.ok) {
    if (answer.status === 401) logger.log("warn", name, "ping-refused", `ping refused: ${answer.error}`, { remote: req.socket.remoteAddress });
    throw new HttpError(answer.status, answer.error, {}, answer.status === 401 ? { "www-authenticate": 'Bearer realm="vigil"' } : {});
  }
  sendJson(res, 200, { ok: true, check: name, signal: signal.kind });
}

/** `?history=1` (or true, yes): each service's last 60 resource samples as well */
function wantsHistory(url: URL): boolean {
  return ["1", "true", "yes"].includes(url.searchParams.get("history") ?? "");
}
