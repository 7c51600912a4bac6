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

/**
 * On a loopback listener, whose reads need no token: why the Host header says the request was meant
 * for another name, or null. A page of any site can make its own name resolve to 127.0.0.1 (DNS
 * rebinding) and read what it fetches from it as same-origin: the status and the children's output.
 * Loopback names (localhost and *.localhost, 127.0.0.0/8, ::1) and the listen address pass; so does a
 * request without Host (HTTP/1.0 programs: no browser sends one).
 */
export function foreignHostReason(req: Pick<IncomingMessage, "headers">, listenHost: string): string | null {
  const raw = req.headers.host;
  if (raw === undefined) return null;
  const host = hostName(raw.trim().toLowerCase());
  if (host === listenHost.toLowerCase() || host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host)) return null;
  return (
    `Host ${raw.slice(0, 100)} is not a name of this loopback server: send the bearer token, or have a proxy ` +
    "pass Host as the address vigil listens on"
  );
}

/** the name or address of a Host header, without its port or an IPv6 address's brackets */
function hostName(host: string): string {
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    return host.slice(1, close === -1 ? undefined : close);
  }
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}
