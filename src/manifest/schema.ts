// The one schema of supervisor.yaml as written (SPEC §2). Objects are strict so unknown keys are
// errors. Keys that `defaults` may set carry no schema default: resolve.ts merges
// BUILTIN_DEFAULTS <- defaults <- service key by key.
import * as z from "./zod.js";
import type { AlertKind, DependencyCondition, HeartbeatTransport, HeartbeatWhen, OverlapPolicy, RestartMode, RestartPolicy, TaskTimeoutAction } from "./types.js";
import { MAX_BEAT_HISTORY } from "../core/beat-ring.js";
import { crossCheck, isFields } from "./cross-check.js";
import { describeValue } from "./units.js";
import { MAX_REPLICAS } from "../core/stack/ids.js";
import { command, duration, envName, envValue, httpUrl, osString, percent, serviceName, signal, size, tcpAddress } from "./schema-fields.js";
import { socketsSchema } from "./sockets-schema.js";
import { cronProblem, timezoneProblem } from "./cron.js";
import { actionsSchema, adoptSchema, levelsSchema, pingSchema, unmanagedSchema } from "./watch-outside-schema.js";

export const RESTART_POLICIES = ["always", "on-failure", "never"] as const satisfies readonly RestartPolicy[];
export const RESTART_MODES = ["stop-first", "start-first"] as const satisfies readonly RestartMode[];
export const DEPENDENCY_CONDITIONS = ["started", "healthy", "completed"] as const satisfies readonly DependencyCondition[];
export const OVERLAP_POLICIES = ["skip", "queue", "replace"] as const satisfies readonly OverlapPolicy[];
export const HEARTBEAT_TRANSPORTS = ["ipc", "socket", "notify"] as const satisfies readonly HeartbeatTransport[];
export const HEARTBEAT_WHEN = ["always", "busy"] as const satisfies readonly HeartbeatWhen[];
export const TASK_TIMEOUT_ACTIONS = ["restart", "alert"] as const satisfies readonly TaskTimeoutAction[];
export const ALERT_KINDS = [
  "failed",
  "fatal",
  "restart",
  "degraded",
  "critical",
  "recovered",
  "spawn-failed",
  "rollover-failed",
  "config-rejected",
  "limit",
  "disk",
  "task-stale",
  "task-timeout",
] as const satisfies readonly AlertKind[];
export const WEBHOOK_FORMATS = ["json", "slack", "telegram"] as const;


export const BUILTIN_DEFAULTS = {
  restart: {
    policy: "on-failure",
    backoff: { initial: "200ms", factor: 2, max: "30s", jitter: 0.1, reset_after: "60s" },
    max_restarts: 10,
    window: "5m",
    mode: "stop-first",
    ready_timeout: "30s",
  },
  stop: { signal: "SIGTERM", timeout: "10s" },
  logs: { max_size: "10MiB", keep: 3 },
} as const;

const D = BUILTIN_DEFAULTS;

/** zod drops `default` and `examples` of transforming schemas from an input JSON Schema; these are put back. */
export const inputAnnotations = z.registry<{ default?: unknown; examples?: unknown[] }, z.core.$ZodType>();

/** Optional, with the effective default shown to editors only (see json-schema.ts). */
function documented<T extends z.ZodType>(schema: T, description: string, fallback?: unknown, examples?: unknown[]) {
  const optional = schema.optional().describe(description);
  inputAnnotations.add(optional, { default: fallback, examples });
  return optional;
}

const backoffSchema = z.strictObject({
  initial: documented(duration(), "delay before the first restart; 0 restarts at once", D.restart.backoff.initial),
  factor: documented(z.number().min(1), "each further delay is the previous one times this", D.restart.backoff.factor),
  max: documented(duration(), "upper bound of the delay", D.restart.backoff.max),
  jitter: documented(z.number().min(0).max(1), "spread each delay randomly by ± this fraction (0..1)", D.restart.backoff.jitter),
  reset_after: documented(duration(), "a child that ran this long starts the backoff sequence anew", D.restart.backoff.reset_after),
});

