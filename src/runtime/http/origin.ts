// Browsers send Origin with every POST; one that is not this server's is a page elsewhere trying to act
// through the user's browser, which the token kept in the tab would otherwise let through.
// No Origin at all is a program (curl, a script), which the bearer token alone admits.
import type { IncomingMessage } from "node:http";

/** why the request comes from another origin, or null when it is same-origin or not from a browser */
export function crossOriginReason(req: Pick<IncomingMessage, "headers">): string | null {
  const origin = req.headers.origin;
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") return `a ${site} request (Sec-Fetch-Site) may not act`;
  if (origin === undefined) return null;
  if (origin === "null") return "a request from an opaque origin (Origin: null) may not act";
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `malformed Origin header: ${origin.slice(0, 100)}`;
  }
  const host = req.headers.host?.toLowerCase();
  if (url.protocol !== "http:" || host === undefined || url.host.toLowerCase() !== host) {
    return `a request from ${url.origin} may not act on this server (${host ?? "no Host header"})`;
  }
  return null;
}
