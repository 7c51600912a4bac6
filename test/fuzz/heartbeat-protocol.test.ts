// The heartbeat protocol under fuzz: garbage, partial and huge lines, messages with wrong types,
// tokens and services, deep and wide data, unicode, floods of good beats, connections ended, dropped
// or left open, all against one running supervisor. After each case it runs, answers status within a
// second, no service has a new pid, memory is bounded, and the counters moved exactly as the
// independent model (heartbeat-model.ts) says.
import { isDeepStrictEqual } from "node:util";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseChildMessage } from "../../src/core/heartbeat-message.js";
import type { StatusDocument } from "../../src/control/status-document.js";
import { fuzzIsFull, fuzzParams } from "../support/fuzz.js";
import { waitUntil } from "../support/stack.js";
import { FuzzStack, nextTurn, TARGETS, type Target } from "./fuzz-stack.js";
import { connectionVerdicts, depthOf, MAX_DATA_BYTES, MAX_DATA_DEPTH, MAX_LINE_BYTES, verdictOf, type Verdict } from "./heartbeat-model.js";

/** the beater's token is never known here: every message naming it is refused */
const UNKNOWABLE = "never-the-beater's-token";

// ---- what a line may be ----

type Tokens = Readonly<Record<Target, string>>;
/** a line is made once the tokens are known: text (sent as UTF-8) or raw bytes */
type LineMaker = (tokens: Tokens) => string | Buffer;

const target = fc.constantFrom<Target>(...TARGETS);
const type = fc.constantFrom("beat", "ready", "status", "stopping");
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme", maxLength: 60 }), fc.string({ unit: "binary", maxLength: 40 }), fc.constant("x".repeat(3000)));
const smallData = fc.jsonValue({ maxDepth: 4 }).filter((d) => Buffer.byteLength(JSON.stringify(d)) <= MAX_DATA_BYTES);
const newline = fc.constantFrom("\n", "\n", "\n", "\r\n");

function nested(depth: number, open: string, close: string, inner = "1"): string {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

const valid: fc.Arbitrary<LineMaker> = fc
  .record({ service: target, type, data: fc.option(smallData, { nil: undefined }), text, extra: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), { nil: undefined }) })
  .map(({ service, type, data, text, extra }) => (tokens) =>
    JSON.stringify({ ...extra, service, token: tokens[service], type, ...(data === undefined ? {} : { data }), ...(type === "status" ? { text } : {}) }));

const wrongToken: fc.Arbitrary<LineMaker> = fc
  .record({ service: fc.constantFrom<string>(...TARGETS, "beater"), how: fc.constantFrom("other", "random", "empty", "longer", "missing"), random: fc.string({ maxLength: 40 }), type })
  .map(({ service, how, random, type }) => (tokens) => {
    const own = tokens[service as Target] ?? UNKNOWABLE;
    const token = { other: tokens[service === "target-a" ? "target-b" : "target-a"], random, empty: "", longer: `${own}x`, missing: undefined }[how];
    return JSON.stringify({ service, token, type: type === "status" ? "beat" : type });
  });

const strangers: fc.Arbitrary<LineMaker> = fc
  .record({ service: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("TARGET-A", "target-a ", "target", "__proto__", "constructor")), type })
  .map(({ service, type }) => (tokens) => JSON.stringify({ service, token: tokens["target-a"], type, text: "t" }));

const wrongTypes: fc.Arbitrary<LineMaker> = fc
  .record({
    service: target,
    shape: fc.constantFrom("service-number", "token-number", "type-unknown", "type-missing", "status-no-text", "text-number", "array", "scalar", "null", "type-case"),
    any: fc.jsonValue({ maxDepth: 2 }),
  })
  .map(({ service, shape, any }) => (tokens) => {
    const token = tokens[service];
    switch (shape) {
      case "service-number": return JSON.stringify({ service: 7, token, type: "beat" });
      case "token-number": return JSON.stringify({ service, token: 7, type: "beat" });
      case "type-unknown": return JSON.stringify({ service, token, type: "dance" });
      case "type-missing": return JSON.stringify({ service, token, data: any });
      case "status-no-text": return JSON.stringify({ service, token, type: "status" });
      case "text-number": return JSON.stringify({ service, token, type: "status", text: 3 });
      case "array": return JSON.stringify([{ service, token, type: "beat" }]);
      case "scalar": return JSON.stringify(any ?? 0);
      case "null": return "null";
      default: return JSON.stringify({ service, token, type: "BEAT" });
    }
  });