const restartSchema = z.strictObject({
  policy: documented(z.enum(RESTART_POLICIES), "when an exited child is started again", D.restart.policy),
  backoff: documented(backoffSchema, "delays between restarts"),
  max_restarts: documented(z.int().min(0), "more restarts than this inside `window` make the service fatal", D.restart.max_restarts),
  window: documented(duration({ positive: true }), "the sliding window for max_restarts", D.restart.window),
  mode: documented(z.enum(RESTART_MODES), "stop-first: the old child ends before the new starts; start-first: the old ends once the new is ready", D.restart.mode),
  ready_timeout: documented(duration({ positive: true }), "start-first: a new child not ready within this is stopped and the old one kept", D.restart.ready_timeout),
});

const stopSchema = z.strictObject({
  signal: documented(signal, "sent first when stopping", D.stop.signal, ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"]),
  timeout: documented(duration(), "then SIGKILL to the whole process tree", D.stop.timeout),
});

const logsSchema = z.strictObject({
  stale_after: documented(duration({ positive: true }), "restart when no output line came for this long"),
  file: documented(osString().min(1), "with stale_after: watch this file's growth instead of the child's output (adopted processes write their own logs)"),
  max_size: documented(size({ positive: true }), "rotate STATE_DIR/logs/NAME.log at this size", D.logs.max_size),
  keep: documented(z.int().min(0), "rotated log files kept", D.logs.keep),
});

const heartbeatSchema = z.strictObject({
  via: z.enum(HEARTBEAT_TRANSPORTS).default("ipc").describe("ipc: process.send from a Node child; socket: the VIGIL_SOCKET Unix socket; notify: the systemd notify protocol (NOTIFY_SOCKET, WATCHDOG_USEC)"),
  interval: duration({ positive: true }).prefault("5s").describe("expected time between beats"),
  misses: z.int().min(1).default(3).describe("no beat for misses × interval fails the service"),
  startup_grace: duration().prefault("30s").describe("time after spawn before beats are required"),
  token_env: envName.optional().describe("a static token from this environment variable, for processes vigil did not start (adopt:)"),
  when: z.enum(HEARTBEAT_WHEN).default("always").describe("always: beats are required while the child runs; busy: only while it has a task open (an idle child may be silent)"),
  history: z.int().min(0).max(MAX_BEAT_HISTORY).default(100).describe("beats kept per instance for `vigil beats` (time and data)"),
});

const tasksSchema = z.strictObject({
  stale_after: duration({ positive: true }).optional().describe("a task with no start or progress for this long raises one task-stale warning"),
  timeout: duration({ positive: true }).optional().describe("a task open longer than this raises task-timeout"),
  on_timeout: z.enum(TASK_TIMEOUT_ACTIONS).default("alert").describe("restart: restart the instance (reason task-timeout); alert: only the event and its alerts"),
});

const watchSchema = z.strictObject({
  paths: z.array(osString().min(1)).min(1).describe("files or directories to watch, relative to the service's cwd"),
  ignore: z.array(z.string().min(1)).default([]).describe("a name (node_modules) is ignored wherever it appears; a glob (**/*.test.js) is matched against the path relative to the cwd"),
  debounce: duration().prefault("300ms").describe("changes within this long of each other make one restart"),
  max_restarts: z.int().min(1).default(5).describe("more restarts on file change than this within `window`: a loop; watching pauses until a manual restart or reload"),
  window: duration({ positive: true }).prefault("30s").describe("see max_restarts"),
});

const scheduleSchema = z
  .strictObject({
    cron: z.string().min(1).describe('when to run: 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "*/5 * * * *"'),
    timezone: z.string().min(1).optional().describe("IANA time zone the cron expression is read in, e.g. Europe/Paris; default the supervisor's"),
    run_on_start: z.boolean().default(false).describe("also run once when the stack starts"),
    overlap: z.enum(OVERLAP_POLICIES).default("skip").describe("a tick while a run is still going: skip it, queue one run after it, or replace it"),
  })
  .check(
    crossCheck((schedule, ctx) => {
      const cron = schedule["cron"];
      const problem = typeof cron === "string" && cron !== "" ? cronProblem(cron) : null;
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem, input: cron, path: ["cron"] });
      const zone = schedule["timezone"];
      const zoneProblem = typeof zone === "string" && zone !== "" ? timezoneProblem(zone) : null;
      if (zoneProblem !== null) ctx.addIssue({ code: "custom", message: zoneProblem, input: zone, path: ["timezone"] });
    }),
  );

