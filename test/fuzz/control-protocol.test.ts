// The control protocol under fuzz: garbage, wrong shapes, unknown commands and names, absurd values,
// huge lines, blank lines, pipelining, half-closed connections and clients that never read, against one
// running supervisor. Each connection that reads gets exactly the answers the model below says, in
// order; after each case the supervisor runs, answers status within a second, keeps every pid, and its
// memory is bounded.
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRequest } from "../../src/control/protocol.js";
import { fuzzIsFull, fuzzParams } from "../support/fuzz.js";
import { waitUntil } from "../support/stack.js";
import { FuzzStack, nextTurn, TARGETS } from "./fuzz-stack.js";

const MAX_REQUEST_BYTES = 64 * 1024;
const KNOWN = new Set<string>([...TARGETS, "beater"]);
const MAX_BAD_IN_A_ROW = 3;

// ---- the model: the answer's code for one line, as README and src/control/protocol.ts's comments describe ----

type Code = "ok" | "bad-request" | "unknown-service";

function answerOf(line: string): Code {
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return "bad-request";
  }
  if (typeof r !== "object" || r === null || Array.isArray(r)) return "bad-request";
  const { cmd, names } = r as Record<string, unknown>;
  if (names !== undefined && !(Array.isArray(names) && names.every((n) => typeof n === "string"))) return "bad-request";
  const unknown = ((names ?? []) as string[]).some((n) => !KNOWN.has(n));
  switch (cmd) {
    case "ping":
    case "reload":
    case "down":
    case "wait-started":
      return "ok";
    case "status":
      return unknown ? "unknown-service" : "ok";
    case "start":
    case "stop":
    case "restart":
      // no names: every service
      if ((r as Record<string, unknown>)["wait"] !== undefined && typeof (r as Record<string, unknown>)["wait"] !== "boolean") return "bad-request";
      return unknown ? "unknown-service" : "ok";
    default:
      return "bad-request";
  }
}

/** the answers one connection gets, in order, and whether the server then closes it: for its bad requests, or once it has half-closed */
function answersOf(bytes: Buffer, halfClosed: boolean): { codes: Code[]; closed: "rejects" | "end" | null } {
  const codes: Code[] = [];
  let inARow = 0;
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(10, start);
    const raw = nl >= 0 ? bytes.subarray(start, nl) : bytes.subarray(start);
    if (raw.length > MAX_REQUEST_BYTES) return { codes: [...codes, "bad-request"], closed: "rejects" };
    // a last line without its newline is a request once the client has half-closed
    if (nl < 0 && !halfClosed) return { codes, closed: null };
    const line = raw.toString("utf8").trim();
    if (line !== "") {
      const code = answerOf(line);
      codes.push(code);
      inARow = code === "bad-request" ? inARow + 1 : 0;
      if (inARow >= MAX_BAD_IN_A_ROW) return { codes, closed: "rejects" };
    }
    if (nl < 0) return { codes, closed: "end" };
    start = nl + 1;
  }
}

// ---- what a request line may be ----

const known = fc.constantFrom(...KNOWN);
const stranger = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 8 })).filter((n) => !KNOWN.has(n));
const someUnknown = fc.tuple(fc.array(fc.oneof(known, stranger), { maxLength: 3 }), stranger).map(([names, one]) => [...names, one]);
const extra = fc.option(fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => k !== "cmd" && k !== "names"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), { nil: undefined });

const goodRequest: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: extra.map((e) => JSON.stringify({ ...e, cmd: "ping" })) },
  {
    weight: 4,
    arbitrary: fc.record({ names: fc.option(fc.oneof(fc.array(known, { maxLength: 3 }), someUnknown), { nil: undefined }), history: fc.jsonValue({ maxDepth: 1 }), e: extra })
      .map(({ names, history, e }) => JSON.stringify({ ...e, cmd: "status", ...(names ? { names } : {}), history })),
  },
  { weight: 2, arbitrary: fc.record({ cmd: fc.constantFrom("start", "stop", "restart"), names: someUnknown }).map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: fc.constant('{"cmd":"reload"}') },
);

