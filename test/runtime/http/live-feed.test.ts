import { describe, expect, it } from "vitest";
import type { StatusDocument, SupervisorDoc } from "../../../src/control/status-document.js";
import { domainEvent, type DomainEvent } from "../../../src/core/stack/domain-events.js";
import { UnknownServiceError, type DashboardSource, type OutputLine } from "../../../src/runtime/http/backend.js";
import { LiveFeed, LOG_LINES_PER_FRAME } from "../../../src/runtime/http/live-feed.js";
import type { SseSink } from "../../../src/runtime/http/sse.js";
import { parseSse } from "../../../web/src/sse-parse.js";
import { FakeClock } from "../../support/fake-clock.js";

const supervisor = { pid: 1, generation: 1, config_error: null } as unknown as SupervisorDoc;

/** a stack of named instances, as the feed sees it through the backend and the dashboard source */
class FakeStack implements DashboardSource {
  names = ["api", "worker", "db"];
  readonly asked: (readonly string[] | undefined)[] = [];
  #events = new Set<(e: DomainEvent) => void>();
  #lines = new Set<(l: OutputLine) => void>();
  #statuses = new Set<(json: string) => void>();

  status = (names?: readonly string[]): StatusDocument => {
    this.asked.push(names);
    const wanted = names && names.length > 0 ? names : this.names;
    const unknown = wanted.filter((n) => !this.names.includes(n));
    if (unknown.length > 0) throw new UnknownServiceError(`unknown ${unknown.join(", ")}`, this.names);
    return { supervisor, services: wanted.map((name) => ({ name, state: "running", command: "db --password=hunter2", last_beat_data: { big: "x" } })) } as unknown as StatusDocument;
  };
  subscribe(listener: (e: DomainEvent) => void) {
    this.#events.add(listener);
    return () => this.#events.delete(listener);
  }
  onOutput(listener: (l: OutputLine) => void) {
    this.#lines.add(listener);
    return () => this.#lines.delete(listener);
  }
  onStatus(listener: (json: string) => void) {
    this.#statuses.add(listener);
    return () => this.#statuses.delete(listener);
  }
  /** status.json written, with one service a line as the writer makes it */
  wrote(generation: number): void {
    const json = `{"supervisor":{"generation":${generation}},"services":[\n${this.names.map((n) => `{"name":"${n}"}`).join(",\n")}\n]}`;
    for (const l of this.#statuses) l(json);
  }
  journal = () => Promise.resolve([{ at: "2026-01-01T00:00:00.000Z", service: "api", kind: "exit", level: "warn" as const, message: "exited with code 1", fields: {} }]);
  logTail = (instance: string) => Promise.resolve([{ instance, stream: "out" as const, text: "earlier", atMs: 1 }]);
  layout = () => this.names.map((name) => ({ name, depends_on: {}, replicas: 1, heartbeat: null, schedule: null, disabled: false }));
  supervisor = () => supervisor;

  get listeners(): number {
    return this.#events.size + this.#lines.size + this.#statuses.size;
  }
  publish(kind: "exit" | "config-applied" | "state", instance: string | null): void {
    const subject = { service: instance, instance };
    const event =
      kind === "exit" ? domainEvent("exit", subject, { code: 1, signal: null, reason: "exit", pid: 5 }, 0)
      : kind === "state" ? domainEvent("state", subject, { state: "backoff", previous: "running", pid: null }, 0)
      : domainEvent("config-applied", subject, { generation: 2, changes: [] }, 0);
    for (const l of this.#events) l(event);
  }
  print(instance: string, text: string, stream: "out" | "err" = "out"): void {
    for (const l of this.#lines) l({ instance, stream, text, atMs: 2 });
  }
}

class Page implements SseSink {
  text = "";
  closed = false;
  constructor(readonly follow: string | null = null) {}
  write(text: string): void {
    this.text += text;
  }
  close(): void {
    this.closed = true;
  }
  /** the events received so far, and forgets them */
  take(): { event: string; data: any }[] {
    const { events } = parseSse(this.text);
    this.text = "";
    return events.map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
  }
}

async function feedWith(stack = new FakeStack()) {
  const clock = new FakeClock();
  const feed = new LiveFeed(clock, { status: stack.status }, stack, { actions: "token", flushMs: 250, statusEveryMs: 2_000, pingMs: 15_000 });
  return { clock, feed, stack };
}

describe("the dashboard's live feed", () => {
  it("sends a page the snapshot when it connects: every instance, the layout, what it may do; then the journal's end", async () => {
    const { feed } = await feedWith();
    const page = new Page();
    await feed.open(page);
    const [snapshot, journal] = page.take();
    expect(snapshot?.event).toBe("snapshot");
    expect(snapshot?.data.services.map((s: { name: string }) => s.name)).toEqual(["api", "worker", "db"]);
    expect(snapshot?.data.layout).toHaveLength(3);
    expect(snapshot?.data.actions).toBe("token");
    expect(journal).toEqual({ event: "journal", data: { events: [expect.objectContaining({ kind: "exit", service: "api" })] } });
  });

  it("renders the instances it sends itself without their command or the beats' data", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page();
    await feed.open(page);
    stack.publish("exit", "api");
    clock.advance(250);
    expect(page.text).toContain("event: update");
    expect(page.text).not.toContain("hunter2");
    expect(page.text).not.toContain("last_beat_data");
  });

  it("coalesces a burst of events into one update at the end of the flush interval, with only the instances they touched", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page();
    await feed.open(page);
    page.take();
    for (let i = 0; i < 50; i++) stack.publish(i % 2 === 0 ? "exit" : "state", "worker");
    stack.publish("exit", "api");
    clock.advance(249);
    expect(page.take()).toEqual([]);
    clock.advance(1);
    const frames = page.take();
    expect(frames.map((f) => f.event)).toEqual(["update"]);
    expect(frames[0]?.data.services.map((s: { name: string }) => s.name).sort()).toEqual(["api", "worker"]);
    // the timeline gets what a person looks for; state changes are the list's
    expect(frames[0]?.data.events.map((e: { kind: string }) => e.kind)).toEqual([...Array(25).fill("exit"), "exit"]);
    clock.advance(1_000);
    expect(page.take()).toEqual([]);
  });

  it("sends at most one update per flush interval however long events keep coming", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page();
    await feed.open(page);
    page.take();
    let updates = 0;
    for (let ms = 0; ms < 1_000; ms += 10) {
      stack.publish("exit", "api");
      clock.advance(10);
      updates += page.take().filter((f) => f.event === "update").length;
    }
    expect(updates).toBe(4);
  });

  it("forwards status.json as it was last written, once per flush, with the events beside it and nothing rendered", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page();
    await feed.open(page);
    page.take();
    const rendered = stack.asked.length;
    for (let generation = 1; generation <= 5; generation++) stack.wrote(generation);
    stack.publish("exit", "worker");
    clock.advance(250);
    const frames = page.take();
    expect(frames.map((f) => f.event)).toEqual(["status", "update"]);
    expect(frames[0]?.data).toEqual({ supervisor: { generation: 5 }, services: [{ name: "api" }, { name: "worker" }, { name: "db" }] });
    expect(frames[1]?.data.events.map((e: { kind: string }) => e.kind)).toEqual(["exit"]);
    expect(stack.asked.length).toBe(rendered);
  });

