import { describe, expect, it } from "vitest";
import { sseComment, sseFrame } from "../../src/runtime/http/sse.js";
import { parseSse } from "../../web/src/sse-parse.js";

describe("server-sent events", () => {
  it("frame each line of data as a data: line, so a line break cannot end an event early", () => {
    expect(sseFrame("log", "a\nb\r\nc")).toBe("event: log\ndata: a\ndata: b\ndata: c\n\n");
  });

  it("refuse an event name with a line break", () => {
    expect(() => sseFrame("a\nb", "x")).toThrow(/line break/);
  });

  it("are read back by the page as they were sent, whatever the chunks", () => {
    const text = sseFrame("update", '{"a":1}') + sseComment("ping") + sseFrame("log", "x\ny");
    for (let cut = 0; cut <= text.length; cut++) {
      const first = parseSse(text.slice(0, cut));
      const second = parseSse(first.rest + text.slice(cut));
      expect([...first.events, ...second.events]).toEqual([
        { event: "update", data: '{"a":1}' },
        { event: "log", data: "x\ny" },
      ]);
      expect(second.rest).toBe("");
    }
  });

  it("keep a comment's text on one line", () => {
    expect(sseComment("a\nb")).toBe(": a b\n\n");
  });
});
