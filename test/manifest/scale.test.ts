// The loader's work grows with the size of the manifest, not with its square. These tests hold no
// timed assertions: before, the first two took minutes and failed on the suite's timeout, and now
// take seconds; bench/manifest.bench.js has the figures.
import { describe, expect, it } from "vitest";
import { ManifestError } from "../../src/manifest/errors.js";
import { parseManifest } from "../../src/manifest/load.js";

/** One line per service: `  svc-I: { command: sleep 600, EXTRA }` from line 3 on. */
function services(count: number, extra: (i: number) => string = () => ""): string {
  const out = ["version: 1", "services:"];
  for (let i = 0; i < count; i++) out.push(`  svc-${i}: { command: sleep 600${extra(i)} }`);
  return `${out.join("\n")}\n`;
}

function rejection(text: string): ManifestError {
  try {
    parseManifest(text, "supervisor.yaml");
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error("expected the manifest to be rejected");
}

// The timeout is a guard against the quadratic loader coming back (minutes), not a measure: a file of
// 60,000 services takes 5 s alone and took 35 s inside the suite beside a CPU hog on a slow machine.
describe("a manifest at scale", { timeout: 120_000 }, () => {
  // 300 services took 4.5 s and 500 took 18 s, in "did you mean" and in finding each problem's node
  it("reports 3,000 services with 10 unknown depends_on targets each, every one located", () => {
    const unknown = (i: number): string => `, depends_on: [${Array.from({ length: 10 }, (_, j) => `missing-${i}-${j}`).join(", ")}]`;
    const issues = rejection(services(3_000, unknown)).issues;
    expect(issues).toHaveLength(30_000);
    expect(issues[29_999]).toMatchObject({ line: 3_002, col: 192, path: "services.svc-2999.depends_on.9", message: 'unknown service "missing-2999-9"' });
  });

  // 30,000 took 13.6 s, in the YAML parser's check for duplicate keys and in ordering the names
  it("accepts 60,000 valid services, in the order written", () => {
    const names = parseManifest(services(60_000), "/srv/supervisor.yaml").services.map((s) => s.name);
    expect(names).toHaveLength(60_000);
    expect(names.slice(0, 3)).toEqual(["svc-0", "svc-1", "svc-2"]);
  });

  it("still finds a duplicate key among 60,000", () => {
    const text = `${services(60_000)}  svc-7: { command: again }\n`;
    expect(rejection(text).format()).toBe("supervisor.yaml:60003:3: Map keys must be unique");
  });

  it("reports a dependency cycle through 20,000 services without running out of stack", () => {
    const chain = (i: number): string => `, depends_on: [svc-${(i + 1) % 20_000}]`;
    const [cycle, ...others] = rejection(services(20_000, chain)).issues;
    expect(others).toEqual([]);
    expect(cycle).toMatchObject({
      line: 3,
      path: "services.svc-0.depends_on.0",
      message: "dependency cycle: svc-0 -> svc-1 -> svc-2 -> svc-3 -> svc-4 -> svc-5 -> … 19991 more -> svc-19997 -> svc-19998 -> svc-19999 -> svc-0",
    });
  });

  it("suggests a close name for an unknown target among 10,000", () => {
    const typo = (i: number): string => (i === 9_999 ? ", depends_on: [svc-1234S]" : "");
    expect(rejection(services(10_000, typo)).format()).toBe(
      'supervisor.yaml:10002:48: services.svc-9999.depends_on.0: unknown service "svc-1234S", did you mean "svc-1234"?',
    );
  });
});
