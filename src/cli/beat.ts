import { createConnection } from "node:net";
import { join } from "node:path";
import { readClientEnv } from "../client/env.js";
import { checkData, MAX_DATA_BYTES, MAX_DATA_DEPTH } from "../core/data-bounds.js";
import { MAX_LINE_BYTES, signMessage, toLine, type ClientMessage } from "../client/messages.js";
import { UserError } from "./user-error.js";
import { MAX_TASK_ID } from "../core/heartbeat-message.js";

export interface BeatOptions {
  readonly ready?: boolean;
  readonly status?: string;
  readonly data?: string;
  readonly task?: string;
  readonly start?: boolean;
  readonly progress?: boolean;
  readonly end?: boolean;
  readonly name?: string;
  /** a name that need not be the caller's own service: a ping: check, an adopted service, an unmanaged name */
  readonly service?: string;
  readonly fail?: boolean;
  readonly exitCode?: string;
  /** the manifest: where the socket is, and which variable holds the token */
  readonly file?: string;
}

const SEND_TIMEOUT_MS = 5000;

/** `vigil beat`: sends one message over the heartbeat socket and returns once it is written. */
export async function beatCommand(opts: BeatOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (opts.service !== undefined) return beatAs(opts.service, opts, env);
  // --start without --task is refused by messageFrom ("--start needs --task ID")
  if (opts.fail === true || opts.exitCode !== undefined) throw new UserError("vigil beat: --fail and --exit-code need --service NAME", 1);
  const message = messageFrom(opts);
  const { service, token, socketPath } = readClientEnv(env);
  const missing = [
    ["VIGIL_SERVICE", service],
    ["VIGIL_TOKEN", token],
    ["VIGIL_SOCKET", socketPath],
  ].flatMap(([name, value]) => (value === undefined ? [name] : []));
  if (service === undefined || token === undefined || socketPath === undefined) {
    throw new UserError(`vigil beat: not running under vigil (${missing.join(", ")} not set)`, 1);
  }
  const line = toLine(signMessage({ service, token }, message));
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
    throw new UserError(`vigil beat: message is longer than ${MAX_LINE_BYTES} bytes`, 1);
  }
  await writeLine(socketPath, line);
}

/** `vigil beat --service NAME`: from outside vigil (cron, a process it did not start). */
async function beatAs(service: string, opts: BeatOptions, env: NodeJS.ProcessEnv): Promise<void> {
  // a task of a process vigil did not start (an adopted service with a static token)
  if (opts.task !== undefined) return sendAs(service, messageFrom(opts), opts, env);
  const given = [opts.start === true && "--start", opts.fail === true && "--fail", opts.exitCode !== undefined && "--exit-code", opts.ready === true && "--ready", opts.status !== undefined && "--status"].filter(
    (name): name is string => name !== false,
  );
  if (given.length > 1) throw new UserError(`vigil beat: ${given.join(" and ")} cannot be combined`, 1);
  let message: ClientMessage;
  if (opts.start === true) message = { type: "beat", data: { ping: "start" } };
  else if (opts.fail === true) message = { type: "beat", data: { ping: "fail" } };
  else if (opts.exitCode !== undefined) {
    const code = Number(opts.exitCode);
    if (!/^\d{1,3}$/.test(opts.exitCode.trim()) || code > 255) throw new UserError(`vigil beat: --exit-code must be 0-255, got ${JSON.stringify(opts.exitCode)}`, 1);
    message = { type: "beat", data: { exit_code: code } };
  } else message = messageFrom(opts);
  return sendAs(service, message, opts, env);
}

