// The status document as JSON text, a service at a time. Beat data is bounded where it comes in
// (core/data-bounds.ts); should any still be more than JSON.stringify can write (too deep for its
// stack, a BigInt), it costs that one service its data, never the document of the whole stack.
import { outsideJson } from "./outside-doc.js";
import type { ServiceDoc, StatusDocument } from "./status-document.js";

export function serviceDocJson(doc: ServiceDoc): string {
  try {
    return JSON.stringify(doc);
  } catch {
    return JSON.stringify({ ...doc, last_beat_data: null });
  }
}

export function statusDocJson(doc: StatusDocument): string {
  return `{"supervisor":${JSON.stringify(doc.supervisor)},"services":[${doc.services.map(serviceDocJson).join(",")}]${outsideJson(doc)}}`;
}
