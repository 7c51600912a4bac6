// The status document (SPEC §4) as JSON text, from the state as the loop keeps it, a few instances per
// turn of the event loop: with 1,000 instances one rendering takes a few milliseconds (tens with the
// resource history), and deadlines, exits and restarts must not wait that long behind it.
import type { HostDoc, ResourcePointDoc, ServiceDoc, StatusDocument, SupervisorDoc } from "../../control/status-document.js";
import { serviceDocJson } from "../../control/status-json.js";
import type { Clock } from "../../core/clock.js";
import type { InstanceId } from "../../core/stack/ids.js";
import type { HostSample } from "../../core/stack/inputs.js";
import { instancesInOrder, withRollovers, type StackState } from "../../core/stack/state.js";
import { instanceDoc } from "../../core/stack/status.js";
import { IsoMemo } from "../iso-time.js";
import { TimeSlice } from "../time-slice.js";
import { UNHEALTHY_LAG_MS, type LoopLagDoc } from "../loop-lag.js";
import { outsideDocs, outsideJson } from "../../control/outside-doc.js";

/** longest stretch of rendering before the event loop gets a turn */
const TURN_MS = 1;

export interface StatusSource {
  /** the loop's state, read as it is when each instance's turn comes */
  readonly state: () => StackState;
  /** changes whenever the state may have (Loop.inputs): the services' text is rendered again only then */
  readonly version?: () => number;
  readonly clock: Clock;
  readonly pid: number;
  /** an instance's resource history as the document's JSON series ("[]" when none) */
  readonly historyJson: (id: InstanceId, isoOf: (atMs: number) => string) => string;
  readonly history: (id: InstanceId) => readonly { readonly atMs: number; readonly cpuPercent: number | null; readonly rssBytes: number }[];
  /** what keeps the supervisor from doing its work well (a full disk): SPEC §4 extension */
  readonly problems?: () => SupervisorDoc["problems"];
  /** how often resources are sampled now, and why */
  readonly sampling?: () => SupervisorDoc["sampling"];
  /** the sockets' connections and what they closed */
  readonly connections?: () => SupervisorDoc["connections"];
  /** the process table's backend (process/table.ts) */
  readonly processBackend?: SupervisorDoc["process_backend"];
  readonly spawn?: SupervisorDoc["spawn"];
  /** how late the event loop runs (loop-lag.ts) */
  readonly loopLag?: () => LoopLagDoc;
}

export interface RenderOptions {
  /** these instances, in this order; every instance when absent */
  readonly ids?: readonly InstanceId[];
  readonly history?: boolean;
  /** one instance a line (for a file a person may grep); else one line */
  readonly lines?: boolean;
}

/** Renders status documents; keeps the ISO text of the instants it has written. */
export class StatusRenderer {
  readonly #iso: IsoMemo;
  /** the services' array of `vigil status --json`, and the Loop.inputs it was rendered at */
  #kept: { readonly version: number; readonly text: string } | null = null;

  constructor(private readonly source: StatusSource) {
    this.#iso = new IsoMemo(source.clock);
  }

  /** JSON.stringify(document(ids, history)), built across turns. */
  async json(opts: RenderOptions = {}): Promise<string> {
    const services = await this.#servicesJson(opts);
    const head = JSON.stringify(this.supervisorDoc());
    return `{"supervisor":${head},"services":${services}${this.#outsideJson()}}`;
  }