const badRequest: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 120 }).map((b) => Buffer.from(b.filter((x) => x !== 10))),
  fc.string({ unit: "binary", maxLength: 80 }).map((s) => s.replace(/\n/g, "")),
  fc.jsonValue({ maxDepth: 3 }).filter((v) => answerOf(JSON.stringify(v)) === "bad-request").map((v) => JSON.stringify(v)),
  fc.record({ cmd: fc.constantFrom("start", "stop", "restart"), names: fc.constant(["target-a"]), wait: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }).map((r) => JSON.stringify(r)),
  fc.record({ cmd: fc.constantFrom("status", "start"), names: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.array(fc.oneof(fc.integer(), fc.constant(null)), { minLength: 1 })) }).map((r) => JSON.stringify(r)),
  fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null), fc.constantFrom("STATUS", "Ping", "down ", "__proto__"))
    .filter((cmd) => answerOf(JSON.stringify({ cmd })) === "bad-request")
    .map((cmd) => JSON.stringify({ cmd })),
  // a command no one would send: nested deep, or huge
  fc.integer({ min: 1, max: 30_000 }).map((depth) => `{"cmd":${"[".repeat(depth)}${"]".repeat(depth)}}`),
  fc.integer({ min: 1, max: 60_000 }).map((n) => JSON.stringify({ cmd: "x".repeat(n) })),
  fc.constantFrom("{", '{"cmd":', "\ufeff", '{"cmd":"ping"', "[]", '""'),
);

const blank = fc.constantFrom("", " ", "\r", "\t  ");
const tooLong = fc.integer({ min: MAX_REQUEST_BYTES + 1, max: MAX_REQUEST_BYTES + 40_000 }).map((n) => `{"cmd":"${"p".repeat(n)}"}`);
/** many requests on one connection */
const pipeline = fc.array(fc.constantFrom('{"cmd":"ping"}', '{"cmd":"status"}', '{"cmd":"status","names":["target-a"]}'), { minLength: 20, maxLength: 300 });

const lines: fc.Arbitrary<(string | Buffer)[]> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: goodRequest.map((l) => [l]) },
      { weight: 4, arbitrary: badRequest.map((l) => [l]) },
      { weight: 1, arbitrary: blank.map((l) => [l]) },
      { weight: 1, arbitrary: tooLong.map((l) => [l]) },
      { weight: 1, arbitrary: pipeline },
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((groups) => groups.flat());

interface ConnectionPlan {
  readonly lines: readonly (string | Buffer)[];
  readonly newline: string;
  readonly partialEnd: boolean;
  readonly cuts: readonly number[];
  /** end: half-close, read every answer; read: read the answers, then drop; noread: never read, drop at the end */
  readonly finish: "end" | "read" | "noread";
}

const connectionPlan: fc.Arbitrary<ConnectionPlan> = fc.record({
  lines,
  newline: fc.constantFrom("\n", "\r\n"),
  partialEnd: fc.boolean(),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
  finish: fc.constantFrom("end", "end", "read", "read", "noread"),
});

function bytesOf(plan: ConnectionPlan): Buffer {
  return Buffer.concat(plan.lines.flatMap((line, i) => {
    const bytes = typeof line === "string" ? Buffer.from(line) : line;
    return plan.partialEnd && i === plan.lines.length - 1 ? [bytes] : [bytes, Buffer.from(plan.newline)];
  }));
}

interface Outcome {
  readonly codes: Code[];
  readonly closed: boolean;
}

/** Runs one connection's plan; resolves with what it read (nothing for noread) and the socket, still open or not. */
async function drive(path: string, bytes: Buffer, plan: ConnectionPlan, model: ReturnType<typeof answersOf>): Promise<{ outcome: Outcome; socket: Socket }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => undefined);
  const codes: Code[] = [];
  let closed = false;
  const gone = new Promise<void>((r) => socket.once("close", () => {
    closed = true;
    r();
  }));
  if (plan.finish === "noread") {
    socket.pause();
  } else {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
        const answer = JSON.parse(text.slice(0, nl)) as { ok: boolean; code?: Code };
        codes.push(answer.ok ? "ok" : answer.code!);
        text = text.slice(nl + 1);
      }
    });
  }
  const cuts = [...new Set(plan.cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= at || socket.destroyed) continue;
    // a client that does not read may find the server no longer reading either: do not wait on that
    if (plan.finish === "noread") socket.write(bytes.subarray(at, cut));
    else await new Promise<void>((r) => socket.write(bytes.subarray(at, cut), () => r()));
    at = cut;
    await nextTurn();
  }
  if (plan.finish === "end") {
    socket.end();
    await gone;
  } else if (plan.finish === "read") {
    // every answer, and the server's hang-up when the model expects one
    const expectedCount = model.codes.length;
    await waitUntil(() => closed || (codes.length >= expectedCount && model.closed === null), () => `${expectedCount} answers, got ${codes.length}`, 20_000);
  }
  return { outcome: { codes, closed }, socket };
}

