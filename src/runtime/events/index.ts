import type { Manifest } from "../../manifest/types.js";
import type { Logger } from "../logger.js";
import type { EventSink } from "./event.js";

/** The sinks a stack's events go to. (The journal and alert rules plug in here.) */
export function createEventSinks(_manifest: Manifest, _logger: Logger): EventSink[] {
  return [];
}
