// The terminal or pipe of `vigil up` may go away while it runs (`vigil up | head -3`, a closed terminal,
// a reader killed by Ctrl-C). Losing it must not stop supervision: children's output still goes to
// STATE_DIR/logs and the supervisor's to vigil.log.

export interface LosableOutput {
  write(text: string): boolean;
  /** true once a write has failed: nothing more is written */
  readonly lost: boolean;
}

/** `stream`, writing nothing more once it fails (EPIPE, EIO); `onLost` hears of the first failure. */
export function losable(stream: NodeJS.WriteStream, onLost: (err: NodeJS.ErrnoException) => void): LosableOutput {
  let lost = false;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (lost) return;
    lost = true;
    onLost(err);
  });
  return {
    write(text) {
      if (lost || stream.destroyed) return false;
      return stream.write(text);
    },
    get lost() {
      return lost;
    },
  };
}
