// The loop with everything around it made of plain objects: a fake clock, a spawner that hands out pids
// and lets the test say when a child exits, and recorders for events, replies and probe requests. The
// loop and step() are the real ones; time moves only when the test moves it.
import type { ChildMessage } from "../../src/core/heartbeat-message.js";
import { parseNotify } from "../../src/core/notify-message.js";
import type { CommandAnswer, StackCommand } from "../../src/core/stack/commands.js";
import type { DomainEvent, EventKind } from "../../src/core/stack/domain-events.js";
import type { SpawnSpec } from "../../src/core/stack/effects.js";
import type { InstanceId } from "../../src/core/stack/ids.js";
import type { Input, InstanceSample } from "../../src/core/stack/inputs.js";
import { initialState, nameOf, type Instance } from "../../src/core/stack/state.js";
import type { ServiceDoc } from "../../src/control/status-document.js";
import { instanceDoc } from "../../src/core/stack/status.js";
import { parseManifest } from "../../src/manifest/load.js";
import type { Manifest } from "../../src/manifest/types.js";
import { Loop, type Adapters } from "../../src/runtime/loop.js";
import { FakeClock } from "./fake-clock.js";

export interface FakeChild {
  readonly id: InstanceId;
  readonly incarnation: number;
  readonly pid: number;
  readonly token: string;
  readonly spec: SpawnSpec;
  /** signals sent to its job, in order ("SIGTERM", "SIGKILL") */
  readonly signals: string[];
  alive: boolean;
}

export interface ProbeRequest {
  readonly id: InstanceId;
  readonly incarnation: number;
  readonly probe: "liveness" | "readiness";
}

export interface WorldOptions {
  /** a child that gets its stop signal exits at once (as most do); false: it ignores it */
  readonly obeysStop?: boolean;
}

/** Parses a manifest written in YAML (paths relative to /srv/app). */
export function manifestOf(yaml: string): Manifest {
  return parseManifest(yaml, "/srv/app/supervisor.yaml", { readFile: () => "" });
}

export class FakeWorld {
  readonly clock = new FakeClock();
  readonly loop: Loop;
  /** every child ever spawned, in order */
  readonly children: FakeChild[] = [];
  readonly events: DomainEvent[] = [];
  readonly probes: ProbeRequest[] = [];
  readonly loads: (number | null)[] = [];
  readonly forgotten: InstanceId[] = [];
  /** what the loop told a service manager above it (Announce effects) */
  readonly announced: string[] = [];
  /** `actions:` commands asked for (RunAction), in order */
  readonly actions: Extract<import("../../src/core/stack/effects.js").Effect, { type: "RunAction" }>[] = [];
  /** spawns, signals, events and replies as the adapters saw them, in order: "spawn 3", "signal SIGTERM", "event state", "reply" */
  readonly calls: string[] = [];
  stopped = false;
  obeysStop: boolean;
  #nextPid = 1000;
  #replies = new Map<number, CommandAnswer>();
  #nextReply = 1;

