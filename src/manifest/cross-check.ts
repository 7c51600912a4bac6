// Checks across the keys of one mapping ("exactly one of http, tcp or exec"). zod runs them even
// when some keys failed, so that every problem is reported at once; they therefore see whatever
// got through: a key may be missing, of any type, or the raw input of a failed transform. The
// check is given the fields as unknowns, and runs only when the value is a mapping at all (`null`
// and lists are the type check's to report).
import * as z from "./zod.js";
import { unexpectedProblem } from "./errors.js";

export type Fields = Readonly<Record<string, unknown>>;

export const isFields = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

type Check = (fields: Fields, ctx: z.core.$RefinementCtx<Fields>) => void;

export function crossCheck(check: Check): z.core.$ZodCheck<Fields> {
  return z.superRefine<Fields>(
    (fields, ctx) => {
      try {
        check(fields, ctx);
      } catch (error) {
        // a check that cannot cope with some input must still leave the user a located problem
        ctx.addIssue({ code: "custom", message: unexpectedProblem(error), input: fields });
      }
    },
    { when: (payload) => isFields(payload.value) },
  );
}
