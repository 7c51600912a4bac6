// A service's colour, from its name alone: the same in `vigil up`, `vigil attach` and `vigil logs`, on
// every run, whatever else the stack holds. The instances of a replicated service (`web.0`, `web.1`)
// share their service's colour.

/** ANSI foreground codes: the normal and bright colours that read on dark and light terminals alike */
export const PALETTE: readonly number[] = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/** The ANSI colour code of a service (or instance) name. */
export function serviceColor(name: string): number {
  const service = name.replace(/\.\d+$/, "");
  // FNV-1a: cheap, and spreads names that differ in one letter
  let hash = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) {
    hash ^= service.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return PALETTE[hash % PALETTE.length] ?? 36;
}
