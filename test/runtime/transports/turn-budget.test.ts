import { describe, expect, it } from "vitest";
import { TurnBudget, type Pausable } from "../../../src/runtime/transports/heartbeat-socket.js";

class Conn implements Pausable {
  destroyed = false;
  paused = false;
  pauses = 0;
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("the heartbeat socket's turn budget", () => {
  it("pauses the connections that deliver past the budget in one turn, and lets them go two a turn", async () => {
    const budget = new TurnBudget(1_000, 2);
    const conns = Array.from({ length: 6 }, () => new Conn());
    for (const c of conns) budget.took(c, 400);
    // 400, 800 within; 1,200 and on past the budget
    expect(conns.map((c) => c.paused)).toEqual([false, false, true, true, true, true]);
    expect(budget.waiting).toBe(4);
    await nextTurn();
    expect(conns.filter((c) => c.paused)).toHaveLength(2);
    await nextTurn();
    expect(conns.filter((c) => c.paused)).toHaveLength(0);
  });

  it("never pauses anyone for small reads, one a turn, however many turns they go on", async () => {
    const budget = new TurnBudget(1_000, 2);
    const c = new Conn();
    for (let i = 0; i < 500; i++) {
      budget.took(c, 60);
      await nextTurn();
    }
    expect(c.pauses).toBe(0);
  });

  it("does not pause a connection that has closed", () => {
    const budget = new TurnBudget(1_000, 2);
    const c = new Conn();
    c.destroyed = true;
    budget.took(c, 5_000);
    expect(c.pauses).toBe(0);
    expect(budget.waiting).toBe(0);
  });
});
