import fc from "fast-check";
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

  it("copies what it holds of a shared read buffer once told, so the next read into it cannot change a partial line", () => {
    const lines = new LineReader(100);
    const shared = Buffer.alloc(64);
    const read = (text: string): Buffer => shared.subarray(0, shared.write(text));
    lines.push(read('{"type":"be'));
    expect(lines.next()).toBeNull();
    lines.retain(shared.buffer);
    // another connection's read fills the buffer meanwhile
    read("XXXXXXXXXXXXXXXXXXXXXXXXXX\n");
    lines.push(read('at"}\n{"ty'));
    expect(lines.next()).toBe('{"type":"beat"}');
    expect(lines.next()).toBeNull();
    lines.retain(shared.buffer);
    read("ZZZZZZZZZZ");
    lines.push(read('pe":"ready"}\n'));
    expect(lines.next()).toBe('{"type":"ready"}');
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

  it("gives the same lines however the bytes are cut into chunks, and takes them as they come", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme", maxLength: 30 }).map((l) => l.replace(/\n/g, "")), { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), fc.boolean(), (lines, cuts, readEarly) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(""));
        const reader = new LineReader(1_000);
        const got: string[] = [];
        const take = (): void => {
          for (let line = reader.next(); line !== null; line = reader.next()) got.push(line as string);
        };
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          reader.push(bytes.subarray(at, at + n));
          at += n;
          if (readEarly) take();
        }
        take();
        expect(got).toEqual(lines);
        expect(reader.pendingBytes).toBe(0);
      }),
    );
  });
});
