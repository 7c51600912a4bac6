// Run by `npm run build` after tsc: writes schema/supervisor.schema.json from the zod schema.
import { mkdir, writeFile } from "node:fs/promises";
import { manifestJsonSchema } from "../dist/manifest/json-schema.js";

const target = new URL("../schema/supervisor.schema.json", import.meta.url);
await mkdir(new URL(".", target), { recursive: true });
await writeFile(target, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
