import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import { quickStatusArgs, type StatusArgs } from "../../src/cli/quick-args.js";

/** what commander hands the status command for these arguments, or the code it refuses them with */
async function viaCommander(args: readonly string[]): Promise<StatusArgs | string> {
  const program = buildProgram().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  let got: StatusArgs | null = null;
  program.commands
    .find((c) => c.name() === "status")!
    .action((names: string[], opts: { file: string; json?: boolean; history?: boolean; watch?: boolean }) => {
      got = { names, file: opts.file, json: opts.json === true || opts.history === true, history: opts.history === true, watch: opts.watch === true };
    });
  try {
    await program.parseAsync(["node", "vigil", ...args]);
  } catch (err) {
    return (err as { code: string }).code;
  }
  return got ?? "no action";
}

describe("quickStatusArgs", () => {
  it("reads every form of `vigil status` exactly as commander does", async () => {
    const forms = [
      ["status"],
      ["status", "--json"],
      ["status", "api", "worker", "--json"],
      ["status", "--json", "api", "-f", "stack.yaml"],
      ["status", "-f", "a.yaml", "-f", "b.yaml"],
      ["status", "--file=x.yaml", "api"],
      ["status", "-fx.yaml"],
      ["status", "-w", "--json"],
      ["status", "--history", "api"],
      ["status", "--json", "--history"],
      ["status", "--watch", "api"],
    ];
    for (const args of forms) {
      const quick = quickStatusArgs(args);
      expect(quick, args.join(" ")).not.toBeNull();
      expect(quick, args.join(" ")).toEqual(await viaCommander(args));
    }
  });

  it("leaves to commander what it refuses or treats specially", async () => {
    const forms = [
      ["status", "--jsn"],
      ["status", "-f"],
      ["status", "-f", "--json"],
      ["status", "--json=yes"],
      ["status", "--help"],
      ["status", "-h"],
      ["status", "--", "-x"],
      ["start", "api"],
      [],
    ];
    for (const args of forms) expect(quickStatusArgs(args), args.join(" ")).toBeNull();
    // the ones commander refuses, it refuses with its own message
    for (const args of [["status", "--jsn"], ["status", "-f"], ["status", "--json=yes"]]) {
      expect(typeof (await viaCommander(args)), args.join(" ")).toBe("string");
    }
  });
});
