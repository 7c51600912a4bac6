// `watch.ignore`: a plain name (node_modules, .git) is ignored wherever it appears as a path segment;
// a pattern with `/` or a wildcard is a glob matched against the path relative to the service's cwd:
// `*` and `?` within one segment, `**` across any number of them.
import { isAbsolute, relative, sep } from "node:path";

export type IgnoreTest = (path: string) => boolean;

export function ignoreRules(patterns: readonly string[], cwd: string): IgnoreTest {
  const names = new Set(patterns.filter((p) => !/[/*?]/.test(p)));
  const globs = patterns.filter((p) => /[/*?]/.test(p)).map(globToRegExp);
  return (path) => {
    const rel = isAbsolute(path) ? relative(cwd, path) : path;
    const segments = rel.split(sep);
    if (segments.some((s) => names.has(s))) return true;
    const posix = segments.join("/");
    return globs.some((g) => g.test(posix));
  };
}

export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      // `**/` is any number of whole segments, none included; a trailing `**` is anything
      if (glob[i + 2] === "/") {
        out += "(?:.*/)?";
        i += 2;
      } else {
        out += ".*";
        i += 1;
      }
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[\\^$.+()[\]{}|]/g, "\\$&");
  }
  // a directory pattern ignores what is inside it too
  return new RegExp(`^${out.replace(/^\.\//, "")}(?:/.*)?$`);
}
