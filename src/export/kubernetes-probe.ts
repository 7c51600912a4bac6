// probes: → livenessProbe / readinessProbe / startupProbe, one to one. Kubernetes counts whole
// seconds and probes the pod's own address.
import type { ProbeCheck, ProbeConfig } from "../manifest/types.js";
import { vigilSpan, wholeSeconds } from "./durations.js";

export type Lose = (key: string, why: string) => void;
type Handler = Record<string, unknown>;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/i;

export function probe(config: ProbeConfig, key: string, lose: Lose): Record<string, unknown> {
  const seconds = (field: string, ms: number, least: number): number => {
    const whole = Math.max(least, wholeSeconds(ms));
    if (whole * 1000 !== ms) lose(`${key}.${field}`, `${vigilSpan(ms)}: Kubernetes counts whole seconds: ${whole}s`);
    return whole;
  };
  return {
    ...handler(config.check, key, lose),
    initialDelaySeconds: seconds("initial_delay", config.initialDelayMs, 0),
    periodSeconds: seconds("interval", config.intervalMs, 1),
    timeoutSeconds: seconds("timeout", config.timeoutMs, 1),
    failureThreshold: config.failures,
  };
}

/** The liveness check again, given `graceMs` to pass before liveness counts: heartbeat.startup_grace. */
export function startupProbe(liveness: ProbeConfig, graceMs: number): Record<string, unknown> {
  const periodSeconds = Math.max(1, wholeSeconds(liveness.intervalMs));
  return {
    ...handler(liveness.check, "", () => undefined),
    initialDelaySeconds: wholeSeconds(liveness.initialDelayMs),
    periodSeconds,
    timeoutSeconds: Math.max(1, wholeSeconds(liveness.timeoutMs)),
    // never stricter than liveness itself
    failureThreshold: Math.max(liveness.failures, Math.ceil(graceMs / (periodSeconds * 1000))),
  };
}

function handler(check: ProbeCheck, key: string, lose: Lose): Handler {
  switch (check.kind) {
    case "http": {
      const url = new URL(check.url);
      const scheme = url.protocol === "https:" ? "HTTPS" : "HTTP";
      const port = url.port === "" ? (scheme === "HTTPS" ? 443 : 80) : Number(url.port);
      return { httpGet: { ...host(url.hostname.replace(/^\[|\]$/g, ""), `${key}.http`, lose), path: `${url.pathname}${url.search}`, port, scheme } };
    }
    case "tcp":
      return { tcpSocket: { ...host(check.host, `${key}.tcp`, lose), port: check.port } };
    case "exec":
      // with shell: true, argv is already /bin/sh -c COMMAND
      return { exec: { command: [...check.argv] } };
    default:
      return check satisfies never;
  }
}

function host(name: string, key: string, lose: Lose): { host?: string } {
  if (!LOOPBACK.test(name)) return { host: name };
  lose(key, `the kubelet connects to the pod's address, not to ${name}: the service must listen on it`);
  return {};
}