/** data at and past the bounds of depth and size, with the right token */
const boundedData: fc.Arbitrary<LineMaker> = fc
  .record({
    service: target,
    shape: fc.constantFrom("deep-array", "deep-object", "at-depth", "wide-array", "long-string", "many-keys", "at-size", "unicode-size"),
    depth: fc.oneof(fc.integer({ min: MAX_DATA_DEPTH - 1, max: MAX_DATA_DEPTH + 2 }), fc.integer({ min: 33, max: 20_000 })),
    size: fc.integer({ min: MAX_DATA_BYTES - 4, max: 40_000 }),
  })
  .map(({ service, shape, depth, size }) => (tokens) => {
    const head = `{"service":"${service}","token":"${tokens[service]}","type":"beat","data":`;
    switch (shape) {
      case "deep-array": return `${head}${nested(depth, "[", "]")}}`;
      case "deep-object": return `${head}${nested(Math.min(depth, 10_000), '{"a":', "}")}}`;
      case "at-depth": return `${head}${nested(MAX_DATA_DEPTH, "[", "]")}}`;
      case "wide-array": return `${head}[${Array.from({ length: Math.floor(size / 2) }, () => "1").join(",")}]}`;
      case "long-string": return `${head}"${"x".repeat(size - 2)}"}`;
      case "many-keys": return `${head}{${Array.from({ length: Math.floor(size / 8) }, (_, i) => `"k${i}":0`).join(",")}}}`;
      case "at-size": return `${head}"${"y".repeat(MAX_DATA_BYTES - 2)}"}`;
      default: return `${head}"${"é€😀".repeat(Math.floor(size / 9))}"}`;
    }
  });

const garbage: fc.Arbitrary<LineMaker> = fc
  .oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== 10))),
    fc.string({ unit: "binary", maxLength: 100 }).map((s) => s.replace(/\n/g, "")),
    fc.constantFrom("", " ", "\t", "{", "}", '{"half": ', "[]", "{}", "1e999", "\u2028", "\ufeff{}", "\r"),
  )
  .map((line) => () => line);

const hugeLine: fc.Arbitrary<LineMaker> = fc.integer({ min: MAX_LINE_BYTES - 100, max: MAX_LINE_BYTES + 30_000 }).map((n) => () => "z".repeat(n));

/** a burst of good beats: many messages on one connection */
const flood: fc.Arbitrary<LineMaker[]> = fc
  .record({ service: target, count: fc.integer({ min: 5, max: 300 }) })
  .map(({ service, count }) => Array.from({ length: count }, (_, i) => (tokens: Tokens) => JSON.stringify({ service, token: tokens[service], type: "beat", data: { i } })));

const lineMaker: fc.Arbitrary<LineMaker[]> = fc.oneof(
  { weight: 6, arbitrary: valid.map((l) => [l]) },
  { weight: 2, arbitrary: wrongToken.map((l) => [l]) },
  { weight: 1, arbitrary: strangers.map((l) => [l]) },
  { weight: 2, arbitrary: wrongTypes.map((l) => [l]) },
  { weight: 2, arbitrary: boundedData.map((l) => [l]) },
  { weight: 2, arbitrary: garbage.map((l) => [l]) },
  { weight: 1, arbitrary: hugeLine.map((l) => [l]) },
  { weight: 1, arbitrary: flood },
);

interface ConnectionPlan {
  readonly lines: readonly { readonly make: LineMaker; readonly newline: string }[];
  /** the last line's newline left off: a partial line */
  readonly partialEnd: boolean;
  /** where the bytes are cut into separate writes, as fractions */
  readonly cuts: readonly number[];
  /** end: half-close and wait for the server; drop: destroy once written; open: keep it open for the case */
  readonly finish: "end" | "drop" | "open";
}

const connectionPlan: fc.Arbitrary<ConnectionPlan> = fc.record({
  lines: fc.array(fc.tuple(lineMaker, newline), { minLength: 1, maxLength: 10 }).map((groups) => groups.flatMap(([makers, nl]) => makers.map((make) => ({ make, newline: nl })))),
  partialEnd: fc.boolean(),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
  finish: fc.constantFrom("end", "end", "drop", "open"),
});

// ---- driving one case ----

