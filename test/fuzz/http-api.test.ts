// The HTTP API under fuzz: odd methods, paths, headers, bodies and authorization, pipelined on
// keep-alive connections, malformed requests, half-finished ones, and now and then a crowd of idle and
// slowloris connections, against one running supervisor. Every well-formed request gets the answer the
// model (http-model.ts) says, nothing is ever a 500, no mutation is ever taken without the token, and
// after each case the supervisor runs, answers status within a second, keeps every pid, and its memory
// is bounded.
import { createConnection, type Socket } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Crowd } from "../support/crowd.js";
import { fuzzIsFull, fuzzParams } from "../support/fuzz.js";
import { freePort } from "../support/net.js";
import { waitUntil } from "../support/stack.js";
import { FuzzStack, nextTurn, TARGETS } from "./fuzz-stack.js";
import { bytesOf, expectedOf, MAX_BODY_BYTES, statusesOf, type Expected, type Request } from "./http-model.js";

const TOKEN = "fuzz-s3cret";
const SERVICES = new Set<string>([...TARGETS, "beater"]);
const MAX_CONNECTIONS = 256;

// ---- what a request may be ----

const knownName = fc.constantFrom(...SERVICES);
const strangeName = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("%zz", "%", "a%2Fb", "..", "%00", "t%C3%A9st", "%F0%9F%98%80")).filter((n) => !SERVICES.has(n));
const urlChars = fc.string({ unit: fc.constantFrom(..."abcxyz019-._~!$&'()*+,;=:@/?%".split("")), maxLength: 40 });

const target: fc.Arbitrary<{ path: string; mutatesKnown: boolean }> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("/api/status", "/api/heartbeat/status", "/metrics").map((path) => ({ path, mutatesKnown: false })) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.array(fc.oneof(knownName, strangeName), { maxLength: 3 }), fc.constantFrom("", "&history=1", "&history=yes", "&x=%zz"))
      .map(([names, more]) => ({ path: `/api/status?${names.map((n) => `service=${encodeURIComponent(n)}`).join("&")}${more}`, mutatesKnown: false })),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.oneof(knownName, strangeName.map((n) => encodeURIComponent(n)), strangeName.filter((n) => /^[\w%.-]+$/.test(n))), fc.constantFrom("start", "stop", "restart", "kill", ""))
      .map(([name, action]) => ({ path: `/api/services/${name}/${action}`, mutatesKnown: SERVICES.has(name) })),
  },
  { weight: 1, arbitrary: fc.constantFrom("/", "*", "//api/status", "/api/status/", "/api/status/../metrics", "/API/STATUS", "/metrics?x", "http://vigil/api/status", "/%2e%2e/metrics", "/api/services//start").map((path) => ({ path, mutatesKnown: false })) },
  { weight: 1, arbitrary: urlChars.map((s) => ({ path: `/${s}`, mutatesKnown: /^\/?api\/services\//i.test(`/${s}`) })) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 4000 }).map((n) => ({ path: `/api/${"a".repeat(n)}`, mutatesKnown: false })) },
);

const method = fc.constantFrom("GET", "GET", "HEAD", "POST", "POST", "PUT", "DELETE", "OPTIONS", "PATCH");
const authorization = fc.constantFrom<(string | null)[]>(null, null, `Bearer ${TOKEN}`, `bearer  ${TOKEN} `, "Bearer nope", "Bearer", `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`, `Bearer ${TOKEN}x`);
const extraHeader = fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.string({ unit: fc.constantFrom(..." abcXYZ019-_=;,./:\"'".split("")), maxLength: 60 }))
  .filter(([name]) => !["host", "content-length", "transfer-encoding", "authorization", "connection", "expect", "upgrade"].includes(name.toLowerCase()));
const body = fc.oneof(
  { weight: 4, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom("{}", "{", "[]", "null", " ", "\u00e9", '{"a":1}') },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_BODY_BYTES - 10, max: MAX_BODY_BYTES + 5000 }).map((n) => "b".repeat(n)) },
);

