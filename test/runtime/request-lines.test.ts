import { describe, expect, it } from "vitest";
import { RequestLines, TOO_LONG } from "../../src/runtime/request-lines.js";

describe("RequestLines", () => {
  it("gives complete lines one at a time, trimmed, and keeps a partial one for later", () => {
    const lines = new RequestLines(100);
    lines.push(Buffer.from('{"cmd":"ping"}\r\n  \n{"cmd":'));
    expect(lines.next()).toBe('{"cmd":"ping"}');
    expect(lines.next()).toBe("");
    expect(lines.next()).toBeNull();
    lines.push(Buffer.from('"status"}\n'));
    expect(lines.next()).toBe('{"cmd":"status"}');
    expect(lines.next()).toBeNull();
    expect(lines.pendingBytes).toBe(0);
  });

  it("counts a last line without its newline once the writer is done", () => {
    const lines = new RequestLines(100);
    lines.push(Buffer.from("a\nb"));
    lines.end();
    expect([lines.next(), lines.next(), lines.next()]).toEqual(["a", "b", null]);
    expect(lines.ended).toBe(true);
  });

  it("decodes a character split between chunks whole", () => {
    const lines = new RequestLines(100);
    const bytes = Buffer.from("é€\n");
    lines.push(bytes.subarray(0, 2));
    expect(lines.next()).toBeNull();
    lines.push(bytes.subarray(2));
    expect(lines.next()).toBe("é€");
  });

  it("reports a line over the limit, with or without its newline", () => {
    const long = new RequestLines(4);
    long.push(Buffer.from("12345\n"));
    expect(long.next()).toBe(TOO_LONG);
    const endless = new RequestLines(4);
    endless.push(Buffer.from("12345"));
    expect(endless.next()).toBe(TOO_LONG);
    const fits = new RequestLines(4);
    fits.push(Buffer.from("1234\n"));
    expect(fits.next()).toBe("1234");
  });
});
