// Beats that name no running service: a ping of a `ping:` check (over the heartbeat socket or HTTP),
// or a beat of a process without a service (top-level heartbeat.unmanaged). Their tokens are static,
// read from the environment variables the manifest names, and compared here, before the loop hears of them.
import { createHash, timingSafeEqual } from "node:crypto";
import type { ChildMessage } from "../../core/heartbeat-message.js";
import type { PingSignal } from "../../core/ping.js";
import type { Input } from "../../core/stack/inputs.js";
import type { StackState } from "../../core/stack/state.js";

export type Intake =
  | { readonly ok: true; readonly input: Input }
  | { readonly ok: false; readonly status: 401 | 403 | 404; readonly error: string };

function sameToken(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * A ping of check `name` with `token`. `fallbackToken`: what a check without token_env requires (the HTTP
 * API's own token; null over the owner-only heartbeat socket, where reaching it is proof enough).
 */
export function takePing(state: StackState, name: string, signal: PingSignal, token: string | null, fallbackToken: string | null, env: NodeJS.ProcessEnv): Intake {
  const entry = state.pings.get(name);
  if (!entry) return { ok: false, status: 404, error: `no ping check ${JSON.stringify(name)}` };
  const tokenEnv = entry.config.tokenEnv;
  const expected = tokenEnv === null ? fallbackToken : env[tokenEnv]?.trim() || null;
  if (tokenEnv !== null && expected === null) return { ok: false, status: 403, error: `pings of ${name} are refused: the environment variable ${tokenEnv} is empty or not set` };
  if (expected !== null && (token === null || !sameToken(token, expected))) {
    return { ok: false, status: 401, error: token === null ? "missing token (Authorization: Bearer …)" : "wrong token" };
  }
  return { ok: true, input: { type: "PingReceived", name, signal } };
}

/** The signal a socket message carries: data {"ping": "start"|"fail"} or {"exit_code": N}; else success. */
export function signalOfData(data: unknown): PingSignal {
  if (typeof data !== "object" || data === null) return { kind: "success" };
  const fields = data as Record<string, unknown>;
  const code = fields["exit_code"];
  if (typeof code === "number" && Number.isInteger(code) && code >= 0 && code <= 255) return { kind: "exit", code };
  if (fields["ping"] === "start") return { kind: "start" };
  if (fields["ping"] === "fail") return { kind: "fail" };
  return { kind: "success" };
}

const MAX_NAME_CHARS = 64;

/** A socket message naming no service: a ping, an unmanaged beat, or null (refused as before). */
export function takeOutsideBeat(state: StackState, message: ChildMessage, env: NodeJS.ProcessEnv): Intake | null {
  const name = message.service;
  if (name === undefined || name.length > MAX_NAME_CHARS || state.services.has(name)) return null;
  if (message.type !== "beat" && message.type !== "ready") return null;
  if (state.pings.has(name)) return takePing(state, name, signalOfData(message.data), message.token ?? null, null, env);
  const unmanaged = state.manifest.unmanaged;
  if (!unmanaged) return null;
  const expected = env[unmanaged.tokenEnv]?.trim() || null;
  if (expected === null || message.token === undefined || !sameToken(message.token, expected)) return null;
  return { ok: true, input: { type: "UnmanagedBeat", name, data: message.data } };
}
