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

/** How many problems a rejected reload reports (in the log, the status document and to `vigil reload`). */
export const RELOAD_SHOWN_ISSUES = 200;

/** An invalid manifest: every problem found, ordered by position within each file. */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
  readonly issues: readonly ManifestIssue[];

  constructor(issues: readonly ManifestIssue[], options?: { cause?: unknown }) {
    const sorted = sortIssues(issues);
    super(sorted.map(formatIssue).join("\n"), options);
    this.issues = sorted;
  }

  /**
   * One line per issue: `FILE:LINE:COL: key.path: message`; with a limit, the first `limit` of them
   * and one line that counts the rest (for a status document or a log, which a generated manifest
   * with 30,000 problems should not flood; `vigil check` prints every one, as its contract says).
   */
  format(limit = Number.POSITIVE_INFINITY): string {
    const shown = this.issues.slice(0, limit).map(formatIssue);
    const more = this.issues.length - shown.length;
    if (more > 0) shown.push(`… and ${more} more problems (${this.issues.length} in all; vigil check prints every one)`);
    return shown.join("\n");
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
  return printable(`${issue.file}${position}:${path} ${issue.message}`);
}

/**
 * Keys and values come from the file as they are: a line end would split a problem's line, a control
 * character or a bidi override (the "Trojan Source" trick) would garble or disguise it. They are
 * shown escaped, as are halves of surrogate pairs, which a terminal cannot show.
 */
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const printable = (text: string): string =>
  text.replace(UNPRINTABLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);

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
