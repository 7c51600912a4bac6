// The stack → Kubernetes: for each service a Deployment or a Job, and a ConfigMap for its env_file.
import { basename } from "node:path";
import { Document } from "yaml";
import { dnsLabel, objectNames } from "./kubernetes-names.js";
import { serviceObjects, type K8sObject } from "./kubernetes-workload.js";
import { lossComment, type ExportFile, type ExportResult, type Loss } from "./losses.js";
import { completedDependencies, stackLosses, type ExportInput } from "./stack.js";

export function exportKubernetes(input: ExportInput): ExportResult {
  const { manifest } = input;
  const ctx = {
    input,
    names: objectNames(manifest.services.map((service) => service.name)),
    jobs: completedDependencies(manifest),
    stackLabel: dnsLabel(input.stackName),
  };
  const stackWide = stackLosses(manifest, "kubernetes");
  const files: ExportFile[] = [];
  const losses: Loss[] = [...stackWide];
  manifest.services.forEach((service, index) => {
    const mapped = serviceObjects(service, ctx);
    losses.push(...mapped.losses);
    for (const object of mapped.objects) {
      // the workload carries the service's losses; the first one also the stack's
      const workload = object.kind !== "ConfigMap";
      const comments = workload ? [...(index === 0 ? stackWide : []), ...mapped.losses] : [];
      files.push(render(object, `${service.name} from ${basename(manifest.file)}, written by vigil export kubernetes`, comments));
    }
  });
  return { files, losses };
}

function render(object: K8sObject, header: string, losses: readonly Loss[]): ExportFile {
  const doc = new Document(object, { aliasDuplicateObjects: false });
  doc.commentBefore = [header, ...losses.map((loss) => lossComment(loss, "kubernetes").slice(1))].map((line) => ` ${line.trimStart()}`).join("\n");
  return { name: `${object.metadata.name}.${object.kind.toLowerCase()}.yaml`, text: `---\n${doc.toString({ lineWidth: 0 })}` };
}
