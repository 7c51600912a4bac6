import { describe, expect, it } from "vitest";
import type { AlertPayload } from "../../../../src/core/alert-policy.js";
import { sendWebhook, type WebhookTarget } from "../../../../src/runtime/outputs/alerts/webhook.js";
import { waitUntil } from "../../../support/stack.js";
import { useReceivers } from "../../../support/receiver.js";

const payload: AlertPayload = {
  service: "api",
  event: "restart",
  reason: "exit",
  message: "restarting in 400ms (reason exit)",
  figures: { delayMs: 400, reason: "exit", attempt: 3 },
  host: "web-1",
  time: "2026-11-22T10:00:01.000Z",
  folded: 14,
  source: "restart-scheduled",
  text: "[web-1] api: restart — restarting in 400ms (reason exit) (and 14 more)",
};

const receiver = useReceivers();

const quick = { timeoutMs: 2000, retries: 0, retryBackoffMs: 10, env: {} };
const json = (url: string): WebhookTarget => ({ kind: "webhook", url, urlEnv: null, format: "json" });

describe("sendWebhook", () => {
  it("POSTs the alert as JSON: service, event, reason, message, figures, host, time, folded", async () => {
    const r = await receiver();
    const delivery = await sendWebhook(json(`${r.url}/hook`), payload, quick);
    expect(delivery).toEqual({ ok: true, attempts: 1, detail: "HTTP 200" });
    expect(r.received).toHaveLength(1);
    const [req] = r.received;
    expect(req).toMatchObject({ method: "POST", path: "/hook", headers: { "content-type": "application/json" } });
    expect(req?.body).toMatchObject({
      service: "api",
      event: "restart",
      reason: "exit",
      message: "restarting in 400ms (reason exit)",
      figures: { delayMs: 400, attempt: 3 },
      host: "web-1",
      time: "2026-11-22T10:00:01.000Z",
      folded: 14,
    });
  });

  it("sends a Slack-compatible {text} body to the URL named by url_env", async () => {
    const r = await receiver();
    const target: WebhookTarget = { kind: "webhook", url: null, urlEnv: "SLACK_URL", format: "slack" };
    const delivery = await sendWebhook(target, payload, { ...quick, env: { SLACK_URL: `${r.url}/services/T0/B0/x` } });
    expect(delivery.ok).toBe(true);
    expect(r.received[0]?.path).toBe("/services/T0/B0/x");
    expect(r.received[0]?.body).toEqual({ text: payload.text });
  });

  it("sends a Telegram sendMessage body, the bot token and chat id read from the named variables", async () => {
    const r = await receiver();
    const target: WebhookTarget = { kind: "telegram", tokenEnv: "TG_TOKEN", chatIdEnv: "TG_CHAT", apiUrl: r.url };
    const delivery = await sendWebhook(target, payload, { ...quick, env: { TG_TOKEN: "123:abc", TG_CHAT: "-10042" } });
    expect(delivery.ok).toBe(true);
    expect(r.received[0]?.path).toBe("/bot123:abc/sendMessage");
    expect(r.received[0]?.body).toEqual({ chat_id: "-10042", text: payload.text });
  });

  it("fails at once, without a request, when a named variable is not set", async () => {
    const target: WebhookTarget = { kind: "telegram", tokenEnv: "TG_TOKEN", chatIdEnv: "TG_CHAT", apiUrl: "http://127.0.0.1:9" };
    expect(await sendWebhook(target, payload, { ...quick, env: { TG_TOKEN: "x" } })).toEqual({
      ok: false,
      attempts: 0,
      detail: "environment variable TG_CHAT is not set",
    });
  });

  it("retries a failing receiver with exponential backoff until it answers", async () => {
    const r = await receiver((n) => (n < 2 ? 503 : 200));
    const retried: number[] = [];
    const delivery = await sendWebhook(json(r.url), payload, {
      ...quick,
      retries: 3,
      retryBackoffMs: 100,
      onRetry: (_attempt, _detail, delayMs) => retried.push(delayMs),
    });
    expect(delivery).toEqual({ ok: true, attempts: 3, detail: "HTTP 200" });
    expect(retried).toEqual([100, 200]);
    const [a, b, c] = r.received.map((x) => x.atMs);
    expect((b ?? 0) - (a ?? 0)).toBeGreaterThanOrEqual(90);
    expect((c ?? 0) - (b ?? 0)).toBeGreaterThanOrEqual(190);
    expect(r.received.every((x) => (x.body as { folded: number }).folded === 14)).toBe(true);
  });

  it("gives up after its retries and reports the last answer", async () => {
    const r = await receiver(() => 500);
    const delivery = await sendWebhook(json(r.url), payload, { ...quick, retries: 2, retryBackoffMs: 10 });
    expect(delivery).toEqual({ ok: false, attempts: 3, detail: "HTTP 500: status 500" });
  });

  it("does not retry what a retry cannot fix (a 4xx)", async () => {
    const r = await receiver(() => 404);
    const delivery = await sendWebhook(json(r.url), payload, { ...quick, retries: 3 });
    expect(delivery).toMatchObject({ ok: false, attempts: 1, detail: "HTTP 404: status 404" });
    expect(r.received).toHaveLength(1);
  });

  it("abandons a receiver that never answers at the timeout, each attempt", async () => {
    const r = await receiver(() => "hang");
    const started = performance.now();
    const delivery = await sendWebhook(json(r.url), payload, { ...quick, timeoutMs: 300, retries: 1, retryBackoffMs: 10 });
    const tookMs = performance.now() - started;
    expect(delivery).toEqual({ ok: false, attempts: 2, detail: "no answer within 300 ms" });
    expect(r.received).toHaveLength(2);
    expect(tookMs).toBeGreaterThanOrEqual(590);
    // the receiver never answers: ending at all is the timeouts' doing (no bound on speed)
    expect(tookMs).toBeLessThan(20_000);
  });

  it("reports a receiver that is not there", async () => {
    const r = await receiver();
    const url = r.url;
    await r.close();
    expect(await sendWebhook(json(url), payload, quick)).toMatchObject({ ok: false, attempts: 1, detail: "ECONNREFUSED" });
  });

  it("stops retrying when its signal aborts (shutdown)", async () => {
    const r = await receiver(() => 500);
    const stop = new AbortController();
    const pending = sendWebhook(json(r.url), payload, { ...quick, retries: 5, retryBackoffMs: 10_000, signal: stop.signal });
    // wait for the first answer, then stop during the backoff
    await waitUntil(() => r.received.length > 0, "the first attempt", 5000);
    stop.abort();
    expect(await pending).toMatchObject({ ok: false, attempts: 1, detail: expect.stringContaining("abandoned at shutdown") });
  });
});
