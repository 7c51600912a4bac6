import { describe, expect, it } from "vitest";
import type { TimerKey } from "../../src/core/stack/effects.js";
import type { InstanceId } from "../../src/core/stack/ids.js";
import type { Input } from "../../src/core/stack/inputs.js";
import { KeyedTimers } from "../../src/runtime/timers.js";
import { FakeClock } from "../support/fake-clock.js";

const key = (id: string, incarnation = 1): TimerKey => ({ id: id as InstanceId, incarnation, kind: "heartbeat" });

function timers() {
  const clock = new FakeClock();
  const fired: string[] = [];
  let onFire: (k: TimerKey) => void = () => undefined;
  const t = new KeyedTimers(clock, (input: Input) => {
    if (input.type !== "TimerFired") throw new Error(`unexpected ${input.type}`);
    fired.push(`${input.key.id}@${clock.now()}`);
    onFire(input.key);
  });
  return { clock, fired, t, onFire: (fn: (k: TimerKey) => void) => (onFire = fn) };
}

describe("the loop's keyed timers", () => {
  it("fires each key at its own time, in order of due time and then of setting, under one clock timer", () => {
    const { clock, fired, t } = timers();
    t.set(key("c"), 30);
    t.set(key("a"), 10);
    t.set(key("b"), 10);
    t.set(key("d"), 20);
    expect(clock.pending()).toBe(1);
    expect(t.size).toBe(4);
    clock.advance(100);
    expect(fired).toEqual(["a@10", "b@10", "d@20", "c@30"]);
    expect(t.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it("moves a key set again, and forgets a cancelled one", () => {
    const { clock, fired, t } = timers();
    t.set(key("a"), 10);
    t.set(key("b"), 20);
    t.set(key("a"), 50);
    t.cancel(key("b"));
    t.cancel(key("nothing"));
    clock.advance(100);
    expect(fired).toEqual(["a@50"]);
  });

  it("tells keys of different incarnations apart", () => {
    const { clock, fired, t } = timers();
    t.set(key("a", 1), 10);
    t.set(key("a", 2), 20);
    t.cancel(key("a", 1));
    clock.advance(100);
    expect(fired).toEqual(["a@20"]);
  });

  it("takes a key set again by the step its firing caused (a watch re-armed for its next deadline)", () => {
    const { clock, fired, t, onFire } = timers();
    let rounds = 0;
    onFire((k) => {
      if (++rounds < 5) t.set(k, 1000);
    });
    t.set(key("w"), 1000);
    const created = clock.created;
    clock.advance(10_000);
    expect(fired).toEqual(["w@1000", "w@2000", "w@3000", "w@4000", "w@5000"]);
    // one clock timer per deadline, none left over
    expect(clock.created - created).toBe(4);
    expect(clock.pending()).toBe(0);
  });

  it("fires a key set by a firing one on a later clock timer, even when it is due at once", () => {
    const { clock, fired, t, onFire } = timers();
    onFire((k) => {
      if (k.id === "a") t.set(key("again"), 0);
    });
    t.set(key("a"), 10);
    // another timer of the event loop, due at the same time (the I/O a second look waits for)
    clock.setTimer(10, () => fired.push(`other@${clock.now()}`));
    clock.advance(100);
    expect(fired).toEqual(["a@10", "other@10", "again@10"]);
  });

  it("clear() stops everything", () => {
    const { clock, fired, t } = timers();
    t.set(key("a"), 10);
    t.set(key("b"), 20);
    t.clear();
    clock.advance(100);
    expect(fired).toEqual([]);
    expect(clock.pending()).toBe(0);
    expect(t.size).toBe(0);
  });

  it("keeps the order of many keys set in any order", () => {
    const { clock, fired, t } = timers();
    const dues = Array.from({ length: 200 }, (_, i) => (i * 7919) % 1000);
    dues.forEach((due, i) => t.set(key(`k${i}`), due));
    for (let i = 0; i < 200; i += 3) t.cancel(key(`k${i}`));
    clock.advance(2000);
    const times = fired.map((f) => Number(f.split("@")[1]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(fired).toHaveLength(200 - Math.ceil(200 / 3));
  });
});
