// createSupervisor: run a stack inside a Node program, as `vigil up` does in a terminal.
import { EventEmitter } from "node:events";
import { resolve } from "node:path";
import { stringify } from "yaml";
import type { Health, ServiceState } from "./core/types.js";
import type { StatusDocument } from "./control/status-document.js";
import { loadManifest, parseManifest } from "./manifest/load.js";
import type { ManifestInput } from "./manifest/schema.js";
import type { Manifest } from "./manifest/types.js";
import type { Logger } from "./runtime/logger.js";
import type { Printer } from "./runtime/printer.js";
import { StackRuntime } from "./runtime/stack-runtime.js";

export interface SupervisorEventMap {
  /** a service changed state */
  state: [event: { name: string; state: ServiceState; previous: ServiceState; pid: number | null }];
  spawn: [event: { name: string; pid: number }];
  exit: [event: { name: string; pid: number }];
  /** a service's heartbeat health changed */
  health: [event: { name: string; health: Health }];
  /** every service is stopped and the stack is closed */
  stopped: [];
}

export interface CreateOptions {
  /** where relative paths of an object manifest start; default process.cwd() */
  readonly baseDir?: string;
  readonly logger?: Logger;
  /** children's output; default none (it is still written to STATE_DIR/logs) */
  readonly printer?: Printer;
}

/** A stack under supervision, driven from code. */
export class VigilSupervisor extends EventEmitter<SupervisorEventMap> {
  private stack: StackRuntime | null = null;

  constructor(
    private readonly source: string | ManifestInput,
    private readonly opts: CreateOptions = {},
  ) {
    super();
  }

  get manifest(): Manifest | null {
    return this.stack?.manifest ?? null;
  }

  /**
   * With no name: load the manifest (ManifestError when invalid), take the state directory's lock
   * (LockError when another supervisor holds it) and start every service. With names: start those.
   */
  async start(...names: string[]): Promise<void> {
    if (names.length > 0) return this.running().supervisor.control("start", names);
    if (this.stack) throw new Error("this supervisor is already started");
    const manifest = await this.load();
    const stack = await StackRuntime.open(manifest, {
      ...(this.opts.logger ? { logger: this.opts.logger } : {}),
      ...(this.opts.printer ? { printer: this.opts.printer } : {}),
    });
    this.stack = stack;
    const sup = stack.supervisor;
    sup.on("change", (name, status, previous) => {
      if (status.state !== previous.state) this.emit("state", { name, state: status.state, previous: previous.state, pid: status.pid });
    });
    sup.on("spawned", (name, pid) => this.emit("spawn", { name, pid }));
    sup.on("exited", (name, pid) => this.emit("exit", { name, pid }));
    sup.on("healthChanged", (name) => this.emit("health", { name, health: sup.healthOf(name) }));
    await stack.start();
  }

  /** With no name: stop everything and close the stack. With names: stop those and hold them down. */
  async stop(...names: string[]): Promise<void> {
    if (names.length > 0) return this.running().supervisor.control("stop", names);
    if (!this.stack) return;
    await this.stack.shutdown();
    this.emit("stopped");
  }

  async restart(...names: string[]): Promise<void> {
    this.running().supervisor.control("restart", names);
  }

  /** The status document of SPEC §4 (UnknownServiceError for an unknown name). */
  status(...names: string[]): StatusDocument {
    return this.running().supervisor.status(names);
  }

  private running(): StackRuntime {
    if (!this.stack) throw new Error("the supervisor is not started");
    return this.stack;
  }

  private async load(): Promise<Manifest> {
    if (typeof this.source === "string") return loadManifest(this.source);
    const file = resolve(this.opts.baseDir ?? process.cwd(), "supervisor.yaml");
    return parseManifest(stringify(this.source), file);
  }
}

/** `createSupervisor("supervisor.yaml")` or `createSupervisor({ version: 1, services: {…} })`. */
export function createSupervisor(source: string | ManifestInput, opts?: CreateOptions): VigilSupervisor {
  return new VigilSupervisor(source, opts);
}
