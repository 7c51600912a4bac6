import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionPool, type PoolClose } from "../../../src/runtime/transports/connection-pool.js";
import { FakeClock } from "../../support/fake-clock.js";

/** what the pool uses of a socket: destroy, end and the close event */
class FakeSocket extends EventEmitter {
  state: "open" | "ended" | "destroyed" = "open";
  constructor(readonly name: string) {
    super();
  }
  destroy(): void {
    if (this.state === "destroyed") return;
    this.state = "destroyed";
    this.emit("close");
  }
  end(): void {
    this.state = "ended";
  }
}

function pool(capacity: number, idleMs: number | null = null) {
  const clock = new FakeClock();
  const closed: PoolClose[] = [];
  const p = new ConnectionPool({ capacity, idleMs: idleMs === null ? null : () => idleMs, maxRejectsInARow: 3, clock, onClose: (why) => closed.push(why) });
  const open = (name: string): FakeSocket => {
    const s = new FakeSocket(name);
    p.admit(s as unknown as Socket);
    return s;
  };
  return { p, clock, closed, open, as: (s: FakeSocket) => s as unknown as Socket };
}

describe("ConnectionPool", () => {
  it("makes room for a newcomer by closing the idle connection that never sent anything valid", () => {
    const { p, open, closed, as, clock } = pool(2);
    const beater = open("beater");
    p.accepted(as(beater));
    clock.advance(10);
    const idle = open("idle");
    const newcomer = open("newcomer");
    expect(idle.state).toBe("destroyed");
    expect(beater.state).toBe("open");
    expect(newcomer.state).toBe("open");
    expect(closed).toEqual(["evicted"]);
    expect(p.stats()).toEqual({ open: 2, evicted: 1, idle_closed: 0, reject_closed: 0 });
  });

  it("closes connections without valid input for idleMs with one timer, and re-arms for the next", () => {
    const { p, open, clock, as, closed } = pool(10, 1000);
    const a = open("a");
    clock.advance(600);
    const b = open("b");
    clock.advance(399);
    expect(a.state).toBe("open");
    p.accepted(as(b));
    clock.advance(1);
    expect(a.state).toBe("destroyed");
    expect(b.state).toBe("open");
    clock.advance(999);
    expect(b.state).toBe("destroyed");
    expect(closed).toEqual(["idle", "idle"]);
    expect(clock.pending()).toBe(0);
  });

  it("never closes a busy connection for idleness, and arms again once it is answered", () => {
    const { p, open, clock, as } = pool(10, 1000);
    const down = open("down");
    p.busy(as(down));
    clock.advance(60_000);
    expect(down.state).toBe("open");
    p.accepted(as(down));
    clock.advance(1000);
    expect(down.state).toBe("destroyed");
  });

  it("says when a connection has sent too many rejected inputs in a row, and ends it after its last answer", () => {
    const { p, open, clock, as, closed } = pool(10);
    const noisy = open("noisy");
    expect(p.rejected(as(noisy))).toBe(false);
    expect(p.rejected(as(noisy))).toBe(false);
    expect(p.rejected(as(noisy))).toBe(true);
    p.close(as(noisy), "rejected", true);
    expect(noisy.state).toBe("ended");
    expect(p.size).toBe(0);
    clock.advance(1000);
    expect(noisy.state).toBe("destroyed");
    expect(closed).toEqual(["rejected"]);
  });

  it("destroys everything and takes nothing more once closed", () => {
    const { p, open, clock } = pool(10, 1000);
    const a = open("a");
    p.closeAll();
    const late = open("late");
    expect([a.state, late.state]).toEqual(["destroyed", "destroyed"]);
    expect(clock.pending()).toBe(0);
  });
});