const limitsSchema = z
  .strictObject({
    memory: size({ positive: true }).optional().describe("resident memory of the process tree, e.g. 512MiB"),
    cpu: percent({ positive: true }).optional().describe("percent of one core, e.g. 95% or 150%"),
    for: duration().prefault("30s").describe("how long a limit must be exceeded before a restart"),
  })
  .check(
    crossCheck((limits, ctx) => {
      if (limits["memory"] === undefined && limits["cpu"] === undefined) {
        ctx.addIssue({ code: "custom", message: "limits needs memory, cpu or both", input: limits });
      }
    }),
  )
  .meta({ anyOf: [{ required: ["memory"] }, { required: ["cpu"] }] });

const PROBE_CHECKS = ["http", "tcp", "exec"] as const;

/** the JSON Schema of the cross checks' "exactly one of": editors check it as you type */
const exactlyOneOf = (keys: readonly string[]) => keys.map((key) => ({ required: [key] }));

const probeSchema = z
  .strictObject({
    http: httpUrl.optional().describe("healthy when a GET answers 2xx or 3xx"),
    tcp: tcpAddress.optional().describe('healthy when "host:port" accepts a connection'),
    exec: command.optional().describe("healthy when the command exits 0"),
    shell: z.boolean().optional().describe("run exec through /bin/sh -c"),
    interval: duration({ positive: true }).prefault("10s").describe("time between checks"),
    timeout: duration({ positive: true }).prefault("1s").describe("a check slower than this fails"),
    failures: z.int().min(1).default(3).describe("consecutive failures before the probe fails"),
    initial_delay: duration().prefault(0).describe("time after spawn before the first check"),
  })
  .check(
    crossCheck((probe, ctx) => {
      const present = PROBE_CHECKS.filter((key) => probe[key] !== undefined);
      if (present.length !== 1) {
        const found = present.length === 0 ? "" : `; found ${present.join(" and ")}`;
        ctx.addIssue({ code: "custom", message: `a probe needs exactly one of http, tcp or exec${found}`, input: probe, params: { at: "key" } });
      }
      if (probe["shell"] !== undefined && probe["exec"] === undefined) {
        ctx.addIssue({ code: "custom", message: "shell applies only to exec probes", input: probe["shell"], path: ["shell"], params: { at: "key" } });
      }
    }),
  )
  .meta({ oneOf: exactlyOneOf(PROBE_CHECKS), dependentRequired: { shell: ["exec"] } });

const dependsOnSchema = z.union(
  [z.array(z.string()), z.record(z.string(), z.enum(DEPENDENCY_CONDITIONS))],
  { error: () => "expected a list of service names or a mapping of name: started | healthy | completed" },
);

