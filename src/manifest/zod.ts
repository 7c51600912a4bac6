// The part of zod that vigil uses, as one module. Imported whole, zod's package loads every module it
// has, each of its sixty locales and its JSON Schema reader among them: 94 modules more, 2 MiB more
// of the heap of a supervisor of 1,000 services (BENCHMARKS.md). `npm run build` bundles this file with just what it needs
// of zod into dist/manifest/zod.js (scripts/build-zod.js); tests and the type check read it as written.
export { array, boolean, enum, int, literal, NEVER, number, record, registry, strictObject, string, superRefine, toJSONSchema, union } from "zod";
export type { input, output, ZodOptional, ZodType } from "zod";
export type * as core from "zod/v4/core";