function bytesOf(plan: ConnectionPlan, tokens: Tokens): Buffer {
  return Buffer.concat(plan.lines.flatMap(({ make, newline }, i) => {
    const line = make(tokens);
    const bytes = typeof line === "string" ? Buffer.from(line) : line;
    return plan.partialEnd && i === plan.lines.length - 1 ? [bytes] : [bytes, Buffer.from(newline)];
  }));
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.once("error", reject);
  });
}

/** writes the bytes in pieces, then finishes as planned; resolves when nothing more will be sent */
async function drive(path: string, bytes: Buffer, plan: ConnectionPlan, open: Socket[]): Promise<void> {
  const socket = await connect(path);
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  socket.on("error", () => undefined);
  socket.resume();
  const cuts = [...new Set(plan.cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= at) continue;
    if (socket.destroyed) break;
    await new Promise<void>((r) => socket.write(bytes.subarray(at, cut), () => r()));
    at = cut;
    await nextTurn();
  }
  if (plan.finish === "end") {
    socket.end();
    await closed;
  } else if (plan.finish === "drop") {
    socket.destroy();
  } else {
    open.push(socket);
  }
}

interface Expected {
  rejectedTotal: number;
  readonly rejected: Map<string, number>;
  readonly beats: Map<string, number>;
  readonly data: Map<string, unknown[]>;
  readonly texts: Map<string, string[]>;
}

function expectedOf(verdicts: readonly Verdict[], into: Expected): void {
  for (const v of verdicts) {
    if (v.kind === "too-long") into.rejectedTotal++;
    if (v.kind === "rejected") {
      into.rejectedTotal++;
      if (v.service !== null) into.rejected.set(v.service, (into.rejected.get(v.service) ?? 0) + 1);
    }
    if (v.kind !== "accepted") continue;
    if (v.type === "beat" || v.type === "ready") {
      into.beats.set(v.service, (into.beats.get(v.service) ?? 0) + 1);
      if (v.data !== undefined) into.data.set(v.service, [...(into.data.get(v.service) ?? []), v.data]);
    }
    if (v.type === "status" && v.text !== undefined) into.texts.set(v.service, [...(into.texts.get(v.service) ?? []), v.text]);
  }
}

function counters(doc: StatusDocument): { total: number; rejected: Map<string, number>; beats: Map<string, number> } {
  return {
    total: doc.supervisor.rejected_messages,
    rejected: new Map(doc.services.map((s) => [s.name, s.rejected_messages])),
    beats: new Map(doc.services.map((s) => [s.name, s.beats])),
  };
}

