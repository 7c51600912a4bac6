export interface ManifestIssue {
  /** as the user gave it (the manifest, or an env_file next to it) */
  readonly file: string;
  /** 1-based; absent when the problem has no position (e.g. the file cannot be read) */
  readonly line?: number;
  readonly col?: number;
  /** dotted key path such as services.api.restart.policy; empty for the whole document */
  readonly path: string;
  readonly message: string;
}

/** An invalid manifest: every problem found, ordered by position within each file. */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
  readonly issues: readonly ManifestIssue[];

  constructor(issues: readonly ManifestIssue[], options?: { cause?: unknown }) {
    const sorted = sortIssues(issues);
    super(sorted.map(formatIssue).join("\n"), options);
    this.issues = sorted;
  }

  /** One line per issue: `FILE:LINE:COL: key.path: message`. */
  format(): string {
    return this.issues.map(formatIssue).join("\n");
  }
}

/** The message for a check that failed unexpectedly: a bug of vigil, told as a problem at the part it checked. */
export function unexpectedProblem(error: unknown): string {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `vigil could not check this (${reason}); please report this as a bug`;
}

export function formatIssue(issue: ManifestIssue): string {
  const position = issue.line === undefined ? "" : `:${issue.line}:${issue.col ?? 1}`;
  const path = issue.path === "" ? "" : ` ${issue.path}:`;
  return `${issue.file}${position}:${path} ${issue.message}`;
}

function sortIssues(issues: readonly ManifestIssue[]): ManifestIssue[] {
  const fileOrder = [...new Set(issues.map((issue) => issue.file))];
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort(
      (a, b) =>
        fileOrder.indexOf(a.issue.file) - fileOrder.indexOf(b.issue.file) ||
        (a.issue.line ?? 0) - (b.issue.line ?? 0) ||
        (a.issue.col ?? 0) - (b.issue.col ?? 0) ||
        a.index - b.index,
    )
    .map(({ issue }) => issue);
}
