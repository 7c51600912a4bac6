// Keys for what vigil watches but did not start (issue 19): `adopt:` a process found by pidfile or
// command line, `ping:` a job that only reports (a dead man's switch), `actions:` commands run on a
// service's trouble, the top-level `heartbeat:` for beats of processes without a service, and the host
// CPU and memory checks. The resolved forms are in types.ts.
import * as z from "./zod.js";
import { crossCheck } from "./cross-check.js";
import { cronProblem, timezoneProblem } from "./cron.js";
import { command, duration, envName, osString, percent } from "./schema-fields.js";

export const ACTION_KINDS = ["degraded", "critical", "failed", "limit", "probe", "task-timeout"] as const;
export const ACTION_THEN = ["restart", "none"] as const;
export const ADOPT_ON_STOP = ["release", "signal"] as const;

const regex = z.string().min(1).superRefine((text, ctx) => {
  try {
    new RegExp(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `not a regular expression: ${(error as Error).message}`, input: text });
  }
});

export const adoptSchema = z
  .strictObject({
    pidfile: osString().min(1).optional().describe("a file holding the pid of the process to watch, relative to this file"),
    match: regex.optional().describe("a regular expression that exactly one running process's command line must match"),
    poll: duration({ positive: true }).prefault("1s").describe("how often the process is looked at (its exit, a reused pid)"),
    start_timeout: duration({ positive: true }).prefault("30s").describe("after `command` is run, how long the process may take to appear"),
    on_stop: z.enum(ADOPT_ON_STOP).default("release").describe("release: stopping vigil or the service leaves the process running; signal: stop it with stop.signal"),
  })
  .check(
    crossCheck((adopt, ctx) => {
      const present = ["pidfile", "match"].filter((key) => adopt[key] !== undefined);
      if (present.length !== 1) {
        const found = present.length === 0 ? "" : "; found both";
        ctx.addIssue({ code: "custom", message: `adopt needs exactly one of pidfile or match${found}`, input: adopt, params: { at: "key" } });
      }
    }),
  )
  .meta({ oneOf: [{ required: ["pidfile"] }, { required: ["match"] }] });

export const pingSchema = z
  .strictObject({
    every: duration({ positive: true }).optional().describe("a ping is expected at least this often, e.g. 1h"),
    cron: z.string().min(1).optional().describe('a ping is expected after each time of this cron expression, e.g. "0 3 * * *"'),
    timezone: z.string().min(1).optional().describe("IANA time zone the cron expression is read in"),
    grace: duration().prefault("1m").describe("how long past its time a ping may be late before the check is down"),
    token_env: envName.optional().describe("environment variable holding the token a ping must carry (Authorization: Bearer)"),
  })
  .check(
    crossCheck((ping, ctx) => {
      const present = ["every", "cron"].filter((key) => ping[key] !== undefined);
      if (present.length !== 1) {
        ctx.addIssue({ code: "custom", message: `ping needs exactly one of every or cron${present.length === 2 ? "; found both" : ""}`, input: ping, params: { at: "key" } });
      }
      const cron = ping["cron"];
      const problem = typeof cron === "string" && cron !== "" ? cronProblem(cron) : null;
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem, input: cron, path: ["cron"] });
      const zone = ping["timezone"];
      const zoneProblem = typeof zone === "string" && zone !== "" ? timezoneProblem(zone) : null;
      if (zoneProblem !== null) ctx.addIssue({ code: "custom", message: zoneProblem, input: zone, path: ["timezone"] });
      if (zone !== undefined && cron === undefined) ctx.addIssue({ code: "custom", message: "timezone applies only to cron", input: zone, path: ["timezone"] });
    }),
  )
  .meta({ oneOf: [{ required: ["every"] }, { required: ["cron"] }] });

const actionSchema = z.strictObject({
  run: command.describe("the command to run, with the event in VIGIL_EVENT_* variables"),
  shell: z.boolean().default(false).describe("run through /bin/sh -c"),
  then: z.enum(ACTION_THEN).optional().describe("restart: vigil restarts as usual once the command is done; none: observe only (mark, alert, run, never restart)"),
  timeout: duration({ positive: true }).prefault("30s").describe("the command and everything it started are killed after this long"),
});

export const actionsSchema = z.strictObject(
  Object.fromEntries(ACTION_KINDS.map((kind) => [kind, actionSchema.optional()])) as Record<(typeof ACTION_KINDS)[number], z.ZodOptional<typeof actionSchema>>,
);

export const unmanagedSchema = z.strictObject({
  unmanaged: z.boolean().default(false).describe("accept beats from processes that have no service, listed in status under `unmanaged`"),
  token_env: envName.optional().describe("environment variable holding the token such beats must carry"),
  expire_after: duration({ positive: true }).prefault("10m").describe("a name that has not beaten for this long is dropped from the list"),
  max: z.int().min(1).max(10_000).default(100).describe("at most this many names are listed; beats of further names are refused"),
}).check(
  crossCheck((hb, ctx) => {
    if (hb["unmanaged"] === true && hb["token_env"] === undefined) {
      ctx.addIssue({ code: "custom", message: "unmanaged: true needs token_env: beats without a service are told apart only by the token", input: hb, path: ["token_env"], params: { at: "key" } });
    }
  }),
);

export const levelsSchema = (what: string) =>
  z.strictObject({
    warn: percent({ positive: true }).prefault("85%").describe(`log a warning above this ${what}`),
    critical: percent({ positive: true }).prefault("95%").describe(`log a critical event above this ${what}`),
  });
