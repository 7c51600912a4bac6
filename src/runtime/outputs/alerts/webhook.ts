// Alerts over HTTP: one POST per attempt with a deadline, retried with exponential backoff. The URL and
// tokens come from environment variables named in the manifest, read when the alert is sent.
import { setTimeout as sleep } from "node:timers/promises";
import type { AlertPayload } from "../../../core/alert-policy.js";
import type { AlertTarget } from "../../../manifest/types.js";

export type WebhookTarget = Extract<AlertTarget, { kind: "webhook" | "telegram" }>;
export type Env = Readonly<Record<string, string | undefined>>;

/** The outcome of one delivery, after its retries. Never a rejection. */
export interface Delivery {
  readonly ok: boolean;
  readonly attempts: number;
  readonly detail: string;
}

/** One try: retryable says whether another might succeed (a timeout, a 5xx, a 429). */
export interface Attempt {
  readonly ok: boolean;
  readonly retryable: boolean;
  readonly detail: string;
  /** the receiver's Retry-After, when it gave one */
  readonly retryAfterMs?: number;
}

export interface RetryOptions {
  /** further attempts after a failed one */
  readonly retries: number;
  /** before the first retry; doubled for each further one */
  readonly retryBackoffMs: number;
  /** ends the waiting and the attempt in flight (shutdown) */
  readonly signal?: AbortSignal;
  readonly onRetry?: (attempt: number, detail: string, delayMs: number) => void;
}

export interface WebhookOptions extends RetryOptions {
  readonly timeoutMs: number;
  readonly env: Env;
}

const MAX_RETRY_DELAY_MS = 60_000;

/** Calls `attempt` until it succeeds, fails for good, or the retries are spent. */
export async function withRetries(attempt: (signal: AbortSignal | undefined) => Promise<Attempt>, opts: RetryOptions): Promise<Delivery> {
  for (let n = 1; ; n++) {
    const result = await attempt(opts.signal);
    if (result.ok || !result.retryable || n > opts.retries || opts.signal?.aborted) {
      return { ok: result.ok, attempts: n, detail: result.detail };
    }
    const backoffMs = Math.min(MAX_RETRY_DELAY_MS, opts.retryBackoffMs * 2 ** (n - 1));
    const delayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(backoffMs, result.retryAfterMs ?? 0));
    opts.onRetry?.(n, result.detail, delayMs);
    const slept = await sleep(delayMs, true, opts.signal ? { signal: opts.signal } : {}).catch(() => false);
    if (!slept) return { ok: false, attempts: n, detail: `${result.detail}; retries abandoned at shutdown` };
  }
}

export function sendWebhook(target: WebhookTarget, payload: AlertPayload, opts: WebhookOptions): Promise<Delivery> {
  const request = webhookRequest(target, payload, opts.env);
  if ("error" in request) return Promise.resolve({ ok: false, attempts: 0, detail: request.error });
  return withRetries((signal) => postOnce(request.url, request.body, opts.timeoutMs, signal), opts);
}

/** Where to POST and what, or why it cannot be sent (an environment variable that is not set). */
export function webhookRequest(target: WebhookTarget, payload: AlertPayload, env: Env): { url: string; body: unknown } | { error: string } {
  const read = (name: string): string | { error: string } => {
    const value = env[name];
    return value === undefined || value === "" ? { error: `environment variable ${name} is not set` } : value;
  };
  if (target.kind === "telegram") {
    const token = read(target.tokenEnv);
    if (typeof token !== "string") return token;
    const chatId = read(target.chatIdEnv);
    if (typeof chatId !== "string") return chatId;
    return { url: `${target.apiUrl}/bot${token}/sendMessage`, body: { chat_id: chatId, text: payload.text } };
  }
  const url = target.url ?? read(target.urlEnv ?? "");
  if (typeof url !== "string") return url;
  return { url, body: target.format === "slack" ? { text: payload.text } : payload };
}

async function postOnce(url: string, body: unknown, timeoutMs: number, stop: AbortSignal | undefined): Promise<Attempt> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = stop ? AbortSignal.any([deadline, stop]) : deadline;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "vigil-alert" },
      body: JSON.stringify(body),
      // a redirected POST would turn into a GET somewhere else
      redirect: "manual",
      signal,
    });
  } catch (err) {
    if (deadline.aborted) return { ok: false, retryable: true, detail: `no answer within ${timeoutMs} ms` };
    if (stop?.aborted) return { ok: false, retryable: false, detail: "abandoned at shutdown" };
    return { ok: false, retryable: true, detail: describeFetchError(err) };
  }
  if (response.status >= 200 && response.status < 300) {
    await response.body?.cancel().catch(() => undefined);
    return { ok: true, retryable: false, detail: `HTTP ${response.status}` };
  }
  const said = await response.text().then((t) => t.trim().slice(0, 200), () => "");
  const detail = `HTTP ${response.status}${said === "" ? "" : `: ${said}`}`;
  const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
  const retryAfterMs = retryAfter(response.headers.get("retry-after"));
  return retryAfterMs === undefined ? { ok: false, retryable, detail } : { ok: false, retryable, detail, retryAfterMs };
}

function retryAfter(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

function describeFetchError(err: unknown): string {
  // undici says "fetch failed" and keeps the reason (ECONNREFUSED, …) in cause
  const cause = err instanceof Error ? err.cause : undefined;
  const inner = cause instanceof Error ? cause : err instanceof Error ? err : null;
  const code = (inner as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" ? code : inner?.message ?? String(err);
}
