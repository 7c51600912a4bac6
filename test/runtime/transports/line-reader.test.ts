import { describe, expect, it } from "vitest";
import { LineReader, TOO_LONG } from "../../../src/runtime/transports/line-reader.js";

describe("LineReader", () => {
  it("gives complete lines one at a time, and keeps a partial one for later", () => {
    const lines = new LineReader(100);
    lines.push(Buffer.from('{"cmd":"ping"}\r\n\n{"cmd":'));
    expect(lines.next()).toBe('{"cmd":"ping"}\r');
    expect(lines.next()).toBe("");
    expect(lines.next()).toBeNull();
    lines.push(Buffer.from('"status"}\n'));
    expect(lines.next()).toBe('{"cmd":"status"}');
    expect(lines.next()).toBeNull();
    expect(lines.pendingBytes).toBe(0);
  });

  it("counts a last line without its newline once the writer is done", () => {
    const lines = new LineReader(100);
    lines.push(Buffer.from("a\nb"));
    lines.end();
    expect([lines.next(), lines.next(), lines.next()]).toEqual(["a", "b", null]);
    expect(lines.ended).toBe(true);
  });

  it("decodes a character split between chunks whole", () => {
    const lines = new LineReader(100);
    const bytes = Buffer.from("é€\n");
    lines.push(bytes.subarray(0, 2));
    expect(lines.next()).toBeNull();
    lines.push(bytes.subarray(2));
    expect(lines.next()).toBe("é€");
  });

  it("takes a line sent a byte at a time whole", () => {
    const lines = new LineReader(100);
    const bytes = Buffer.from("héllo\nrest");
    for (const byte of bytes) {
      lines.push(Buffer.from([byte]));
      if (byte === 0x0a) expect(lines.next()).toBe("héllo");
      else expect(lines.next()).toBeNull();
    }
    expect(lines.pendingBytes).toBe(4);
  });

  it("reports a line over the limit, with or without its newline", () => {
    const long = new LineReader(4);
    long.push(Buffer.from("12345\n"));
    expect(long.next()).toBe(TOO_LONG);
    const endless = new LineReader(4);
    endless.push(Buffer.from("12345"));
    expect(endless.next()).toBe(TOO_LONG);
    const fits = new LineReader(4);
    fits.push(Buffer.from("1234\n"));
    expect(fits.next()).toBe("1234");
  });
});