  /**
   * The document with one instance a line (status.json), as the pieces of its text in order: written
   * into a file as they are, never joined into one string of hundreds of kilobytes a second.
   */
  async linesPieces(): Promise<string[]> {
    const state = this.source.state();
    const ids = withRollovers(state, [...instancesInOrder(state)].map((i) => i.id));
    const pieces: string[] = ["", ""];
    const slice = new TimeSlice(TURN_MS);
    for (const id of ids) {
      if (slice.over) await slice.next();
      const text = this.instanceJson(id, false);
      if (text === null) continue;
      pieces.push(pieces.length === 2 ? "\n" : ",\n", text);
    }
    pieces.push(pieces.length === 2 ? "]" : "\n]", this.#outsideJson(), "}");
    pieces[0] = `{"supervisor":${JSON.stringify(this.supervisorDoc())},"services":[`;
    return pieces;
  }

  /**
   * The services' array as JSON. Every service without history, on one line (`vigil status --json`), is
   * kept as rendered while the state stays the same: an idle supervisor renders it once, not on every ask.
   */
  async #servicesJson(opts: RenderOptions): Promise<string> {
    const lines = opts.lines === true;
    const version = this.source.version?.();
    const cacheable = version !== undefined && opts.ids === undefined && opts.history !== true && !lines;
    if (cacheable && this.#kept?.version === version) return this.#kept.text;
    const ids = withRollovers(this.source.state(), opts.ids ?? [...instancesInOrder(this.source.state())].map((i) => i.id));
    const parts: string[] = [];
    const slice = new TimeSlice(TURN_MS);
    for (const id of ids) {
      if (slice.over) await slice.next();
      const text = this.instanceJson(id, opts.history === true);
      if (text !== null) parts.push(text);
    }
    const text = !lines ? `[${parts.join(",")}]` : parts.length === 0 ? "[]" : `[\n${parts.join(",\n")}\n]`;
    // kept only when the state did not change between the turns it was rendered in
    if (cacheable && this.source.version?.() === version) this.#kept = { version, text };
    return text;
  }

  /** pings and unmanaged beats after the services (outside-doc.ts); "" when there are none */
  #outsideJson(): string {
    return outsideJson(outsideDocs(this.source.state(), this.source.clock.now()));
  }

  /** The document as an object, at once (for the HTTP API and the library). */
  document(opts: Omit<RenderOptions, "lines"> = {}): StatusDocument {
    const state = this.source.state();
    const ids = withRollovers(state, opts.ids ?? [...instancesInOrder(state)].map((i) => i.id));
    const services: ServiceDoc[] = [];
    for (const id of ids) {
      const doc = this.instanceDoc(id, opts.history === true);
      if (doc) services.push(doc);
    }
    return { supervisor: this.supervisorDoc(), services, ...outsideDocs(state, this.source.clock.now()) };
  }

  instanceDoc(id: InstanceId, withHistory = false): ServiceDoc | null {
    const state = this.source.state();
    const instance = state.instances.get(id);
    if (!instance) return null;
    const doc = instanceDoc(state, instance, this.source.clock.now(), this.#iso);
    if (!withHistory) return doc;
    const history: ResourcePointDoc[] = this.source.history(id).map((p) => ({ at: this.#iso.ofMonotonic(p.atMs) ?? "", cpu_percent: p.cpuPercent, memory_bytes: p.rssBytes }));
    return { ...doc, history };
  }

  /** the instance's document as JSON, the history series written as text without objects */
  instanceJson(id: InstanceId, withHistory: boolean): string | null {
    const doc = this.instanceDoc(id);
    if (!doc) return null;
    const json = serviceDocJson(doc);
    if (!withHistory) return json;
    const series = this.source.historyJson(id, (atMs) => this.#iso.ofMonotonic(atMs) ?? "");
    return `${json.slice(0, -1)},"history":${series}}`;
  }

  supervisorDoc(): SupervisorDoc {
    const state = this.source.state();
    const problems = this.source.problems?.() ?? [];
    const lag = this.source.loopLag?.() ?? null;
    return {
      pid: this.source.pid,
      started_at: this.#iso.ofWall(state.startedAtWallMs),
      manifest: state.manifest.file,
      generation: state.generation,
      config_error: state.configError,
      state_dir: state.manifest.stateDir,
      stopping: state.shuttingDown,
      rejected_messages: state.rejectedTotal,
      host: hostDoc(state.host),
      problems,
      connections: this.source.connections?.() ?? null,
      ...(this.source.sampling ? { sampling: this.source.sampling() } : {}),
      process_backend: this.source.processBackend ?? null,
      ...(this.source.spawn ? { spawn: this.source.spawn } : {}),
      ...(lag === null ? {} : { ...lag, healthy: lag.loop_lag_max_ms < UNHEALTHY_LAG_MS && problems.length === 0 }),
    };
  }
}

function hostDoc(host: HostSample | null): HostDoc | null {
  if (!host) return null;
  const disk = host.disk;
  return {
    cpu_percent: host.cpuPercent,
    cores: host.cores,
    load_avg: host.loadAvg,
    mem_total_bytes: host.memTotalBytes,
    mem_available_bytes: host.memAvailableBytes,
    disk: disk && { path: disk.path, total_bytes: disk.totalBytes, used_bytes: disk.usedBytes, used_percent: disk.usedPercent },
  };
}
