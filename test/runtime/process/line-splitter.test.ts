import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../../src/runtime/process/line-splitter.js";

function split(chunks: (string | Buffer)[], maxLineBytes?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLineBytes);
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  it("emits every complete line of a chunk, empty lines included", () => {
    expect(split(["a\nbb\n\nccc\n"])).toEqual(["a", "bb", "", "ccc"]);
  });

  it("joins a line split across chunk boundaries", () => {
    expect(split(["hel", "lo wo", "rld\nnext", "\n"])).toEqual(["hello world", "next"]);
  });

  it("flushes a final line without a newline on end", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push(Buffer.from("one\ntwo"));
    expect(lines).toEqual(["one"]);
    splitter.end();
    expect(lines).toEqual(["one", "two"]);
    splitter.end();
    expect(lines).toEqual(["one", "two"]);
  });

  it("strips CRLF, also when the CR and LF arrive in different chunks", () => {
    expect(split(["a\r\nb\r", "\nc\r\n"])).toEqual(["a", "b", "c"]);
    expect(split(["a\rb\n"])).toEqual(["a\rb"]);
  });

  it("decodes a multi-byte character split between chunks", () => {
    const bytes = Buffer.from("né 😀 ok\n");
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(split([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(["né 😀 ok"]);
    }
    const oneByOne = [...bytes].map((b) => Buffer.from([b]));
    expect(split(oneByOne)).toEqual(["né 😀 ok"]);
  });

  it("cuts an over-long line into pieces of at most maxLineBytes", () => {
    const long = "x".repeat(25);
    expect(split([`${long}\nshort\n`], 10)).toEqual(["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx", "short"]);
    expect(split([...long].concat("\n", "short\n"), 10)).toEqual(["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx", "short"]);
  });

  it("never holds more than one piece of an endless line", () => {
    const pieces: string[] = [];
    const splitter = new LineSplitter((line) => pieces.push(line), 1024);
    const chunk = Buffer.alloc(4096, "y");
    for (let i = 0; i < 256; i++) splitter.push(chunk);
    // the last full piece waits: a newline may still end the line right there
    expect(pieces).toHaveLength(1023);
    splitter.end();
    expect(pieces).toHaveLength(1024);
    expect(pieces.every((p) => p.length === 1024)).toBe(true);
  });

  it("does not cut a multi-byte character when cutting a long line", () => {
    const line = "é".repeat(9); // 18 bytes
    for (const chunks of [[`${line}\n`], [...line].concat("\n")]) {
      const pieces = split(chunks, 5);
      expect(pieces.join("")).toBe(line);
      for (const piece of pieces) {
        expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(5);
        expect(piece).not.toContain("\ufffd");
      }
    }
  });

  it("keeps a line of exactly maxLineBytes whole", () => {
    expect(split(["abcde", "\n"], 5)).toEqual(["abcde"]);
    expect(split(["abcde\n"], 5)).toEqual(["abcde"]);
  });
});

describe("LineSplitter that drops over-long lines (a protocol's messages)", () => {
  function messages(chunks: string[], maxLineBytes: number): string[] {
    const seen: string[] = [];
    const splitter = new LineSplitter((line) => seen.push(line), maxLineBytes, () => seen.push("<too long>"));
    for (const chunk of chunks) splitter.push(Buffer.from(chunk));
    splitter.end();
    return seen;
  }

  it("drops a line over the bound whole, tells it once, and takes the next line as it is", () => {
    // no piece of the long line may pass for a message of its own, in one chunk or many
    const smuggled = `{"a":"${"x".repeat(20)}"}{"type":"beat"}`;
    expect(messages([`${smuggled}\n{"ok":1}\n`], 16)).toEqual(["<too long>", '{"ok":1}']);
    expect(messages([...smuggled.match(/.{1,5}/g)!, '\n{"ok":1}\n'], 16)).toEqual(["<too long>", '{"ok":1}']);
  });

  it("drops an endless line as it comes, holding none of it, and tells it once", () => {
    const seen: string[] = [];
    const splitter = new LineSplitter((line) => seen.push(line), 16, () => seen.push("<too long>"));
    for (let i = 0; i < 1000; i++) splitter.push(Buffer.from("y".repeat(100)));
    expect(seen).toEqual(["<too long>"]);
    splitter.push(Buffer.from("tail\nnext\n"));
    expect(seen).toEqual(["<too long>", "next"]);
  });

  it("keeps a line of exactly the bound", () => {
    expect(messages(["z".repeat(16) + "\n"], 16)).toEqual(["z".repeat(16)]);
  });
});
