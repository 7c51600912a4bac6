// The JSON Schema of supervisor.yaml as written, for editors (yaml-language-server, VS Code).
import * as z from "./zod.js";
import { inputAnnotations, manifestSchema } from "./schema.js";

export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, {
    io: "input",
    target: "draft-2020-12",
    override: ({ zodSchema, jsonSchema }) => {
      const annotations = inputAnnotations.get(zodSchema);
      if (annotations?.default !== undefined) jsonSchema.default = annotations.default;
      if (annotations?.examples !== undefined) jsonSchema.examples = annotations.examples;
    },
  });
  const { $schema, ...rest } = schema;
  return { $schema, title: "vigil supervisor.yaml", ...rest };
}