describe("the control protocol under fuzz", () => {
  let f: FuzzStack;
  beforeAll(async () => {
    f = await FuzzStack.start();
  }, 60_000);
  afterAll(async () => {
    await f?.stop("control protocol");
  }, 60_000);

  it("answers every request of a reading client as the model says, in order, and keeps the stack as it was", async () => {
    const path = join(f.stateDir, "control.sock");
    // the status request's own connection
    const idle = (await f.status()).supervisor.connections!.control.open;
    await fc.assert(
      fc.asyncProperty(fc.array(connectionPlan, { minLength: 1, maxLength: 4 }), async (plans) => {
        // the last case's connections gone: what the server read of them before their close (a client
        // that did not read may have sent bad requests still unread) is counted before, not during, this case
        let before = (await f.status()).supervisor.connections!.control;
        await waitUntil(async () => (before = (await f.status()).supervisor.connections!.control).open <= idle, "the last case's connections to be closed");
        const runs = plans.map((plan) => {
          const bytes = bytesOf(plan);
          return { plan, bytes, model: answersOf(bytes, plan.finish === "end") };
        });
        f.sent += plans.reduce((n, p) => n + p.lines.length, 0);
        const driven = await Promise.all(runs.map(({ plan, bytes, model }) => drive(path, bytes, plan, model)));
        try {
          runs.forEach(({ plan, model }, i) => {
            if (plan.finish === "noread") return;
            const { outcome } = driven[i]!;
            expect(outcome.codes).toEqual(model.codes);
            if (model.closed !== null) expect(outcome.closed).toBe(true);
          });
          await f.check();
          // a client that does not read may not have had its bad requests read either
          const closedByModel = runs.filter(({ plan, model }) => plan.finish !== "noread" && model.closed === "rejects").length;
          const mayClose = runs.filter(({ model }) => model.closed === "rejects").length;
          const after = (await f.status()).supervisor.connections!.control;
          expect(after.reject_closed - before.reject_closed).toBeGreaterThanOrEqual(closedByModel);
          expect(after.reject_closed - before.reject_closed).toBeLessThanOrEqual(mayClose);
          expect(after.evicted).toBe(before.evicted);
        } finally {
          for (const { socket } of driven) socket.destroy();
        }
      }),
      // no shrinking: the supervisor lives on between cases, so the first failing case is the one to read
      { ...fuzzParams(1_500), endOnFailure: true },
    );
  }, fuzzIsFull ? 0 : 120_000);
});

describe("parseRequest under fuzz", () => {
  const shaped = fc.record(
    { cmd: fc.oneof(fc.constantFrom("status", "down", "ping", "reload", "start", "stop", "restart"), fc.jsonValue({ maxDepth: 3 })), names: fc.oneof(fc.array(fc.string()), fc.jsonValue({ maxDepth: 2 })), history: fc.jsonValue({ maxDepth: 1 }), wait: fc.jsonValue({ maxDepth: 1 }) },
    { requiredKeys: [] },
  );

  it("never throws, and gives a request exactly when the model says the request is good", () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: shaped }, { weight: 1, arbitrary: fc.jsonValue() }), (value) => {
        const parsed = parseRequest(value);
        const good = answerOf(JSON.stringify(value)) !== "bad-request";
        expect(typeof parsed === "string" ? "bad" : "good").toBe(good ? "good" : "bad");
      }),
      fuzzParams(200_000),
    );
  });

  it("describes any command it does not know without failing, however deep or long", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom("array", "object", "string"), (size, shape) => {
        const cmd = shape === "string" ? "c".repeat(size) : JSON.parse(shape === "array" ? `${"[".repeat(size)}${"]".repeat(size)}` : `${'{"a":'.repeat(size)}1${"}".repeat(size)}`);
        const parsed = parseRequest({ cmd });
        expect(typeof parsed).toBe("string");
        expect((parsed as string).length).toBeLessThan(200);
      }),
      fuzzParams(2_000),
    );
  });
});
