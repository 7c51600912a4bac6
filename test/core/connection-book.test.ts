import { describe, expect, it } from "vitest";
import { ConnectionBook } from "../../src/core/connection-book.js";

describe("ConnectionBook", () => {
  it("gives way first with the connection that never sent anything valid, the oldest of them", () => {
    const book = new ConnectionBook<string>(3);
    book.add("beater", 0);
    book.add("idle-1", 10);
    book.add("idle-2", 20);
    book.accepted("beater", 30);
    expect(book.victim()).toBe("idle-1");
    book.delete("idle-1");
    expect(book.victim()).toBe("idle-2");
    book.delete("idle-2");
    expect(book.victim()).toBe("beater");
  });

  it("among proven connections gives way with the one quiet longest", () => {
    const book = new ConnectionBook<string>(3);
    for (const [key, at] of [["a", 0], ["b", 1], ["c", 2]] as const) {
      book.add(key, at);
      book.accepted(key, at);
    }
    book.accepted("a", 50);
    expect(book.victim()).toBe("b");
  });

  it("keeps a busy connection last, and never calls it idle", () => {
    const book = new ConnectionBook<string>(3);
    book.add("waiting-for-down", 0);
    book.busy("waiting-for-down", 0);
    book.add("client", 100);
    book.accepted("client", 100);
    expect(book.victim()).toBe("client");
    expect(book.idle(1_000_000, 1000)).toEqual(["client"]);
    book.delete("client");
    expect(book.victim()).toBe("waiting-for-down");
    book.accepted("waiting-for-down", 2_000_000);
    expect(book.standing("waiting-for-down")).toBe("proven");
  });

  it("finds the connections idle for idleMs, quietest first, and when the next one will be", () => {
    const book = new ConnectionBook<string>(3);
    book.add("a", 0);
    book.add("b", 100);
    book.accepted("a", 200);
    expect(book.nextIdleAtMs(1000)).toBe(1100);
    expect(book.idle(1099, 1000)).toEqual([]);
    expect(book.idle(1100, 1000)).toEqual(["b"]);
    expect(book.idle(1200, 1000)).toEqual(["b", "a"]);
    book.delete("a");
    book.delete("b");
    expect(book.nextIdleAtMs(1000)).toBeNull();
  });

  it("says a connection has had enough after maxRejectsInARow rejections without a valid input between", () => {
    const book = new ConnectionBook<string>(3);
    book.add("noisy", 0);
    expect(book.rejected("noisy")).toBe(false);
    expect(book.rejected("noisy")).toBe(false);
    book.accepted("noisy", 1);
    expect(book.rejected("noisy")).toBe(false);
    expect(book.rejected("noisy")).toBe(false);
    expect(book.rejected("noisy")).toBe(true);
  });

  it("does not count rejected input as activity", () => {
    const book = new ConnectionBook<string>(100);
    book.add("garbage", 0);
    book.rejected("garbage");
    expect(book.idle(500, 500)).toEqual(["garbage"]);
  });

  it("forgets what it is told to, and ignores what it does not know", () => {
    const book = new ConnectionBook<string>(3);
    book.add("a", 0);
    book.add("a", 5);
    expect(book.size).toBe(1);
    book.delete("a");
    book.accepted("a", 1);
    book.busy("a", 1);
    expect(book.rejected("a")).toBe(false);
    expect(book.size).toBe(0);
    expect(book.victim()).toBeUndefined();
  });
});
