import { isUtf8 } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { invalidUtf8At, NotUtf8Error, utf8Text } from "../../src/manifest/read-bounded.js";

describe("utf8Text", () => {
  it("finds the first byte that is not UTF-8 wherever Node's own check says the bytes are not, and none where it says they are", () => {
    // bytes near UTF-8: well-formed text with sequences put in that start like a multi-byte character,
    // the edge cases (overlong forms, surrogates, beyond U+10FFFF) most of all
    const lead = fc.oneof(fc.integer({ min: 0x80, max: 0xff }), fc.constantFrom(0xc0, 0xc1, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5));
    const sequence = fc.tuple(lead, fc.array(fc.integer({ min: 0x70, max: 0xc0 }), { maxLength: 3 })).map(([first, rest]) => [first, ...rest]);
    const bytes = fc
      .tuple(fc.string({ unit: "binary" }), fc.array(fc.tuple(fc.nat(), sequence), { maxLength: 3 }))
      .map(([text, inserts]) => {
        let b = Buffer.from(text);
        for (const [at, seq] of inserts) {
          const i = at % (b.length + 1);
          b = Buffer.concat([b.subarray(0, i), Buffer.from(seq), b.subarray(i)]);
        }
        return b;
      });
    fc.assert(
      fc.property(bytes, (b) => {
        const at = invalidUtf8At(b);
        if (isUtf8(b)) return at === b.length;
        // the text before it is whole, and it is where the text stops being UTF-8
        return at < b.length && isUtf8(b.subarray(0, at));
      }),
      { numRuns: 2000 },
    );
  });

  it("says where, in lines and characters, and which byte", () => {
    const b = Buffer.concat([Buffer.from("a: 1\nb: \u00e9\u{1F600}x"), Buffer.from([0xff]), Buffer.from("\n")]);
    const error = (() => {
      try {
        utf8Text(b);
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(NotUtf8Error);
    // column in UTF-16 units, as the YAML parser counts them: b, :, space, é, 😀 (two), x
    expect(error).toMatchObject({ line: 2, col: 8, byte: 0xff });
    expect((error as Error).message).toBe("byte 0xFF is not UTF-8 text (save the file as UTF-8)");
    expect(utf8Text(Buffer.from("caf\u00e9\n"))).toBe("caf\u00e9\n");
    // at the very start, with newlines after it
    expect(() => utf8Text(Buffer.from([0xff, 0x0a, 0x61, 0x0a]))).toThrow(expect.objectContaining({ line: 1, col: 1, byte: 0xff }));
  });
});