  it("sends status.json's text at most every 2 s, and in between the instances events touched", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page();
    await feed.open(page);
    page.take();
    stack.wrote(1);
    clock.advance(250);
    expect(page.take().map((f) => f.event)).toEqual(["status", "update"]);
    stack.wrote(2);
    stack.publish("exit", "api");
    clock.advance(250);
    const between = page.take();
    expect(between.map((f) => f.event)).toEqual(["update"]);
    expect(between[0]?.data.services.map((s: { name: string }) => s.name)).toEqual(["api"]);
    // 2 s after the last one
    clock.advance(1_749);
    expect(page.take()).toEqual([]);
    clock.advance(1);
    const [status] = page.take();
    expect(status?.event).toBe("status");
    expect(status?.data.supervisor.generation).toBe(2);
  });

  it("keeps the stream open with a comment every 15 s", async () => {
    const { feed, clock } = await feedWith();
    const page = new Page();
    await feed.open(page);
    page.take();
    clock.advance(14_999);
    expect(page.text).toBe("");
    clock.advance(1);
    expect(page.text).toBe(": ping\n\n");
  });

  it("sends a new snapshot when the stack's shape changed (a reload, a scale)", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page();
    await feed.open(page);
    page.take();
    stack.names = ["api", "db", "cache"];
    stack.publish("config-applied", null);
    clock.advance(250);
    const frames = page.take();
    expect(frames.map((f) => f.event)).toEqual(["snapshot"]);
    expect(frames[0]?.data.services.map((s: { name: string }) => s.name)).toEqual(["api", "db", "cache"]);
    // the page keeps its timeline and adds these
    expect(frames[0]?.data.append).toBe(true);
    expect(frames[0]?.data.events.map((e: { kind: string }) => e.kind)).toEqual(["config-applied"]);
  });

  it("sends the whole list when an instance it was told of is gone by the flush", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page();
    await feed.open(page);
    page.take();
    stack.publish("exit", "worker");
    stack.names = ["api", "db"];
    clock.advance(250);
    expect(page.take()[0]?.data.services.map((s: { name: string }) => s.name)).toEqual(["api", "db"]);
  });

  it("sends a page the output of the instance it follows only: the tail first, then new lines", async () => {
    const { feed, clock, stack } = await feedWith();
    const follower = new Page("api");
    const other = new Page();
    await feed.open(follower);
    await feed.open(other);
    const opening = follower.take();
    expect(opening.map((f) => f.event)).toEqual(["snapshot", "journal", "log"]);
    expect(opening[2]?.data).toMatchObject({ instance: "api", reset: true, lines: [{ text: "earlier", stream: "out" }] });
    other.take();
    stack.print("api", "hello", "err");
    stack.print("worker", "not for this page");
    clock.advance(250);
    expect(follower.take()).toEqual([{ event: "log", data: { instance: "api", dropped: 0, lines: [{ at: 2, stream: "err", text: "hello" }] } }]);
    expect(other.take()).toEqual([]);
  });

  it("keeps the newest lines of a flood and says how many it skipped", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page("api");
    await feed.open(page);
    page.take();
    for (let i = 0; i < LOG_LINES_PER_FRAME + 30; i++) stack.print("api", `line ${i}`);
    clock.advance(250);
    const [log] = page.take();
    expect(log?.data.dropped).toBe(30);
    expect(log?.data.lines).toHaveLength(LOG_LINES_PER_FRAME);
    expect(log?.data.lines.at(-1).text).toBe(`line ${LOG_LINES_PER_FRAME + 29}`);
  });

  it("lets go of the bus and its timers when the last page leaves", async () => {
    const { feed, clock, stack } = await feedWith();
    const page = new Page();
    await feed.open(page);
    expect(stack.listeners).toBe(3);
    feed.close(page);
    expect(stack.listeners).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it("closes every stream when the server closes", async () => {
    const { feed, clock } = await feedWith();
    const pages = [new Page(), new Page("db")];
    for (const p of pages) await feed.open(p);
    feed.closeAll();
    expect(pages.every((p) => p.closed)).toBe(true);
    expect(clock.pending()).toBe(0);
  });
});