/** Sends one message as `service`: the socket and token from the environment, else from the manifest. */
async function sendAs(service: string, message: ClientMessage, opts: BeatOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const client = readClientEnv(env);
  let { token, socketPath } = client;
  if (token === undefined || socketPath === undefined) {
    const file = opts.file ?? "supervisor.yaml";
    const { loadManifest } = await import("../manifest/load.js");
    let manifest;
    try {
      manifest = await loadManifest(file);
    } catch (err) {
      throw new UserError(`vigil beat: cannot read ${file} to find the supervisor: ${(err as Error).message.split("\n")[0] ?? ""}`, 1, { cause: err });
    }
    socketPath ??= join(manifest.stateDir, "heartbeat.sock");
    const tokenEnv =
      manifest.pings?.find((p) => p.name === service)?.tokenEnv ??
      manifest.services.find((s) => s.name === service)?.heartbeat?.tokenEnv ??
      (manifest.services.some((s) => s.name === service) ? null : manifest.unmanaged?.tokenEnv ?? null);
    token ??= tokenEnv === null ? undefined : env[tokenEnv]?.trim() || undefined;
    if (token === undefined && tokenEnv !== null) throw new UserError(`vigil beat: ${service} needs the token in ${tokenEnv} (or VIGIL_TOKEN), which is not set`, 1);
  }
  const line = toLine(signMessage({ service, token: token ?? "" }, message));
  await writeLine(socketPath, line);
}

function messageFrom(opts: BeatOptions): ClientMessage {
  const events = (["start", "progress", "end"] as const).filter((event) => opts[event] === true);
  if (opts.task !== undefined || events.length > 0 || opts.name !== undefined) return taskFrom(opts, events);
  const chosen = [opts.ready === true && "--ready", opts.status !== undefined && "--status", opts.data !== undefined && "--data"];
  const given = chosen.filter((name): name is string => name !== false);
  if (given.length > 1) throw new UserError(`vigil beat: ${given.join(" and ")} cannot be combined; send one message at a time`, 1);
  if (opts.ready === true) return { type: "ready" };
  if (opts.status !== undefined) return { type: "status", text: opts.status };
  if (opts.data === undefined) return { type: "beat" };
  let data: unknown;
  try {
    data = JSON.parse(opts.data) as unknown;
  } catch (err) {
    throw new UserError(`vigil beat: --data is not valid JSON: ${(err as Error).message}`, 1, { cause: err });
  }
  const fault = checkData(data);
  if (fault !== null) {
    const bound = fault === "too-deep" ? `nested at most ${MAX_DATA_DEPTH} deep` : `at most ${MAX_DATA_BYTES / 1024} KiB as JSON`;
    throw new UserError(`vigil beat: --data must be ${bound}; the supervisor refuses more`, 1);
  }
  return { type: "beat", data };
}

function taskFrom(opts: BeatOptions, events: readonly ("start" | "progress" | "end")[]): ClientMessage {
  const other = [opts.ready === true && "--ready", opts.status !== undefined && "--status", opts.data !== undefined && "--data"].filter((x): x is string => x !== false);
  if (other.length > 0) throw new UserError(`vigil beat: --task cannot be combined with ${other.join(" and ")}; send one message at a time`, 1);
  if (opts.task === undefined) throw new UserError(`vigil beat: --${events[0] ?? "name"} needs --task ID`, 1);
  if (opts.task === "" || opts.task.length > MAX_TASK_ID) throw new UserError(`vigil beat: --task must be 1 to ${MAX_TASK_ID} characters`, 1);
  const event = events[0];
  if (event === undefined || events.length > 1) throw new UserError("vigil beat: --task needs exactly one of --start, --progress or --end", 1);
  return { type: "task", id: opts.task, event, ...(opts.name === undefined ? {} : { name: opts.name }) };
}

function writeLine(socketPath: string, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: socketPath });
    const fail = (reason: string, cause?: unknown): void => {
      socket.destroy();
      reject(new UserError(`vigil beat: cannot reach the supervisor at ${socketPath}: ${reason}`, 1, { cause }));
    };
    socket.setTimeout(SEND_TIMEOUT_MS, () => fail(`no answer within ${SEND_TIMEOUT_MS} ms`));
    socket.on("error", (err: NodeJS.ErrnoException) => fail(describe(err), err));
    socket.on("connect", () => {
      // "finish" means the line is in the kernel; the supervisor reads it even after we are gone
      socket.end(line, () => {
        socket.destroy();
        resolve();
      });
    });
  });
}

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ENOENT":
      return "the socket does not exist (is the supervisor running?)";
    case "ECONNREFUSED":
      return "connection refused (is the supervisor running?)";
    case "EACCES":
      return "permission denied";
    default:
      return err.message;
  }
}