const wellFormed: fc.Arbitrary<Request> = fc
  .record({
    method,
    target,
    version: fc.constantFrom<("HTTP/1.1" | "HTTP/1.0")[]>("HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
    authorization,
    extra: fc.array(extraHeader, { maxLength: 4 }),
    connection: fc.constantFrom<(string | null)[]>(null, null, "close", "keep-alive"),
    body,
    chunked: fc.boolean(),
  })
  // the right token is never sent for a service that exists: a mutation must never be taken here
  .filter(({ target, authorization }) => !(target.mutatesKnown && authorization !== null && /^bearer\s+fuzz-s3cret\s*$/i.test(authorization)))
  .map(({ method, target, version, authorization, extra, connection, body, chunked }) => {
    const bytes = Buffer.from(body);
    const asChunks = chunked && version === "HTTP/1.1" && method !== "GET" && method !== "HEAD";
    const headers: [string, string][] = [["Host", "127.0.0.1"], ...extra];
    if (authorization !== null) headers.push(["Authorization", authorization]);
    if (connection !== null) headers.push(["Connection", connection]);
    if (asChunks) headers.push(["Transfer-Encoding", "chunked"]);
    else if (bytes.length > 0 || method === "POST") headers.push(["Content-Length", String(bytes.length)]);
    return { method, target: target.path, version, headers, body: bytes, chunked: asChunks, malformed: false };
  });

const malformedBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.concat([Buffer.from(b), Buffer.from("\r\n\r\n")])),
  fc.constantFrom(
    "FOO /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "get /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "GET /api/status HTTP/1.x\r\nHost: 127.0.0.1\r\n\r\n",
    "GET /api/status HTTP/1.1\r\n\r\n",
    "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "POST /api/services/x/start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
    "POST /api/services/x/start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: y\r\n\r\n",
    "GET /a b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    // (not "\r\n\r\n": empty lines before a request line are no request, and a server skips them,
    // RFC 9112 §2.2; Node does, and answers what follows)
  ).map((text) => Buffer.from(text, "latin1")),
  fc.integer({ min: 17 * 1024, max: 40 * 1024 }).map((n) => Buffer.from(`GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"h".repeat(n)}\r\n\r\n`)),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).map((s) => Buffer.from(`GET /${s} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)).filter((b) => b.some((x) => x > 0x7e || x < 0x21 && x !== 0x20 && x !== 0x0d && x !== 0x0a)),
);

const malformed: fc.Arbitrary<Request> = malformedBytes.map((bytes) => ({ method: "?", target: "?", version: "HTTP/1.1", headers: [], body: bytes, chunked: false, malformed: true }));

function requestBytes(req: Request): Buffer {
  return req.malformed ? req.body : bytesOf(req);
}

interface ConnectionPlan {
  readonly requests: readonly Request[];
  readonly cuts: readonly number[];
  /** stop sending before the end: a request cut off in the middle, its client gone */
  readonly cutShort: number | null;
}

const connectionPlan: fc.Arbitrary<ConnectionPlan> = fc.record({
  requests: fc.array(fc.oneof({ weight: 6, arbitrary: wellFormed }, { weight: 1, arbitrary: malformed }), { minLength: 1, maxLength: 8 }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  cutShort: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 8 }),
});

/** now and then a crowd of idle and slowloris connections fills the server while the case runs */
const crowd = fc.option(fc.integer({ min: MAX_CONNECTIONS - 20, max: MAX_CONNECTIONS + 30 }), { freq: 15 });

// ---- the expected answers of one connection ----

function expectedOfPlan(plan: ConnectionPlan): { expected: Expected[]; methods: string[] } {
  const expected: Expected[] = [];
  const methods: string[] = [];
  for (const req of plan.requests) {
    const e = expectedOf(req, TOKEN, SERVICES);
    expected.push(e);
    methods.push(req.method);
    if (e.closes) break;
  }
  return { expected, methods };
}

async function drive(port: number, plan: ConnectionPlan): Promise<{ statuses: number[]; expected: Expected[] }> {
  const { expected, methods } = expectedOfPlan(plan);
  const all = Buffer.concat(plan.requests.map(requestBytes));
  const bytes = plan.cutShort === null ? all : all.subarray(0, Math.floor(plan.cutShort * all.length));
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection({ port, host: "127.0.0.1" }, () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => undefined);
  const received: Buffer[] = [];
  let closed = false;
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  socket.once("close", () => (closed = true));
  const cuts = [...new Set(plan.cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= at || socket.destroyed) continue;
    socket.write(bytes.subarray(at, cut));
    at = cut;
    await nextTurn();
  }
  const statuses = (): number[] => statusesOf(Buffer.concat(received), methods);
  if (plan.cutShort === null) {
    const last = expected.at(-1)!;
    // every answer, and the hang-up when one is due (a request left half-sent by a client still there waits for its timeout)
    await waitUntil(() => closed || (!last.closes && statuses().length >= expected.length), () => `answers to ${expected.length} requests, got ${statuses().join(",")}`, 20_000);
  } else {
    // a client gone in the middle: it reads what came, and leaves
    await nextTurn();
  }
  const got = statuses();
  socket.destroy();
  return { statuses: got, expected: plan.cutShort === null ? expected : [] };
}

function checkAnswers(statuses: readonly number[], expected: readonly Expected[], plan: ConnectionPlan): void {
  for (const status of statuses) {
    expect(status, "never a server error, never a mutation taken").not.toBe(500);
    expect(status).not.toBe(202);
  }
  if (expected.length === 0) return;
  // an answer after which the server hangs up on unread bytes may be lost to the reset; so may every
  // answer before a CONNECT, on which Node hangs up at once (the API takes no tunnels)
  const lossFrom = expected.findIndex((e, i) => e.unread || (e.closes && i < expected.length - 1));
  const connect = plan.requests.findIndex((r) => r.malformed && r.body.subarray(0, 8).toString("latin1") === "CONNECT ");
  const required = connect >= 0 ? 0 : lossFrom < 0 ? expected.length : lossFrom;
  const sent = plan.requests.map((r) => requestBytes(r).toString("latin1").slice(0, 400));
  const what = `answers ${JSON.stringify(statuses)} to ${JSON.stringify(sent)}, expecting ${JSON.stringify(expected)}`;
  expect(statuses.length, what).toBeGreaterThanOrEqual(required);
  expect(statuses.length, what).toBeLessThanOrEqual(expected.length);
  statuses.forEach((status, i) => {
    const want = expected[i]!.status;
    if (want === null) expect(status >= 400 && status < 500 || status === 505, `a malformed request got ${status}: ${what}`).toBe(true);
    else expect({ i, status }).toEqual({ i, status: want });
  });
}

describe("the HTTP API under fuzz", () => {
  let f: FuzzStack;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    f = await FuzzStack.start({ top: `http: { listen: "127.0.0.1:${port}", token_env: VIGIL_FUZZ_TOKEN }`, env: { VIGIL_FUZZ_TOKEN: TOKEN } });
  }, 60_000);
  afterAll(async () => {
    await f?.stop("HTTP API");
  }, 60_000);

  it("answers every well-formed request as the model says, never fails, and never takes a mutation without the token", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(connectionPlan, { minLength: 1, maxLength: 4 }), crowd, async (plans, crowdSize) => {
        const gathered = crowdSize === null ? null : await Promise.all([
          Crowd.open({ port, host: "127.0.0.1" }, Math.ceil(crowdSize / 2)),
          Crowd.open({ port, host: "127.0.0.1" }, Math.floor(crowdSize / 2), { greeting: "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n" }),
        ]);
        try {
          f.sent += plans.reduce((n, p) => n + p.requests.length, 0);
          const results = await Promise.all(plans.map((plan) => drive(port, plan)));
          results.forEach(({ statuses, expected }, i) => checkAnswers(statuses, expected, plans[i]!));
          // the routes that matter answer, crowd or not
          const res = await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { connection: "close" } });
          expect(res.status).toBe(200);
          await res.text();
          const doc = await f.check();
          expect(doc.supervisor.connections?.http?.open ?? 0).toBeLessThanOrEqual(MAX_CONNECTIONS);
        } finally {
          for (const c of gathered ?? []) c.close();
        }
      }),
      // no shrinking: the supervisor lives on between cases, so the first failing case is the one to read
      { ...fuzzParams(1_000), endOnFailure: true },
    );
  }, fuzzIsFull ? 0 : 120_000);
});
