// What the HTTP API should answer to a well-formed request (README "HTTP API and metrics"), and a
// reader of raw HTTP/1.1 responses, written apart from the server's code for the HTTP fuzz suite.

import { readdirSync } from "node:fs";

export const MAX_BODY_BYTES = 64 * 1024;
/**
 * The dashboard's page and files, which the server built by `npm run build` serves (dist/web): plain
 * names of the kinds it knows, no dot file
 */
const WEB_FILES: ReadonlySet<string> = new Set(
  readdirSync(new URL("../../dist/web/", import.meta.url)).filter((name) => /^[A-Za-z0-9][A-Za-z0-9._-]*\.(html|js|css|map|svg|png)$/.test(name)),
);
const READ_PATHS = ["/api/status", "/api/heartbeat/status", "/metrics"];
const MUTATION = /^\/api\/services\/([^/]+)\/(start|stop|restart)$/;

export interface Request {
  readonly method: string;
  readonly target: string;
  readonly version: "HTTP/1.1" | "HTTP/1.0";
  readonly headers: readonly (readonly [string, string])[];
  /** the body as the server reads it */
  readonly body: Buffer;
  /** sent in chunks (Transfer-Encoding: chunked, which the headers say) */
  readonly chunked: boolean;
  /** the bytes are not a request a server should take: the answer is a 4xx and a hang-up, or only a hang-up */
  readonly malformed: boolean;
}

export interface Expected {
  /** null: the server hangs up without an answer, or answers with any 4xx */
  readonly status: number | null;
  /** the server closes the connection after this answer */
  readonly closes: boolean;
  /** the server leaves a body unread (over the limit): its close may reset the connection before the answer is read */
  readonly unread: boolean;
}

function header(req: Request, name: string): string | undefined {
  return req.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** what a well-formed request gets from a server on loopback with mutations allowed for `token` */
export function expectedOf(req: Request, token: string, services: ReadonlySet<string>): Expected {
  if (req.malformed) return { status: null, closes: true, unread: true };
  const connection = header(req, "connection")?.toLowerCase();
  // answers have no Content-Length (they are chunked): an HTTP/1.0 client, which cannot read chunks, gets a close
  const keepAlive = req.version === "HTTP/1.1" && connection !== "close";
  let url: URL;
  try {
    url = new URL(req.target, "http://vigil.invalid");
  } catch {
    // a target that is no URL is refused before its body is read
    return { status: 400, closes: true, unread: req.body.length > 0 };
  }
  if (req.body.length <= MAX_BODY_BYTES && isWebFile(req, url)) {
    // a file is sent with its Content-Length, so an HTTP/1.0 client that asks to keep the connection may
    return { status: 200, closes: !(keepAlive || (req.version === "HTTP/1.0" && connection === "keep-alive")), unread: false };
  }
  const status = statusOf(req, url, token, services);
  return { status, closes: !keepAlive || status === 400 || status === 413, unread: status === 413 };
}

/** the dashboard's page or one of its files, to GET and HEAD: served before any other route (they hold no data) */
function isWebFile(req: Request, url: URL): boolean {
  return (req.method === "GET" || req.method === "HEAD") && WEB_FILES.has(url.pathname === "/" ? "index.html" : url.pathname.slice(1));
}

function statusOf(req: Request, url: URL, token: string, services: ReadonlySet<string>): number {
  if (req.body.length > MAX_BODY_BYTES) return 413;
  const path = url.pathname;
  if (READ_PATHS.includes(path)) {
    if (req.method !== "GET" && req.method !== "HEAD") return 405;
    if (path !== "/api/status") return 200;
    const wanted = url.searchParams.getAll("service").filter(Boolean);
    return wanted.every((name) => services.has(name)) ? 200 : 404;
  }
  const mutation = MUTATION.exec(path);
  if (!mutation) return 404;
  if (req.method !== "POST") return 405;
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header(req, "authorization") ?? "");
  if (bearer?.[1] !== token) return 401;
  const text = req.body.toString("utf8").trim();
  if (text !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return 400;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return 400;
  }
  let name: string;
  try {
    name = decodeURIComponent(mutation[1]!);
  } catch {
    return 400;
  }
  return services.has(name) ? 202 : 404;
}

/** the request's bytes as a client sends them */
export function bytesOf(req: Request): Buffer {
  const head = `${req.method} ${req.target} ${req.version}\r\n${req.headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
  const body = req.chunked && req.body.length > 0
    ? Buffer.concat([Buffer.from(`${req.body.length.toString(16)}\r\n`), req.body, Buffer.from("\r\n0\r\n\r\n")])
    : req.chunked ? Buffer.from("0\r\n\r\n") : req.body;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/**
 * The status codes of the responses in `bytes`, in order, given the methods of the requests they
 * answer (a HEAD response has no body); stops at the first that is not complete.
 */
export function statusesOf(bytes: Buffer, methods: readonly string[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const headEnd = bytes.indexOf("\r\n\r\n", at);
    if (headEnd < 0) break;
    const head = bytes.toString("latin1", at, headEnd).split("\r\n");
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(head[0] ?? "");
    if (!status) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
    const fields = new Map(head.slice(1).map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    let next = headEnd + 4;
    const code = Number(status[1]);
    if (methods[i] !== "HEAD" && code !== 204 && code !== 304) {
      if (fields.get("transfer-encoding")?.toLowerCase() === "chunked") {
        for (;;) {
          const lineEnd = bytes.indexOf("\r\n", next);
          if (lineEnd < 0) return out;
          const size = parseInt(bytes.toString("latin1", next, lineEnd), 16);
          next = lineEnd + 2 + size + 2;
          if (size === 0) break;
        }
      } else {
        next += Number(fields.get("content-length") ?? 0);
      }
    }
    if (next > bytes.length) break;
    out.push(code);
    at = next;
  }
  return out;
}
