import { readFileSync } from "node:fs";
import { parse } from "yaml";

/** Service names declared in the manifest, read leniently so that a broken edit hides neither logs nor completions. */
export function manifestNames(file: string): string[] {
  try {
    const doc: unknown = parse(readFileSync(file, "utf8"));
    const services = doc && typeof doc === "object" ? (doc as { services?: unknown }).services : undefined;
    return services && typeof services === "object" && !Array.isArray(services) ? Object.keys(services) : [];
  } catch {
    return [];
  }
}
