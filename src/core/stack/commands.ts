// What people and programs ask of a running stack (the control socket, the HTTP API, the library).

export type StackCommand =
  | { readonly cmd: "status"; readonly names: readonly string[]; readonly history: boolean }
  /** no names: every service; wait: answer once stopped or restarted (start answers at once) */
  | { readonly cmd: "start" | "stop" | "restart"; readonly names: readonly string[]; readonly wait?: boolean }
  | { readonly cmd: "scale"; readonly service: string; readonly replicas: number }
  | { readonly cmd: "reload" }
  | { readonly cmd: "down" }
  /** answered once every instance has started or failed to start (as READY=1 is sent) */
  | { readonly cmd: "wait-started" }
  /** the kept beats of a window (wall-clock ms, null: open) with their figures, per instance */
  | { readonly cmd: "beats"; readonly names: readonly string[]; readonly sinceWallMs: number | null; readonly untilWallMs: number | null }
  /** every open task, per instance */
  | { readonly cmd: "tasks"; readonly names: readonly string[] };

export type CommandErrorCode = "bad-request" | "unknown-service" | "shutting-down" | "invalid-manifest" | "internal" | "not-done";

/** What a command answers. `status` names the instances to show; the renderer reads them from the state. */
export type CommandAnswer =
  | { readonly ok: true; readonly status: { readonly ids: readonly string[]; readonly history: boolean } }
  | { readonly ok: true; readonly data?: unknown }
  | { readonly ok: false; readonly error: string; readonly code: CommandErrorCode };
