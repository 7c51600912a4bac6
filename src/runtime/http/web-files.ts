// The dashboard's files (built into dist/web by `npm run build`), served as they are, with a content
// security policy that allows nothing but this server: no inline script, no other origin, no framing.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** sent with every file: the token may be in the page's address (?t=), so no referrer ever carries it */
export const PAGE_HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
} as const;

/** one plain file name of the folder: no path, no dot file */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface WebFile {
  readonly body: Buffer;
  readonly contentType: string;
}

/** dist/web beside the compiled server; from the sources (tests), the built copy in dist/ */
export function defaultWebDir(): string {
  const candidates = [new URL("../../web/", import.meta.url), new URL("../../../dist/web/", import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((dir) => existsSync(join(dir, "index.html"))) ?? (candidates[0] as string);
}

export class WebFiles {
  /** only files found: a miss is not kept, so random names cannot fill it */
  readonly #cache = new Map<string, WebFile>();

  constructor(readonly dir: string) {}

  /** the file a GET of `path` asks for, or null: `/` is index.html; only files of the folder itself */
  async get(path: string): Promise<WebFile | null> {
    const name = path === "/" ? "index.html" : path.slice(1);
    if (!FILE_NAME.test(name)) return null;
    const type = CONTENT_TYPES[extname(name)];
    if (type === undefined) return null;
    const cached = this.#cache.get(name);
    if (cached) return cached;
    const body = await readFile(join(this.dir, name)).catch(() => null);
    if (body === null) return null;
    const file = { body, contentType: type };
    this.#cache.set(name, file);
    return file;
  }
}
