// The token: from the login link (?t=, taken out of the address at once) or typed in, kept for this tab
// only (sessionStorage), and sent only as Authorization: Bearer.
const KEY = "vigil-token";

export function takeTokenFromAddress(): void {
  const url = new URL(location.href);
  const token = url.searchParams.get("t");
  if (token === null) return;
  if (token !== "") sessionStorage.setItem(KEY, token);
  url.searchParams.delete("t");
  history.replaceState(null, "", `${url.pathname}${url.search}${url.hash}`);
}

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** POSTs an action; the answer's error in words, or null when it was accepted */
export async function act(path: string, body: unknown = {}): Promise<string | null> {
  const res = await fetch(path, {
    method: "POST",
    headers: { ...authHeaders(), "content-type": "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
  }).catch((err: Error) => err);
  if (res instanceof Error) return `the supervisor cannot be reached: ${res.message}`;
  if (res.ok) return null;
  const answer = (await res.json().catch(() => ({}))) as { error?: string };
  return `${res.status}: ${answer.error ?? res.statusText}`;
}
