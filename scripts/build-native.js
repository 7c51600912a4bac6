// Builds native/spawn.c into build/Release/vigil_spawn.node with node-gyp (the one npm carries), on Linux
// only, and only when the source is newer than what was built. Run by `npm run build`, so by `npm ci`.
// A machine that cannot build it (no compiler, no Node headers) still gets a working vigil, which then
// spawns through node:child_process: this says so and does not fail the install.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const built = join(root, "build", "Release", "vigil_spawn.node");
const sources = [join(root, "native", "spawn.c"), join(root, "binding.gyp")];

if (process.platform !== "linux") process.exit(0);
const mtime = (path) => statSync(path).mtimeMs;
if (existsSync(built) && sources.every((source) => mtime(source) <= mtime(built))) process.exit(0);

const nodeGyp = process.env.npm_config_node_gyp ?? join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
// the headers of the Node that runs this, where it has them (npm sets nodedir; by hand, the install's own
// include/node), so that node-gyp need not download them
const ownHeaders = resolve(dirname(process.execPath), "..");
const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(ownHeaders, "include", "node", "node_api.h")) ? ownHeaders : undefined);
const args = [nodeGyp, "rebuild", "--silent", ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const run = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
if (run.status !== 0) {
  console.error(
    "vigil: the native spawn (native/spawn.c) could not be built; vigil will spawn through node:child_process, " +
      "which forks the supervisor at every start (slower restarts). It needs python3, make, a C compiler and Node's headers.",
  );
}