export const serviceSchema = z.strictObject({
  description: z.string().optional().describe("shown in status output"),
  command: command.optional().describe("a string (split like a shell, no shell) or a list of arguments; optional with adopt:, forbidden with ping:"),
  shell: z.boolean().default(false).describe("run command through /bin/sh -c"),
  cwd: osString().optional().describe("working directory, relative to this file"),
  env: z.record(envName, envValue).optional().describe("environment variables; they override env_file"),
  env_file: osString().optional().describe("dotenv file (KEY=VALUE lines), relative to this file"),
  depends_on: dependsOnSchema.optional().describe("services to start first: a list, or name: started | healthy | completed"),
  restart: restartSchema.optional().describe("overrides defaults.restart key by key"),
  stop: stopSchema.optional().describe("overrides defaults.stop key by key"),
  replicas: z.int().min(0).max(MAX_REPLICAS).default(1).describe("how many instances run: web, or web.0 … web.N-1"),
  watch: watchSchema.optional().describe("restart the service when files change (reason watch)"),
  schedule: scheduleSchema.optional().describe("run the service as a job on a cron schedule instead of keeping it running"),
  disabled: z.boolean().optional().describe("defined but not started with the stack nor by a reload; `vigil start NAME` starts it"),
  autostart: z.boolean().optional().describe("false is the same as disabled: true"),
  heartbeat: heartbeatSchema.optional().describe("require heartbeats from the child"),
  tasks: tasksSchema.optional().describe("in-flight tasks the child reports: a stale warning, and a timeout"),
  logs: logsSchema.optional().describe("overrides defaults.logs key by key"),
  limits: limitsSchema.optional().describe("restart when over a memory or CPU limit for a while"),
  probes: z
    .strictObject({ liveness: probeSchema.optional(), readiness: probeSchema.optional() })
    .optional()
    .describe("liveness failing restarts the service; readiness passing makes it healthy"),
  sockets: socketsSchema.optional().describe("listening sockets vigil binds once and passes to every instance from fd 3 on (LISTEN_FDS)"),
  adopt: adoptSchema.optional().describe("watch a process vigil did not start, found by pidfile or command line; `command` (if any) starts it again"),
  ping: pingSchema.optional().describe("a check that expects pings (POST /ping/NAME, vigil beat --service NAME) instead of running anything"),
  actions: actionsSchema.optional().describe("commands run once per episode of trouble: degraded, critical, failed, limit, probe, task-timeout"),
}).meta({ anyOf: [{ required: ["command"] }, { required: ["adopt"] }, { required: ["ping"] }] }).check(
  crossCheck((service, ctx) => {
    const has = (key: string): boolean => service[key] !== undefined;
    if (has("ping")) {
      for (const key of ["command", "adopt", "schedule", "watch", "heartbeat", "probes", "limits", "sockets"]) {
        if (has(key)) ctx.addIssue({ code: "custom", message: `a ping check runs nothing: ${key} does not apply`, input: service[key], path: [key], params: { at: "key" } });
      }
    } else if (!has("command") && !has("adopt")) {
      ctx.addIssue({ code: "custom", message: "missing required key \"command\"", input: service, path: ["command"], params: { at: "key" } });
    }
    const logs = service["logs"];
    if (isFields(logs) && logs["file"] !== undefined && !has("adopt")) {
      ctx.addIssue({ code: "custom", message: "logs.file applies to adopted processes (adopt:); a child vigil starts is watched by its output", input: logs["file"], path: ["logs", "file"], params: { at: "key" } });
    }
    const heartbeat = service["heartbeat"];
    if (isFields(heartbeat) && heartbeat["token_env"] !== undefined && !has("adopt")) {
      ctx.addIssue({ code: "custom", message: "token_env applies to adopted processes (adopt:); a child vigil starts gets a new VIGIL_TOKEN each time", input: heartbeat["token_env"], path: ["heartbeat", "token_env"], params: { at: "key" } });
    }
    const restart = service["restart"];
    if (has("adopt") && isFields(restart) && restart["mode"] === "start-first") {
      ctx.addIssue({ code: "custom", message: "an adopted process cannot be started beside itself: restart.mode must be stop-first", input: restart["mode"], path: ["restart", "mode"] });
    }
    if (has("adopt")) {
      const replicas = service["replicas"];
      if (replicas !== undefined && replicas !== 1) ctx.addIssue({ code: "custom", message: "an adopted process is one instance: replicas must be 1", input: replicas, path: ["replicas"] });
      for (const key of ["sockets", "schedule", "watch"]) {
        if (has(key)) ctx.addIssue({ code: "custom", message: `${key} does not apply to an adopted process`, input: service[key], path: [key], params: { at: "key" } });
      }
      const hb = service["heartbeat"];
      // via defaults to ipc before this check sees it: an adopted process beats over the socket whatever it says, but notify is refused outright
      if (isFields(hb) && hb["via"] === "notify") {
        ctx.addIssue({ code: "custom", message: "an adopted process beats over the socket (VIGIL_SOCKET); it has no notify socket of vigil's", input: hb["via"], path: ["heartbeat", "via"] });
      }
    }
  }),
).check(
  crossCheck((service, ctx) => {
    const disabled = service["disabled"];
    const autostart = service["autostart"];
    if (typeof disabled === "boolean" && typeof autostart === "boolean" && disabled === autostart) {
      ctx.addIssue({ code: "custom", message: `disabled: ${disabled} contradicts autostart: ${autostart}; keep one of them`, input: autostart, path: ["autostart"] });
    }
  }),
).check(
  crossCheck((service, ctx) => {
    const restart = service["restart"];
    if (!isFields(restart) || restart["mode"] !== "start-first") return;
    const probes = service["probes"];
    if (service["heartbeat"] !== undefined || (isFields(probes) && probes["readiness"] !== undefined)) return;
    ctx.addIssue({
      code: "custom",
      message: "start-first needs a way to say the new child is ready: a heartbeat (its ready message or first beat) or a readiness probe",
      input: restart["mode"],
      path: ["restart", "mode"],
    });
  }),
);

