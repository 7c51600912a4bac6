// Tests that need root (another uid's files) run in CI, which runs as root, and are skipped on a
// developer's laptop.

export const isRoot = process.getuid?.() === 0;

/** a uid that owns nothing on the machine, for files "of another user" */
export const OTHER_UID = 12345;
