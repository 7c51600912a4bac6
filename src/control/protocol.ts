// The control socket speaks newline-delimited JSON: one request per line, one response per request.
import type { CommandErrorCode } from "../core/stack/commands.js";

export type ControlErrorCode = CommandErrorCode;

export const MAX_REQUEST_BYTES = 64 * 1024;

export type ControlRequest =
  /** watch: asked again and again (status --watch): resources are sampled at the full pace meanwhile */
  | { readonly cmd: "status"; readonly names?: readonly string[]; readonly history?: boolean; readonly watch?: boolean }
  | { readonly cmd: "down" }
  /** no names: every service; wait: answer once stopped or restarted */
  | { readonly cmd: "start" | "stop" | "restart"; readonly names: readonly string[]; readonly wait?: boolean }
  | { readonly cmd: "scale"; readonly service: string; readonly replicas: number }
  | { readonly cmd: "reload" }
  | { readonly cmd: "wait-started" }
  /** since, until: wall-clock ms; absent: open */
  | { readonly cmd: "beats"; readonly names?: readonly string[]; readonly since?: number; readonly until?: number }
  | { readonly cmd: "tasks"; readonly names?: readonly string[] }
  | { readonly cmd: "ping" };

export type ControlResponse =
  | { readonly ok: true; readonly data?: unknown }
  | { readonly ok: false; readonly error: string; readonly code: ControlErrorCode };


/** Checks the shape of an untrusted request; returns a message naming what is wrong. */
export function parseRequest(value: unknown): ControlRequest | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "request must be a JSON object";
  const r = value as Record<string, unknown>;
  const names = r["names"];
  const validNames = names === undefined || (Array.isArray(names) && names.every((n) => typeof n === "string"));
  if (!validNames) return "names must be a list of strings";
  switch (r["cmd"]) {
    case "status":
      return { cmd: "status", ...(names === undefined ? {} : { names: names as string[] }), history: r["history"] === true, ...(r["watch"] === true ? { watch: true } : {}) };
    case "down":
      return { cmd: "down" };
    case "ping":
      return { cmd: "ping" };
    case "reload":
      return { cmd: "reload" };
    case "wait-started":
      return { cmd: "wait-started" };
    case "beats": {
      const { since, until } = r;
      if (since !== undefined && !isTimeMs(since)) return "since must be a time in milliseconds since 1970, within ±8.64e15 (what a Date holds)";
      if (until !== undefined && !isTimeMs(until)) return "until must be a time in milliseconds since 1970, within ±8.64e15 (what a Date holds)";
      return { cmd: "beats", ...(names === undefined ? {} : { names: names as string[] }), ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
    }
    case "tasks":
      return { cmd: "tasks", ...(names === undefined ? {} : { names: names as string[] }) };
    case "scale": {
      const service = r["service"];
      const replicas = r["replicas"];
      if (typeof service !== "string" || service === "") return "scale needs a service name";
      if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) return "scale needs replicas, a whole number from 0";
      return { cmd: "scale", service, replicas };
    }
    case "start":
    case "stop":
    case "restart":
      if (r["wait"] !== undefined && typeof r["wait"] !== "boolean") return "wait must be true or false";
      return { cmd: r["cmd"], names: (names ?? []) as string[], ...(r["wait"] === true ? { wait: true } : {}) };
    default:
      return `unknown command ${describeCommand(r["cmd"])}`;
  }
}

const SHOWN_COMMAND_CHARS = 40;

/**
 * An unknown command as the answer names it: a string quoted and cut short, anything else by its
 * kind. Never the value itself: JSON.stringify overflows its stack on one nested some thousands deep.
 */
function describeCommand(cmd: unknown): string {
  if (typeof cmd === "string") return JSON.stringify(cmd.length > SHOWN_COMMAND_CHARS ? `${cmd.slice(0, SHOWN_COMMAND_CHARS)}…` : cmd);
  if (cmd === undefined) return "(none)";
  if (cmd === null) return "null";
  return Array.isArray(cmd) ? "(an array)" : `(a ${typeof cmd})`;
}

/** a number a Date can hold (ECMAScript's time values: ±8.64e15 ms around 1970) */
function isTimeMs(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= 8.64e15;
}
