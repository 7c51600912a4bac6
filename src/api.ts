// createSupervisor: run a stack inside a Node program, as `vigil up` does in a terminal.
import { EventEmitter } from "node:events";
import { resolve as resolvePath } from "node:path";
import { stringify } from "yaml";
import type { Health, ServiceState } from "./core/types.js";
import type { StatusDocument } from "./control/status-document.js";
import type { CommandAnswer, StackCommand } from "./core/stack/commands.js";
import { knownNames, resolve, unknownNamesText } from "./core/stack/control.js";
import type { DomainEvent } from "./core/stack/domain-events.js";
import { loadManifest, parseManifest } from "./manifest/load.js";
import type { ManifestInput } from "./manifest/schema.js";
import type { Manifest } from "./manifest/types.js";
import type { Logger } from "./runtime/outputs/logger.js";
import type { Printer } from "./runtime/outputs/printer.js";
import { Stack } from "./runtime/stack.js";
import { ShuttingDownError, UnknownServiceError } from "./runtime/http/backend.js";

export interface SupervisorEventMap {
  /** everything that happens to the stack, as the journal records it */
  event: [event: DomainEvent];
  /** an instance changed state (`name` is the instance's: `web`, or `web.1` of a replicated service) */
  state: [event: { name: string; service: string; state: ServiceState; previous: ServiceState; pid: number | null }];
  spawn: [event: { name: string; service: string; pid: number }];
  exit: [event: { name: string; service: string; pid: number }];
  /** an instance's health changed */
  health: [event: { name: string; service: string; health: Health }];
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
  private stack: Stack | null = null;

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
    if (names.length > 0) return this.command({ cmd: "start", names });
    if (this.stack) throw new Error("this supervisor is already started");
    const manifest = await this.load();
    const stack = await Stack.open(manifest, {
      ...(this.opts.logger ? { logger: this.opts.logger } : {}),
      ...(this.opts.printer ? { printer: this.opts.printer } : {}),
    });
    this.stack = stack;
    stack.bus.subscribe((event) => this.relay(event));
    await stack.start();
  }

  /** With no name: stop everything and close the stack. With names: stop those and hold them down. */
  async stop(...names: string[]): Promise<void> {
    if (names.length > 0) return this.command({ cmd: "stop", names });
    if (!this.stack) return;
    await this.stack.shutdown();
    this.emit("stopped");
  }

  async restart(...names: string[]): Promise<void> {
    return this.command({ cmd: "restart", names });
  }

  /** Runs `replicas` instances of `service` (SPEC §6.1). */
  async scale(service: string, replicas: number): Promise<void> {
    return this.command({ cmd: "scale", service, replicas });
  }

  /** The status document of SPEC §4 (UnknownServiceError for an unknown name). */
  status(...names: string[]): StatusDocument {
    const stack = this.running();
    const found = resolve(stack.state, names);
    if ("unknown" in found) throw new UnknownServiceError(unknownNamesText(stack.state, found.unknown), knownNames(stack.state));
    return stack.renderer.document({ ids: found.ids });
  }

  private async command(command: StackCommand): Promise<void> {
    failed(await this.running().command(command));
  }

  private relay(event: DomainEvent): void {
    this.emit("event", event);
    const name = event.instance ?? event.service;
    const service = event.service;
    if (name === null || service === null) return;
    switch (event.kind) {
      case "state":
        return void this.emit("state", { name, service, state: event.fields.state, previous: event.fields.previous, pid: event.fields.pid });
      case "spawned":
        return void this.emit("spawn", { name, service, pid: event.fields.pid });
      case "exit":
        if (event.fields.pid !== null) this.emit("exit", { name, service, pid: event.fields.pid });
        return;
      case "health":
        return void this.emit("health", { name, service, health: event.fields.health });
      default:
        return;
    }
  }

  private running(): Stack {
    if (!this.stack) throw new Error("the supervisor is not started");
    return this.stack;
  }

  private async load(): Promise<Manifest> {
    if (typeof this.source === "string") return loadManifest(this.source);
    const file = resolvePath(this.opts.baseDir ?? process.cwd(), "supervisor.yaml");
    return parseManifest(stringify(this.source), file);
  }
}

/** An answer that is no: its error, thrown as the error a caller can tell apart. */
function failed(answer: CommandAnswer): void {
  if (answer.ok) return;
  if (answer.code === "unknown-service") throw new UnknownServiceError(answer.error, []);
  if (answer.code === "shutting-down") throw new ShuttingDownError();
  throw new Error(answer.error);
}

/** `createSupervisor("supervisor.yaml")` or `createSupervisor({ version: 1, services: {…} })`. */
export function createSupervisor(source: string | ManifestInput, opts?: CreateOptions): VigilSupervisor {
  return new VigilSupervisor(source, opts);
}
