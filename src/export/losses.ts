// What a target cannot express. Every loss is printed once on stderr and written as a comment beside
// the unit or object it concerns: an export never drops a key silently.

export type ExportTarget = "systemd" | "kubernetes";

export interface Loss {
  /** the service, or the manifest's file name for stack-wide keys */
  readonly subject: string;
  /** the manifest key as written: `restart.backoff.jitter`, `depends_on.db` */
  readonly key: string;
  readonly why: string;
}

export interface ExportFile {
  /** a file name, no directory */
  readonly name: string;
  readonly text: string;
}

export interface ExportResult {
  readonly files: readonly ExportFile[];
  readonly losses: readonly Loss[];
}

export function lossWarning(loss: Loss, target: ExportTarget): string {
  return `warning: ${loss.subject}: ${loss.key} does not map to ${target}: ${loss.why}`;
}

/** The same loss as a comment line, without the subject (the file it sits in names it). */
export function lossComment(loss: Loss, target: ExportTarget): string {
  return `# ${loss.key} does not map to ${target}: ${oneLine(loss.why)}`;
}

/** All files as one text for stdout, each after a `# --- NAME` line. */
export function joinFiles(files: readonly ExportFile[]): string {
  return files.map((file) => `# --- ${file.name}\n${file.text}`).join("\n");
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}
