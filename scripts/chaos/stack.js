// The stack under attack: services of mixed kinds, kept as a model from which supervisor.yaml is
// written, so that every edit (and every bad edit) is known exactly.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** how many of each kind make up 50 services; other counts take the kinds in turn */
const MIX = {
  sleeper: 8, beater: 8, "shell-beater": 2, crashloop: 4, fatal: 2, escaper: 4, "escaper-crash": 3, ticker: 3,
  quiet: 2, stubborn: 3, "stubborn-daemon": 2, never: 2, "never-escaper": 1, dependent: 6,
};
/** kinds an added service may have (a dependent needs a target chosen at the start) */
export const ADDABLE = Object.keys(MIX).filter((k) => k !== "dependent");
export const DEFAULT_STOP_MS = 3_000;

const q = (s) => JSON.stringify(s);
const sh = (script) => ({ command: q(script), shell: "true" });

/**
 * The manifest keys of one service of `kind` at revision `rev` (a changed rev is a changed command),
 * with `watch`: how soon vigil notices a main process that no longer makes progress (SIGSTOP), if it can.
 */
function define(kind, rev, beaterPath) {
  switch (kind) {
    case "sleeper":
      return { keys: { command: q(`sleep ${100000 + rev}`) } };
    case "beater":
      return {
        keys: {
          command: `[${q(process.execPath)}, ${q(beaterPath)}, ${q(`rev=${rev}`)}]`,
          heartbeat: "{ via: socket, interval: 500ms, misses: 3, startup_grace: 10s }",
        },
        watch: { graceMs: 10_000, detectMs: 1_500 },
      };
    case "shell-beater":
      return {
        keys: {
          ...sh(`: rev ${rev}; while :; do vigil beat --data '{"rev":${rev}}' >/dev/null 2>&1; sleep 1; done`),
          heartbeat: "{ via: socket, interval: 3s, misses: 3, startup_grace: 15s }",
        },
        watch: { graceMs: 15_000, detectMs: 9_000 },
      };
    case "crashloop":
      return {
        keys: {
          ...sh(`: rev ${rev}; sleep 0.${2 + (rev % 7)}; exit 1`),
          restart: "{ backoff: { initial: 100ms, factor: 2, max: 1s, reset_after: 10s } }",
        },
      };
    case "fatal":
      return {
        keys: {
          ...sh(`: rev ${rev}; exit 3`),
          restart: "{ policy: on-failure, max_restarts: 2, window: 10m, backoff: { initial: 100ms, max: 200ms } }",
        },
      };
    case "escaper":
      return { keys: sh(`: rev ${rev}; setsid sleep 100000 & sh -c 'setsid sleep 100000 &'; exec sleep 100000`) };
    case "escaper-crash":
      return {
        keys: {
          ...sh(`: rev ${rev}; setsid sleep 100000 & sh -c 'setsid sleep 100000 &'; sleep ${3 + (rev % 5)}; exit 1`),
          restart: "{ backoff: { initial: 200ms, factor: 2, max: 1s } }",
        },
      };
    case "ticker":
      return { keys: { ...sh(`: rev ${rev}; while :; do echo tick; sleep 1; done`), logs: "{ stale_after: 3s }" }, watch: { graceMs: 0, detectMs: 3_000 } };
    case "quiet":
      return { keys: { ...sh(`: rev ${rev}; echo started; exec sleep 100000`), logs: "{ stale_after: 5s }" }, watch: { graceMs: 0, detectMs: 5_000 } };
    case "stubborn":
      return { keys: { ...sh(`: rev ${rev}; trap '' TERM; while :; do sleep 1; done`), stop: "{ timeout: 1s }" } };
    case "stubborn-daemon":
      return {
        keys: { ...sh(`: rev ${rev}; trap '' TERM; setsid sh -c 'while :; do sleep 1; done' & while :; do sleep 1; done`), stop: "{ timeout: 1s }" },
      };
    case "never":
      return { keys: { command: q(`sleep ${100000 + rev}`), restart: "{ policy: never }" } };
    case "never-escaper":
      return { keys: { ...sh(`: rev ${rev}; setsid sleep 100000 & exec sleep 100000`), restart: "{ policy: never }" } };
    case "dependent":
      return { keys: { command: q(`sleep ${100000 + rev}`) } };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

/** the ways an edit can be wrong; each must be refused whole, with the running config kept */
export const BAD_EDITS = ["unknown-key", "bad-duration", "unknown-target", "top-level-key", "yaml-syntax"];

export class Stack {
  /** name → { name, kind, rev, dependsOn: null | { target, condition }, stopMs } */
  services = new Map();
  /** names removed by an edit; never used again */
  removed = new Set();
  #added = 0;

  constructor(dir, count, random, beaterPath) {
    this.dir = dir;
    this.file = join(dir, "supervisor.yaml");
    this.beaterPath = beaterPath;
    // round by round, each kind while it has some left of its share; past the shares, all in turn
    const kinds = [];
    const most = Math.max(...Object.values(MIX));
    for (let i = 0; kinds.length < count; i++) {
      for (const [kind, n] of Object.entries(MIX)) if (kinds.length < count && (i < n || i >= most)) kinds.push(kind);
    }
    const order = kinds.map((kind) => ({ kind, key: random.next() })).sort((a, b) => a.key - b.key);
    order.forEach(({ kind }, i) => this.#put(`${kind}-${String(i + 1).padStart(2, "0")}`, kind));
    const targets = [...this.services.values()].filter((s) => s.kind === "sleeper" || s.kind === "beater");
    for (const s of this.services.values()) {
      if (s.kind !== "dependent") continue;
      const target = targets.length > 0 ? random.pick(targets) : null;
      if (target === null) s.kind = "sleeper";
      else s.dependsOn = { target: target.name, condition: target.kind === "beater" ? "healthy" : "started" };
    }
  }

  #put(name, kind) {
    const service = { name, kind, rev: 0, dependsOn: null, stopMs: null };
    this.services.set(name, service);
    return service;
  }

  /** names some other service depends on: removing one would make the manifest invalid */
  targets() {
    return new Set([...this.services.values()].flatMap((s) => (s.dependsOn ? [s.dependsOn.target] : [])));
  }

  add(kind) {
    return this.#put(`added-${String(++this.#added).padStart(3, "0")}-${kind}`, kind);
  }

  remove(name) {
    this.services.delete(name);
    this.removed.add(name);
  }

  watchOf(name) {
    const s = this.services.get(name);
    return s ? (define(s.kind, s.rev, this.beaterPath).watch ?? null) : null;
  }

  stopTimeoutMs(name) {
    const s = this.services.get(name);
    if (!s) return DEFAULT_STOP_MS;
    if (s.stopMs !== null) return s.stopMs;
    return s.kind === "stubborn" || s.kind === "stubborn-daemon" ? 1_000 : DEFAULT_STOP_MS;
  }

  /** Saves the manifest in place (as an editor does); `bad` is one of BAD_EDITS, applied to `badName`. */
  write(bad = null, badName = null) {
    writeFileSync(this.file, this.text(bad, badName));
  }

  text(bad = null, badName = null) {
    let text =
      "version: 1\nstate_dir: state\n" +
      (bad === "top-level-key" ? "state_dri: state\n" : "") +
      "defaults:\n  restart:\n    policy: always\n" +
      "    backoff: { initial: 200ms, factor: 2, max: 2s, jitter: 0.1, reset_after: 10s }\n" +
      "    max_restarts: 1000000\n    window: 1m\n" +
      `  stop: { signal: SIGTERM, timeout: ${DEFAULT_STOP_MS}ms }\nservices:\n`;
    for (const s of this.services.values()) {
      const keys = { ...define(s.kind, s.rev, this.beaterPath).keys };
      if (s.dependsOn) keys.depends_on = `{ ${s.dependsOn.target}: ${s.dependsOn.condition} }`;
      if (s.stopMs !== null) keys.stop = `{ timeout: ${s.stopMs}ms }`;
      if (s.name === badName) {
        if (bad === "unknown-key") keys.restrat = "{ policy: always }";
        if (bad === "bad-duration") keys.stop = "{ timeout: 5 parsecs }";
        if (bad === "unknown-target") keys.depends_on = "[no-such-service]";
        if (bad === "yaml-syntax") keys.env = "{ A: [1, }";
      }
      text += `  ${s.name}:\n${Object.entries(keys).map(([k, v]) => `    ${k}: ${v}\n`).join("")}`;
    }
    return text;
  }
}
