// Kubernetes object names are DNS labels: lowercase letters, digits and '-', at most 63.

export function dnsLabel(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");
  return label === "" ? "service" : label;
}

/** Each service's object name; two that would meet get -2, -3, … */
export function objectNames(services: readonly string[]): Map<string, string> {
  const taken = new Set<string>();
  const names = new Map<string, string>();
  for (const service of services) {
    const base = dnsLabel(service);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base.slice(0, 60)}-${n}`;
    taken.add(name);
    names.set(service, name);
  }
  return names;
}