  constructor(manifest: Manifest | string, opts: WorldOptions = {}) {
    const m = typeof manifest === "string" ? manifestOf(manifest) : manifest;
    this.obeysStop = opts.obeysStop ?? true;
    this.loop = new Loop(initialState(m, this.clock.wallNow()), this.clock, this.#adapters(), () => 0.5);
  }

  get state() {
    return this.loop.state;
  }

  post(input: Input): void {
    this.loop.post(input);
  }

  start(): this {
    this.post({ type: "Started", pid: 1 });
    return this;
  }

  advance(ms: number): this {
    this.clock.advance(ms);
    return this;
  }

  /** The instance by its name as people see it (`web`, `web.1`). */
  instance(name: string): Instance {
    for (const instance of this.state.instances.values()) if (nameOf(this.state, instance) === name) return instance;
    throw new Error(`no instance ${name}; have ${[...this.state.instances.values()].map((i) => nameOf(this.state, i)).join(", ")}`);
  }

  /** The status document entry of an instance. */
  doc(name: string): ServiceDoc {
    const iso = { ofMonotonic: (ms: number | null) => (ms === null ? null : new Date(this.clock.wallNow() - (this.clock.now() - ms)).toISOString()), ofWall: (ms: number) => new Date(ms).toISOString() };
    return instanceDoc(this.state, this.instance(name), this.clock.now(), iso);
  }

  /** The live child of an instance (throws when it has none). */
  child(name: string): FakeChild {
    const id = this.instance(name).id;
    const child = [...this.children].reverse().find((c) => c.id === id && c.alive);
    if (!child) throw new Error(`${name} has no live child`);
    return child;
  }

  /** Children spawned for an instance so far. */
  spawnsOf(name: string): FakeChild[] {
    const id = this.instance(name).id;
    return this.children.filter((c) => c.id === id);
  }

  exit(name: string, code: number | null, signal: string | null = null): this {
    const child = this.child(name);
    this.#exit(child, code, signal);
    return this;
  }

  /** A message from the instance's live child over the heartbeat socket. */
  say(name: string, message: Partial<ChildMessage> & { type: ChildMessage["type"] }): this {
    const child = this.child(name);
    this.post({ type: "MessageReceived", message: { ok: true, message: { service: child.spec.service, token: child.token, data: undefined, text: undefined, ...message } } });
    return this;
  }

  /** A datagram on the instance's live child's notify socket. */
  notify(name: string, text: string): this {
    const child = this.child(name);
    this.post({ type: "NotifyReceived", id: child.id, incarnation: child.incarnation, datagram: parseNotify(text) });
    return this;
  }

  beat(name: string, data?: unknown): this {
    return this.say(name, { type: "beat", data });
  }

  output(name: string): this {
    const child = this.child(name);
    this.post({ type: "OutputSeen", id: child.id, incarnation: child.incarnation });
    return this;
  }

  probeResult(name: string, probe: "liveness" | "readiness", ok: boolean, detail = ok ? "HTTP 200" : "HTTP 500"): this {
    const child = this.child(name);
    this.post({ type: "ProbeFinished", id: child.id, incarnation: child.incarnation, probe, ok, detail });
    return this;
  }

  sample(name: string, figures: Partial<InstanceSample>): this {
    const child = this.child(name);
    const sample: InstanceSample = { id: child.id, pid: child.pid, cpuPercent: 1, rssBytes: 1_000_000, ownCpuPercent: 1, ownRssBytes: 1_000_000, processes: 1, ...figures };
    this.post({ type: "ResourcesSampled", samples: [sample], host: null });
    return this;
  }

  /** Sends a command and returns its answer (commands answered at once; `reload`'s comes with `load`). */
  command(command: StackCommand): CommandAnswer | undefined {
    const replyTo = this.#nextReply++;
    this.post({ type: "ControlRequested", replyTo, command });
    const answer = this.#replies.get(replyTo);
    this.#replies.delete(replyTo);
    return answer;
  }

  /** `vigil reload` with the file now holding `manifest`: the answer. */
  reload(manifest: Manifest | string): CommandAnswer | undefined {
    const replyTo = this.#nextReply++;
    this.post({ type: "ControlRequested", replyTo, command: { cmd: "reload" } });
    this.load(manifest);
    const answer = this.#replies.get(replyTo);
    this.#replies.delete(replyTo);
    return answer;
  }

  /** Answers the last LoadManifest with a new manifest (as a reload reads the file). */
  load(manifest: Manifest | string): this {
    const replyTo = this.loads.shift() ?? null;
    this.post({ type: "ManifestLoaded", manifest: typeof manifest === "string" ? manifestOf(manifest) : manifest, replyTo });
    return this;
  }

  /** Events of a kind, as published. */
  eventsOf<K extends EventKind>(kind: K): Extract<DomainEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<DomainEvent, { kind: K }> => e.kind === kind);
  }

  #exit(child: FakeChild, code: number | null, signal: string | null): void {
    if (!child.alive) return;
    child.alive = false;
    this.post({ type: "ChildExited", id: child.id, incarnation: child.incarnation, code, signal });
  }

  #adapters(): Adapters {
    return {
      spawn: (id, incarnation, spec) => {
        const pid = this.#nextPid++;
        const child: FakeChild = { id, incarnation, pid, token: `token-${pid}`, spec, signals: [], alive: true };
        this.children.push(child);
        this.calls.push(`spawn ${pid}`);
        // as the real spawner: the child is reported at once, and the loop takes it after this step
        this.post({ type: "ChildSpawned", id, incarnation, pid, token: child.token });
      },
      signal: (id, incarnation, signal) => this.#signal(id, incarnation, signal),
      kill: (id, incarnation) => this.#signal(id, incarnation, "SIGKILL"),
      runProbe: (probe) => void this.probes.push({ id: probe.id, incarnation: probe.incarnation, probe: probe.probe }),
      publish: (event) => {
        this.events.push(event);
        this.calls.push(`event ${event.kind}`);
      },
      reply: (to, answer) => {
        this.#replies.set(to, answer);
        this.calls.push("reply");
      },
      loadManifest: (replyTo) => void this.loads.push(replyTo),
      reconfigure: () => undefined,
      forget: (id) => void this.forgotten.push(id),
      stopped: () => void (this.stopped = true),
      announce: (what) => void this.announced.push(what),
      armPing: () => undefined,
      runAction: (effect) => void this.actions.push(effect),
    };
  }

  #signal(id: InstanceId, incarnation: number, signal: string): void {
    const child = this.children.find((c) => c.id === id && c.incarnation === incarnation && c.alive);
    if (!child) return;
    this.calls.push(`signal ${signal}`);
    child.signals.push(signal);
    if (signal === "SIGKILL" || this.obeysStop) this.#exit(child, null, signal);
  }
}
