import { describe, expect, it } from "vitest";
import { ansiToHtml, escapeHtml, stripAnsi } from "../../web/src/ansi.js";

describe("a line of output as HTML", () => {
  it("escapes markup, so a child's output never becomes a script", () => {
    const html = ansiToHtml(`<script>alert("x")</script> & 'q'`);
    expect(html).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
    expect(html).not.toContain("<script");
  });

  it("escapes markup inside coloured text too", () => {
    expect(ansiToHtml("\x1b[31m<img src=x onerror=alert(1)>\x1b[0m")).toBe('<span class="a-f1">&lt;img src=x onerror=alert(1)&gt;</span>');
  });

  it("keeps the basic and bright colours, bold and background as classes", () => {
    expect(ansiToHtml("a\x1b[1;32mb\x1b[44mc\x1b[0md\x1b[93me")).toBe(
      'a<span class="a-f2 a-bold">b</span><span class="a-f2 a-b4 a-bold">c</span>d<span class="a-f11">e</span>',
    );
  });

  it("maps 256-colour and true-colour codes to the nearest basic colour", () => {
    expect(ansiToHtml("\x1b[38;5;196mred")).toBe('<span class="a-f9">red</span>');
    expect(ansiToHtml("\x1b[38;2;0;200;0mgreen")).toBe('<span class="a-f10">green</span>');
  });

  it("drops other escape sequences (cursor moves, titles) and a lone ESC", () => {
    expect(ansiToHtml("\x1b[2Ka\x1b]0;title\x07b\x1bc")).toBe("abc");
  });

  it("resets on ESC[m and ends a colour at a default-colour code", () => {
    expect(ansiToHtml("\x1b[35mx\x1b[my\x1b[36mz\x1b[39mw")).toBe('<span class="a-f5">x</span>y<span class="a-f6">z</span>w');
  });

  it("gives the plain text to search", () => {
    expect(stripAnsi("\x1b[1;31merror\x1b[0m: boom")).toBe("error: boom");
    expect(escapeHtml("a<b")).toBe("a&lt;b");
  });
});