export const defaultsSchema = z.strictObject({
  restart: restartSchema.optional(),
  stop: stopSchema.optional(),
  logs: logsSchema.optional(),
});

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;
/** LOOPBACK on the whole `listen` value, for the JSON Schema; a ${VAR} is the loader's to judge */
const LOOPBACK_LISTEN = "^\\s*(127\\.\\d+\\.\\d+\\.\\d+|localhost|\\[::1\\]):|\\$\\{";

const httpSchema = z
  .strictObject({
    listen: tcpAddress.describe('address of the HTTP API and /metrics, e.g. "127.0.0.1:9876"'),
    token_env: envName.optional().describe("environment variable holding the bearer token that mutations (and non-loopback reads) need"),
  })
  .check(
    crossCheck((http, ctx) => {
      // a listen that failed its own check is reported as such, and says nothing about loopback
      const listen = http["listen"];
      const host = isFields(listen) ? listen["host"] : undefined;
      if (typeof host === "string" && !LOOPBACK.test(host) && http["token_env"] === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `listening on ${host} (not loopback) needs token_env: the API would be open to the network`,
          input: listen,
          path: ["listen"],
        });
      }
    }),
  )
  .meta({ if: { required: ["listen"], properties: { listen: { not: { type: "string", pattern: LOOPBACK_LISTEN } } } }, then: { required: ["token_env"] } });

const resourcesSchema = z.strictObject({
  interval: duration({ positive: true }).prefault("2s").describe("time between CPU/memory samples of every child"),
});

const checksSchema = z.strictObject({
  disk: z
    .strictObject({
      path: osString().optional().describe("a path on the disk to watch; default the state directory"),
      warn: percent({ positive: true }).prefault("85%").describe("log a warning above this usage"),
      critical: percent({ positive: true }).prefault("95%").describe("log a critical event above this usage"),
    })
    .optional()
    .describe("warn when the disk fills up"),
  cpu: levelsSchema("host CPU use (percent of all cores)").optional().describe("warn when the host's CPU is busy"),
  memory: levelsSchema("host memory use").optional().describe("warn when the host's memory fills up"),
});

const ALERT_TARGETS = ["webhook", "url_env", "telegram", "command"] as const;

