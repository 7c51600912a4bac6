// Instances: a service with `replicas: N` runs N of them (SPEC §6.1). Inside the supervisor an instance
// is known by service and index, which a scale never changes; people see `web` for a single instance
// and `web.0` … `web.N-1` for replicas.

/** `web#0`: stable across scaling, never shown */
export type InstanceId = string;

export function instanceId(service: string, index: number): InstanceId {
  return `${service}#${index}`;
}

/** `web` while the service has one instance, `web.1` when it has several */
export function instanceName(service: string, index: number, replicas: number): string {
  return replicas === 1 && index === 0 ? service : `${service}.${index}`;
}

/** instances of one service at most (the manifest's `replicas` and `vigil scale`) */
export const MAX_REPLICAS = 1000;
