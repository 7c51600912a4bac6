// The one loop: every input goes through one queue into step(), the only writer of the stack's state,
// and each effect it returns goes to the adapter that carries it out; what comes of that returns as an
// input. An adapter that reports something while the loop is busy (a spawn reports its child at once)
// only queues it: nothing calls back into the middle of a step. Timers are the loop's own: a timeout is
// one more input (TimerFired), keyed by instance and incarnation.
import type { Clock } from "../core/clock.js";
import type { CommandAnswer } from "../core/stack/commands.js";
import type { DomainEvent } from "../core/stack/domain-events.js";
import type { Effect, SpawnSpec } from "../core/stack/effects.js";
import type { InstanceId } from "../core/stack/ids.js";
import type { Input, ReplyTo } from "../core/stack/inputs.js";
import type { StackState } from "../core/stack/state.js";
import { step } from "../core/stack/step.js";
import type { SignalName } from "../core/types.js";
import type { Manifest } from "../manifest/types.js";
import { KeyedTimers } from "./timers.js";

/** Who carries out the effects: processes, probes, the bus, replies, the manifest. */
export interface Adapters {
  spawn(id: InstanceId, incarnation: number, spec: SpawnSpec): void;
  /** the stop signal, then SIGCONT, to every process of the child's job */
  signal(id: InstanceId, incarnation: number, signal: SignalName): void;
  kill(id: InstanceId, incarnation: number): void;
  runProbe(probe: Extract<Effect, { type: "RunProbe" }>): void;
  publish(event: DomainEvent): void;
  reply(to: ReplyTo, answer: CommandAnswer): void;
  loadManifest(replyTo: ReplyTo | null): void;
  reconfigure(next: Manifest, previous: Manifest): void;
  forget(id: InstanceId): void;
  stopped(): void;
  announce(what: Extract<Effect, { type: "Announce" }>["what"]): void;
  armPing(effect: Extract<Effect, { type: "ArmPing" }>): void;
  runAction(effect: Extract<Effect, { type: "RunAction" }>): void;
}

export class Loop {
  #state: StackState;
  readonly #queue: Input[] = [];
  #head = 0;
  #draining = false;
  readonly #timers: KeyedTimers;
  /** called once the queue is empty after taking inputs (status.json marks itself stale) */
  afterDrain: (() => void) | null = null;
  #inputs = 0;
  readonly #ctx: { nowMs: number; wallMs: number; random: () => number };
  /** a step's events held back until the spawns that follow them are done (#performAll) */
  readonly #held: Effect[] = [];

  constructor(
    state: StackState,
    readonly clock: Clock,
    private readonly adapters: Adapters,
    private readonly random: () => number = Math.random,
  ) {
    this.#state = state;
    this.#ctx = { nowMs: 0, wallMs: 0, random };
    this.#timers = new KeyedTimers(clock, (input) => this.post(input));
  }

  /** How many inputs (other than status requests) have been stepped: the state is as it was while this stays the same. */
  get inputs(): number {
    return this.#inputs;
  }

  /** The state, to read: never to change from outside. */
  get state(): StackState {
    return this.#state;
  }

  post(input: Input): void {
    this.#queue.push(input);
    if (!this.#draining) this.#drain();
  }

  /** Cancels every timer (the stack is closing). */
  close(): void {
    this.#timers.clear();
  }

  #drain(): void {
    this.#draining = true;
    try {
      while (this.#head < this.#queue.length) {
        const input = this.#queue[this.#head++]!;
        // a status request only reads: the state it answers with is the one before it
        if (input.type !== "ControlRequested" || input.command.cmd !== "status") this.#inputs++;
        // one context object, set anew for each input: a step reads it and keeps none of it
        const ctx = this.#ctx;
        ctx.nowMs = this.clock.now();
        ctx.wallMs = this.clock.wallNow();
        const { state, effects } = step(this.#state, input, ctx);
        this.#state = state;
        this.#performAll(effects);
      }
    } finally {
      // an adapter that threw leaves no event to be published with the next input's
      this.#held.length = 0;
      this.#queue.length = 0;
      this.#head = 0;
      this.#draining = false;
    }
    this.afterDrain?.();
  }

  /**
   * A step's effects in their order, but for its events: those that come before a spawn are published
   * right after it, so that a child restarted at once does not wait for the journal, the log and the
   * streams (BENCHMARKS.md, "The restart gap"). Events keep their order among themselves and against
   * every other effect.
   */
  #performAll(effects: readonly Effect[]): void {
    const held = this.#held;
    for (const effect of effects) {
      if (effect.type === "Publish") held.push(effect);
      else if (effect.type === "Spawn" || held.length === 0) this.#perform(effect);
      else {
        this.#publishHeld();
        this.#perform(effect);
      }
    }
    if (held.length > 0) this.#publishHeld();
  }

  #publishHeld(): void {
    const held = this.#held;
    for (const effect of held) this.#perform(effect);
    held.length = 0;
  }

  #perform(effect: Effect): void {
    const a = this.adapters;
    switch (effect.type) {
      case "Spawn":
        return a.spawn(effect.id, effect.incarnation, effect.spec);
      case "Signal":
        return a.signal(effect.id, effect.incarnation, effect.signal);
      case "KillJob":
        return a.kill(effect.id, effect.incarnation);
      case "SetTimer":
        return this.#timers.set(effect.key, effect.delayMs);
      case "CancelTimer":
        return this.#timers.cancel(effect.key);
      case "RunProbe":
        return a.runProbe(effect);
      case "Publish":
        return a.publish(effect.event);
      case "Reply":
        return a.reply(effect.to, effect.answer);
      case "LoadManifest":
        return a.loadManifest(effect.replyTo);
      case "Reconfigure":
        return a.reconfigure(effect.manifest, effect.previous);
      case "ForgetInstance":
        return a.forget(effect.id);
      case "Stopped":
        return a.stopped();
      case "Announce":
        return a.announce(effect.what);
      case "ArmPing":
        return a.armPing(effect);
      case "RunAction":
        return a.runAction(effect);
      default: {
        const never: never = effect;
        throw new Error(`bug: unknown effect ${JSON.stringify(never)}`);
      }
    }
  }
}