describe("the heartbeat protocol under fuzz", () => {
  let f: FuzzStack;
  beforeAll(async () => {
    f = await FuzzStack.start();
  }, 60_000);
  afterAll(async () => {
    await f?.stop("heartbeat protocol");
  }, 60_000);

  it("survives every case, keeps every pid, and counts exactly what the model says", async () => {
    const path = join(f.stateDir, "heartbeat.sock");
    await fc.assert(
      fc.asyncProperty(fc.array(connectionPlan, { minLength: 1, maxLength: 5 }), async (plans) => {
        const tokens = new Map<string, string>([...TARGETS.map((t) => [t, f.tokens[t]] as const), ["beater", UNKNOWABLE]]);
        const before = counters(await f.status());
        const expected: Expected = { rejectedTotal: 0, rejected: new Map(), beats: new Map(), data: new Map(), texts: new Map() };
        const connections = plans.map((plan) => ({ plan, bytes: bytesOf(plan, f.tokens) }));
        // a connection ended or dropped by the client has its last line taken, newline or not
        for (const { plan, bytes } of connections) expectedOf(connectionVerdicts(bytes, tokens, plan.finish !== "open").verdicts, expected);
        f.sent += connections.reduce((n, { plan }) => n + plan.lines.length, 0);
        const open: Socket[] = [];
        try {
          await Promise.all(connections.map(({ plan, bytes }) => drive(path, bytes, plan, open)));
          const want = (name: string, of: Map<string, number>, base: Map<string, number>): number => (base.get(name) ?? 0) + (of.get(name) ?? 0);
          let now = before;
          await waitUntil(async () => {
            now = counters(await f.status());
            return now.total >= before.total + expected.rejectedTotal && [...now.beats.keys()].filter((n) => n !== "beater").every((n) => now.beats.get(n)! >= want(n, expected.beats, before.beats));
          }, () => `counters to reach the model's: ${JSON.stringify({ total: [now.total, before.total + expected.rejectedTotal], beats: [...now.beats] })}`, 20_000);
          const doc = await f.check();
          const after = counters(doc);
          expect(after.total).toBe(before.total + expected.rejectedTotal);
          for (const name of [...TARGETS, "beater"]) {
            expect({ name, rejected: after.rejected.get(name) }).toEqual({ name, rejected: want(name, expected.rejected, before.rejected) });
          }
          for (const name of TARGETS) {
            expect({ name, beats: after.beats.get(name) }).toEqual({ name, beats: want(name, expected.beats, before.beats) });
            const s = doc.services.find((x) => x.name === name)!;
            const data = expected.data.get(name);
            if (data) expect(data.some((d) => isDeepStrictEqual(d, s.last_beat_data)), `${name}'s last data is one it sent`).toBe(true);
            const texts = expected.texts.get(name);
            if (texts) expect(texts).toContain(s.status_text);
          }
          // the connections left open end now, and what their last lines count for is counted before the
          // next case reads its own starting figures
          const late: Expected = { rejectedTotal: 0, rejected: new Map(), beats: new Map(), data: new Map(), texts: new Map() };
          for (const { plan, bytes } of connections) {
            if (plan.finish !== "open") continue;
            const sofar = connectionVerdicts(bytes, tokens, false).verdicts.length;
            expectedOf(connectionVerdicts(bytes, tokens, true).verdicts.slice(sofar), late);
          }
          for (const s of open.splice(0)) s.destroy();
          await waitUntil(async () => {
            now = counters(await f.status());
            return now.total >= after.total + late.rejectedTotal && TARGETS.every((n) => now.beats.get(n)! >= want(n, late.beats, after.beats));
          }, () => `the open connections' last lines to be counted: ${JSON.stringify({ total: [now.total, after.total + late.rejectedTotal] })}`, 20_000);
        } finally {
          for (const s of open) s.destroy();
        }
      }),
      // no shrinking: the supervisor lives on between cases, so the first failing case is the one to read
      { ...fuzzParams(2_500), endOnFailure: true },
    );
  }, fuzzIsFull ? 0 : 120_000);
});

describe("parseChildMessage under fuzz", () => {
  const envelope = fc.record(
    { service: fc.oneof(fc.string(), fc.jsonValue()), token: fc.oneof(fc.string(), fc.jsonValue()), type: fc.oneof(type, fc.string(), fc.jsonValue()), text: fc.oneof(fc.string(), fc.jsonValue()), data: fc.jsonValue({ maxDepth: 40 }) },
    { requiredKeys: [] },
  );

  it("never throws, takes every message the model takes, and only data that JSON.stringify can always write", () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: envelope }, { weight: 1, arbitrary: fc.jsonValue() }), (value) => {
        const parsed = parseChildMessage(value);
        const m = value as { service?: unknown; token?: unknown };
        // the pure parser checks no token: give the model the message's own
        const tokens = new Map<string, string>(typeof m?.service === "string" && typeof m.token === "string" ? [[m.service, m.token]] : []);
        const line = Buffer.from(JSON.stringify(value));
        const model = verdictOf(line, tokens);
        if (model.kind === "accepted" && line.length <= MAX_LINE_BYTES) expect(parsed.ok).toBe(true);
        if (parsed.ok) {
          const data = parsed.message.data;
          expect(depthOf(data)).toBeLessThanOrEqual(MAX_DATA_DEPTH);
          expect(Buffer.byteLength(JSON.stringify(data) ?? "")).toBeLessThanOrEqual(MAX_DATA_BYTES);
        } else if (parsed.fault === "bad-data") {
          expect(depthOf(m) > MAX_DATA_DEPTH || line.length > MAX_DATA_BYTES).toBe(true);
        }
      }),
      fuzzParams(200_000),
    );
  });

  it("refuses data nested past the bound at any depth without overflowing its stack", () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_DATA_DEPTH + 1, max: 200_000 }), fc.constantFrom("[", '{"k":'), (depth, open) => {
        const close = open === "[" ? "]" : "}";
        const data = JSON.parse(nested(depth, open, close)) as unknown;
        const parsed = parseChildMessage({ type: "beat", service: "a", token: "t", data });
        expect(parsed).toMatchObject({ ok: false, fault: "bad-data", dataFault: "too-deep", service: "a", token: "t" });
      }),
      fuzzParams(2_000),
    );
  });
});
