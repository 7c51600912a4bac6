// Every object `vigil export kubernetes` writes is valid against the Kubernetes API's OpenAPI schemas
// (kubernetes-models validates offline), read back from the YAML text as kubectl would read it.
import { join } from "node:path";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { exportKubernetes } from "../../src/export/kubernetes.js";
import { joinFiles } from "../../src/export/losses.js";
import { FIXTURES, ROOT, loadAs } from "./load-fixture.js";

const MODELS: Readonly<Record<string, (data: never) => { validate(): void }>> = {
  ConfigMap: (data) => new ConfigMap(data),
  Deployment: (data) => new Deployment(data),
  Job: (data) => new Job(data),
};

function validate(object: { kind?: string }): void {
  const model = MODELS[object.kind ?? ""];
  if (model === undefined) throw new Error(`unexpected kind ${object.kind}`);
  model(object as never).validate();
}

describe("vigil export kubernetes against the Kubernetes schemas", () => {
  it.each([
    ["the example stack", ROOT, "example"],
    ["a manifest with every key", join(FIXTURES, "every-key"), "every-key"],
  ])("writes only valid objects for %s", (_, dir, name) => {
    const result = exportKubernetes(loadAs(dir, name));
    // one stream, as `vigil export kubernetes | kubectl apply -f -` reads it
    const docs = parseAllDocuments(joinFiles(result.files));
    const objects = (Array.isArray(docs) ? docs : []).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as { kind?: string };
    });
    expect(objects).toHaveLength(result.files.length);
    for (const object of objects) expect(() => validate(object)).not.toThrow();
    expect(objects.map((object) => object.kind)).toContain("Deployment");
  });

  it("would notice an invalid object", () => {
    const [deployment] = exportKubernetes(loadAs(ROOT, "example")).files;
    const object = parseAllDocuments(deployment?.text ?? "");
    const js = (Array.isArray(object) ? object[0]?.toJS() : undefined) as { spec: { replicas: unknown } };
    js.spec.replicas = "three";
    expect(() => validate(js as never)).toThrow(/replicas/);
  });

  it("maps every-key's services to the kinds that fit them", () => {
    const kinds = exportKubernetes(loadAs(join(FIXTURES, "every-key"), "every-key")).files.map((file) => file.name);
    // migrate never restarts and api waits for it to complete: a Job; db's env_file: a ConfigMap
    expect(kinds).toEqual([
      "migrate.job.yaml",
      "db-env.configmap.yaml",
      "db.deployment.yaml",
      "api.deployment.yaml",
      "report.deployment.yaml",
      "spare-worker-2.deployment.yaml",
    ]);
  });
});
