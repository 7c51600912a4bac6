// The loop's timers: one per key (an instance's child and a kind), set anew by SetTimer, and reported as
// TimerFired when due. Through the injected Clock, so that tests move time themselves.
import type { Clock, TimerHandle } from "../core/clock.js";
import { timerKeyText, type TimerKey } from "../core/stack/effects.js";
import type { Input } from "../core/stack/inputs.js";

export class KeyedTimers {
  readonly #handles = new Map<string, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly post: (input: Input) => void,
  ) {}

  set(key: TimerKey, delayMs: number): void {
    const text = timerKeyText(key);
    const old = this.#handles.get(text);
    if (old !== undefined) this.clock.clearTimer(old);
    this.#handles.set(text, this.clock.setTimer(delayMs, () => {
      this.#handles.delete(text);
      this.post({ type: "TimerFired", key });
    }));
  }

  cancel(key: TimerKey): void {
    const text = timerKeyText(key);
    const handle = this.#handles.get(text);
    if (handle === undefined) return;
    this.clock.clearTimer(handle);
    this.#handles.delete(text);
  }

  /** timers armed now */
  get size(): number {
    return this.#handles.size;
  }

  clear(): void {
    for (const handle of this.#handles.values()) this.clock.clearTimer(handle);
    this.#handles.clear();
  }
}
