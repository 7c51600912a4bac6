// Valid manifests the fuzzer starts from: the repository's own, the SPEC's example, and one that
// uses every top-level key, so that every key of the schema is somewhere to be mutated.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const REPO_MANIFEST = readFileSync(resolve(import.meta.dirname, "../../supervisor.yaml"), "utf8");

const SPEC_EXAMPLE = `version: 1
state_dir: .vigil
defaults:
  restart:
    policy: on-failure
    backoff: { initial: 200ms, factor: 2, max: 30s, jitter: 0.1, reset_after: 60s }
    max_restarts: 10
    window: 5m
  stop: { signal: SIGTERM, timeout: 10s }
services:
  db:
    command: [postgres, -D, data]
  api:
    command: node examples/api.js --port 3000
    shell: false
    cwd: examples
    env: { PORT: "3000" }
    env_file: .env
    depends_on: [db]
    restart: { policy: always, max_restarts: 5 }
    stop: { timeout: 3s }
    heartbeat:
      via: ipc
      interval: 5s
      misses: 3
      startup_grace: 30s
    logs: { stale_after: 10m }
    limits: { memory: 512MiB, cpu: 95%, for: 30s }
    probes:
      liveness: { http: "http://127.0.0.1:3000/health", interval: 10s, timeout: 2s, failures: 3 }
      readiness: { tcp: "127.0.0.1:3000" }
`;

const EVERY_KEY = `version: 1
state_dir: run/vigil
defaults:
  restart: { policy: always, backoff: { initial: 0, factor: 1 } }
  stop: { signal: INT, timeout: 2s }
  logs: { max_size: 1MB, keep: 2, stale_after: 1h }
http:
  listen: 127.0.0.1:9876
  token_env: VIGIL_TOKEN
resources: { interval: 2s }
checks:
  disk: { path: /var, warn: 80%, critical: 90% }
alerts:
  - on: [failed, fatal, restart]
    services: [api]
    webhook: https://hooks.example.com/vigil
  - on: [fatal, recovered]
    url_env: SLACK_WEBHOOK_URL
    format: slack
    cooldown: 10m
    retries: 5
    retry_backoff: 2s
  - on: [fatal]
    telegram: { token_env: TG_TOKEN, chat_id_env: TG_CHAT, api_url: "https://tg.example.com" }
  - on: [degraded, critical]
    command: ./notify.sh --loud
    shell: false
    timeout: 3s
services:
  worker: &worker
    description: takes jobs
    command: node worker.js "a b" 'c d' \\$HOME
    env_file: worker.env
    depends_on: { api: healthy, db: started }
    heartbeat: { via: socket, interval: 1s, misses: 2, startup_grace: 0 }
    probes:
      readiness: { exec: "test -f /tmp/ready && exit 0", shell: true, initial_delay: 1s }
  worker-2:
    <<: *worker
    depends_on: [worker]
  db: { command: [postgres] }
  api:
    command: node api.js
    limits: { cpu: 150% }
`;

export const SEEDS: readonly string[] = [REPO_MANIFEST, SPEC_EXAMPLE, EVERY_KEY];
