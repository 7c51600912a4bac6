import { chmod, mkdir } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startHeartbeatServer, type RejectKind } from "../runtime/heartbeat-server.js";
import { RejectLog } from "../runtime/reject-log.js";
import { loadManifest } from "../manifest/load.js";
import { ManifestError } from "../manifest/errors.js";
import type { Manifest } from "../manifest/types.js";
import { UnknownServiceError, Supervisor } from "../runtime/supervisor.js";
import { acquireLock, LockError, type Lock } from "../runtime/lock.js";
import { ChildRegistry, reapOrphans } from "../runtime/orphans.js";
import { createLogger, type Logger } from "../runtime/logger.js";
import { createPrinter, wantsColor } from "../runtime/printer.js";
import { realClock } from "../runtime/real-clock.js";
import { startControlServer, type ControlHandler } from "../runtime/control-server.js";
import { AtomicJsonWriter } from "../runtime/status-writer.js";
import { readProcStat } from "../runtime/proc.js";
import { signalGroup } from "../runtime/kill.js";
import { UserError } from "./user-error.js";

/** `vigil up`: run the stack in the foreground until SIGINT/SIGTERM or `vigil down`. Resolves with the exit status. */
export async function upCommand(file: string): Promise<number> {
  const manifest = await load(file);
  await prepareStateDir(manifest.stateDir);
  const lock = await lockStack(manifest.stateDir);
  const logger = createLogger({ file: join(manifest.stateDir, "vigil.log"), stderr: process.stderr, color: wantsColor(process.stderr) });
  try {
    return await run(manifest, logger);
  } finally {
    await logger.flush();
    await lock.release();
  }
}

async function run(manifest: Manifest, logger: Logger): Promise<number> {
  const reaped = await reapOrphans(manifest.stateDir, (msg) => logger.log("warn", null, "orphans", msg));
  for (const r of reaped) {
    if (r.outcome === "exited" || r.outcome === "killed") {
      logger.log("warn", r.service, "orphan-ended", `ended pid ${r.pid} left behind by a supervisor that died (${r.outcome})`);
    }
  }
  const registry = new ChildRegistry(manifest.stateDir, (err) =>
    logger.log("error", null, "registry", `cannot record children: ${(err as Error).message}`),
  );
  const heartbeatPath = join(manifest.stateDir, "heartbeat.sock");
  const supervisor = new Supervisor(manifest, {
    childEnv: { VIGIL_SOCKET: heartbeatPath, PATH: childPath() },
    clock: realClock,
    logger,
    printer: createPrinter(process.stdout, wantsColor(process.stdout)),
  });
  const statusFile = new AtomicJsonWriter(join(manifest.stateDir, "status.json"), () => supervisor.status());
  supervisor.on("change", () => statusFile.markDirty());
  supervisor.on("health", () => statusFile.markStale(1000));
  supervisor.on("healthChanged", () => statusFile.markDirty());
  const rejects = new RejectLog(realClock, logger);
  supervisor.on("rejected", (kind, service) => {
    rejects.report(kind, service, describeReject(kind));
    statusFile.markStale(1000);
  });
  const heartbeatServer = await startHeartbeatServer(
    heartbeatPath,
    (message) => {
      const rejected = supervisor.heartbeats.fromSocket(message);
      if (!rejected) supervisor.emit("health");
      return rejected;
    },
    (kind, service) => {
      supervisor.countRejected(service);
      statusFile.markStale(1000);
      rejects.report(kind, service, describeReject(kind));
    },
    logger,
  );
  supervisor.on("spawned", (name, pid) => {
    const stat = readProcStat(pid);
    const config = supervisor.runners.get(name)?.config;
    if (!stat || !config) return;
    registry.add({ service: name, pid, pgid: pid, startTime: stat.startTime, stopSignal: config.stop.signal, stopTimeoutMs: config.stop.timeoutMs });
  });
  supervisor.on("exited", (_name, pid) => registry.remove(pid));

  // A bug must not leave children behind: kill every group we started, then die loudly.
  const onCrash = (err: unknown): void => {
    logger.log("error", null, "crash", `internal error, killing all children: ${(err as Error)?.stack ?? String(err)}`);
    for (const r of supervisor.runners.values()) if (r.status.pid !== null) signalGroup(r.status.pid, "SIGKILL");
    process.exit(70);
  };
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);

  const control = await startControlServer(join(manifest.stateDir, "control.sock"), handler(supervisor), logger);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      logger.log("info", null, "signal", `${signal} received; stopping (again to kill at once)`);
      void supervisor.shutdown();
    } else {
      supervisor.killAll();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", () => logger.log("info", null, "signal", "SIGHUP received; reloading is not available yet"));

  logger.log("info", null, "up", `supervising ${manifest.services.length} services from ${manifest.file} (pid ${process.pid})`);
  supervisor.start();
  statusFile.markDirty();
  await new Promise<void>((resolve) => supervisor.once("stopped", resolve));

  await control.close();
  await heartbeatServer.close();
  await supervisor.close();
  statusFile.markDirty();
  await statusFile.settle();
  await registry.clear();
  process.off("uncaughtException", onCrash);
  process.off("unhandledRejection", onCrash);
  logger.log("info", null, "down", "all services stopped");
  return 0;
}

const REJECT_TEXT: Record<RejectKind, string> = {
  "bad-json": "a line that is not JSON",
  "bad-message": "a message that is not of the protocol (type beat, ready, status or stopping)",
  "unknown-service": "a message naming no known service",
  "bad-token": "a message with a wrong or outdated token",
  "line-too-long": "a line over 64 KiB; connection dropped",
  "too-many-connections": "too many connections; connection refused",
};

function describeReject(kind: string): string {
  return REJECT_TEXT[kind as RejectKind] ?? kind;
}

/** Children find `vigil beat` on their PATH, after whatever `vigil` they may have of their own. */
function childPath(): string {
  const bin = fileURLToPath(new URL("../../bin", import.meta.url));
  const path = process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin";
  return `${path}${delimiter}${bin}`;
}

async function load(file: string): Promise<Manifest> {
  try {
    return await loadManifest(file);
  } catch (err) {
    if (err instanceof ManifestError) throw new UserError(err.format(), 2, { cause: err });
    throw err;
  }
}

async function prepareStateDir(dir: string): Promise<void> {
  try {
    await mkdir(join(dir, "logs"), { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
  } catch (err) {
    throw new UserError(`vigil: cannot use state directory ${dir}: ${(err as Error).message}`, 1, { cause: err });
  }
}

async function lockStack(dir: string): Promise<Lock> {
  try {
    return await acquireLock(dir);
  } catch (err) {
    if (err instanceof LockError) throw new UserError(`vigil: ${err.message}`, 1, { cause: err });
    throw err;
  }
}

function handler(supervisor: Supervisor): ControlHandler {
  return async (req) => {
    try {
      switch (req.cmd) {
        case "ping":
          return { ok: true, data: { pid: process.pid } };
        case "status":
          return { ok: true, data: supervisor.status(req.names) };
        case "down":
          await supervisor.shutdown();
          return { ok: true };
        case "start":
        case "stop":
        case "restart":
          if (supervisor.isShuttingDown) return { ok: false, error: "the supervisor is shutting down", code: "shutting-down" };
          supervisor.control(req.cmd, req.names);
          return { ok: true };
      }
    } catch (err) {
      if (err instanceof UnknownServiceError) return { ok: false, error: err.message, code: "unknown-service" };
      throw err;
    }
  };
}