const alertRuleSchema = z
  .strictObject({
    on: z.array(z.enum(ALERT_KINDS)).min(1).describe(`what to alert on: ${ALERT_KINDS.join(", ")}`),
    services: z.array(serviceName).min(1).optional().describe("only these services; default every service and the supervisor itself"),
    webhook: httpUrl.optional().describe("POST the alert to this URL (use url_env when the URL holds a secret)"),
    url_env: envName.optional().describe("environment variable holding the webhook URL"),
    telegram: z
      .strictObject({
        token_env: envName.describe("environment variable holding the bot token"),
        chat_id_env: envName.describe("environment variable holding the chat id"),
        api_url: httpUrl.optional().describe("Bot API server; default https://api.telegram.org"),
      })
      .optional()
      .describe("send through a Telegram bot"),
    command: command.optional().describe("run this with the alert in VIGIL_EVENT_* variables and as JSON on stdin"),
    shell: z.boolean().optional().describe("run command through /bin/sh -c"),
    format: z.enum(WEBHOOK_FORMATS).optional().describe("webhook body: json (default), slack ({text}) or telegram"),
    cooldown: duration().prefault("5m").describe("repeats of one kind for one service inside this are folded into one later message"),
    timeout: duration({ positive: true }).optional().describe("per attempt; default 5s for webhooks, 10s for commands (then killed)"),
    retries: z.int().min(0).max(10).optional().describe("further attempts after a failure; default 3 for webhooks, 0 for commands"),
    retry_backoff: duration({ positive: true }).prefault("1s").describe("delay before the first retry, doubled for each further one"),
  })
  .check(
    crossCheck((rule, ctx) => {
      const present = ALERT_TARGETS.filter((key) => rule[key] !== undefined);
      const { shell, format, command, telegram } = rule;
      if (present.length !== 1) {
        const found = present.length === 0 ? "" : `; found ${present.join(" and ")}`;
        ctx.addIssue({ code: "custom", message: `an alert rule needs exactly one of webhook, url_env, telegram or command${found}`, input: rule, params: { at: "key" } });
      }
      if (shell !== undefined && command === undefined) {
        ctx.addIssue({ code: "custom", message: "shell applies only to command", input: shell, path: ["shell"], params: { at: "key" } });
      }
      if (format !== undefined && command !== undefined) {
        ctx.addIssue({ code: "custom", message: "format applies only to webhooks; a command gets the alert as JSON on stdin", input: format, path: ["format"], params: { at: "key" } });
      } else if (format === "telegram" && telegram === undefined && present.length === 1) {
        ctx.addIssue({ code: "custom", message: "format telegram needs telegram: { token_env, chat_id_env }", input: format, path: ["format"] });
      } else if (telegram !== undefined && typeof format === "string" && format !== "telegram") {
        ctx.addIssue({ code: "custom", message: `telegram sends its own body; format ${format} does not apply`, input: format, path: ["format"] });
      }
    }),
  )
  .meta({
    oneOf: exactlyOneOf(ALERT_TARGETS),
    dependentRequired: { shell: ["command"] },
    dependentSchemas: { command: { not: { required: ["format"] } }, telegram: { properties: { format: { const: "telegram" } } } },
    if: { required: ["format"], properties: { format: { const: "telegram" } } },
    then: { required: ["telegram"] },
  });

export const manifestSchema = z
  .strictObject({
    version: z
      .literal(1, { error: (issue) => `unsupported version ${describeValue(issue.input)}; this vigil reads version 1` })
      .describe("the manifest format; always 1"),
    state_dir: osString().min(1).default(".vigil").describe("sockets, status file, logs and lock; relative to this file"),
    defaults: defaultsSchema.optional().describe("merged under every service, key by key"),
    http: httpSchema.optional().describe("HTTP API and Prometheus metrics; off unless set"),
    resources: resourcesSchema.optional().describe("CPU and memory sampling"),
    checks: checksSchema.optional().describe("host checks"),
    heartbeat: unmanagedSchema.optional().describe("beats of processes that have no service (unmanaged: true)"),
    alerts: z.array(alertRuleSchema).optional().describe("tell a person when services fail, crash-loop, degrade or recover"),
    services: z
      .record(serviceName, serviceSchema)
      .refine((services) => Object.keys(services).length > 0, "at least one service is required")
      .meta({ minProperties: 1 })
      .describe("the services to supervise, by name"),
  })
  .describe("vigil supervisor.yaml");

export type ManifestInput = z.input<typeof manifestSchema>;
export type ServiceInput = z.input<typeof serviceSchema>;
export type ValidatedManifest = z.output<typeof manifestSchema>;
export type ValidatedService = z.output<typeof serviceSchema>;
export type ValidatedDefaults = z.output<typeof defaultsSchema>;
export type ValidatedProbe = z.output<typeof probeSchema>;
export type ValidatedAlertRule = z.output<typeof alertRuleSchema>;
