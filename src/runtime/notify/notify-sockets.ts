// The notify sockets of `heartbeat.via: notify` (SPEC §6.3): one AF_UNIX datagram socket per child,
// given to it as NOTIFY_SOCKET and closed when it has exited. The protocol carries no token, so the
// socket a datagram arrives on says which child sent it; the file's mode (0600, in the 0700 state
// directory) is the access control. unix-dgram does not receive SCM_CREDENTIALS, so the sender's pid is
// not checked: any process of the user that can reach the file may speak for the child.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_NOTIFY_BYTES, parseNotify } from "../../core/notify-message.js";
import type { InstanceId } from "../../core/stack/ids.js";
import type { Input } from "../../core/stack/inputs.js";
import type { Logger } from "../outputs/logger.js";
import { loadUnixDgram, type DgramSocket } from "./unix-dgram.js";

/** the longest path a sockaddr_un holds: 108 bytes with the NUL at its end on Linux, 104 on macOS and the BSDs */
export const MAX_SOCKET_PATH_BYTES = process.platform === "linux" ? 107 : 103;
/** room for the socket's own name in the directory: a spawn number */
const NAME_ROOM = "/4294967295";

interface Open {
  readonly incarnation: number;
  readonly path: string;
  readonly socket: DgramSocket;
}

export type Opened = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly error: string };

export class NotifySockets {
  #dir: string | null = null;
  #spawns = 0;
  readonly #open = new Map<InstanceId, Open>();
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(
    private readonly stateDir: string,
    private readonly post: (input: Input) => void,
    private readonly logger: Logger,
  ) {}

  /** A socket for the child `incarnation` of `id`; the instance's earlier one is closed. */
  open(id: InstanceId, incarnation: number, service: string): Opened {
    const dgram = loadUnixDgram();
    if (!dgram.ok) return { ok: false, error: `cannot open a notify socket: ${dgram.why}` };
    this.#close(id);
    let path = "";
    try {
      path = join(this.#directory(), String(++this.#spawns));
      const socket = dgram.module.createSocket("unix_dgram");
      let bindError: Error | null = null;
      socket.once("error", (err) => (bindError = err));
      socket.bind(path);
      if (bindError) throw bindError;
      socket.on("error", (err) => this.logger.log("error", service, "notify-socket", `notify socket ${path}: ${err.message}`));
      socket.on("message", (buf) => this.#received(id, incarnation, service, buf));
      chmodSync(path, 0o600);
      this.#open.set(id, { incarnation, path, socket });
      return { ok: true, path };
    } catch (err) {
      return { ok: false, error: `cannot open a notify socket${path ? ` at ${path}` : ""}: ${(err as Error).message}` };
    }
  }

  /** The child has exited (or never started): its socket goes with it. */
  ended(id: InstanceId, incarnation: number): void {
    if (this.#open.get(id)?.incarnation === incarnation) this.#close(id);
  }

  forget(id: InstanceId): void {
    this.#close(id);
  }

  close(): void {
    for (const id of [...this.#open.keys()]) this.#close(id);
    if (this.#dir !== null) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = null;
  }

  #received(id: InstanceId, incarnation: number, service: string, buf: Buffer | null): void {
    if (buf === null) return;
    if (buf.length > MAX_NOTIFY_BYTES) return this.post({ type: "MessageRejected", kind: "datagram-too-long", service });
    let text: string;
    try {
      text = this.#decoder.decode(buf);
    } catch {
      return this.post({ type: "MessageRejected", kind: "bad-datagram", service });
    }
    const datagram = parseNotify(text);
    if (datagram.ignored.length > 0) {
      this.logger.log("debug", service, "notify-ignored", `notify: ignored ${datagram.ignored.join(", ")} (not used by vigil)`);
    }
    this.post({ type: "NotifyReceived", id, incarnation, datagram });
  }

  #close(id: InstanceId): void {
    const open = this.#open.get(id);
    if (!open) return;
    this.#open.delete(id);
    open.socket.removeAllListeners("message");
    try {
      open.socket.close();
    } catch {
      // already closed
    }
    try {
      unlinkSync(open.path);
    } catch {
      // gone with its directory
    }
  }

  /**
   * STATE_DIR/notify, emptied of what a killed predecessor left; where that path leaves no room for a
   * socket's name within sun_path, a fresh private directory under the temporary directory instead.
   */
  #directory(): string {
    if (this.#dir !== null) return this.#dir;
    const inState = join(this.stateDir, "notify");
    if (Buffer.byteLength(inState + NAME_ROOM) <= MAX_SOCKET_PATH_BYTES) {
      rmSync(inState, { recursive: true, force: true });
      mkdirSync(inState, { mode: 0o700 });
      this.#dir = inState;
      return inState;
    }
    const temp = mkdtempSync(join(tmpdir(), "vigil-notify-"));
    if (Buffer.byteLength(temp + NAME_ROOM) > MAX_SOCKET_PATH_BYTES || !lstatSync(temp).isDirectory()) {
      rmSync(temp, { recursive: true, force: true });
      throw new Error(`the state directory ${this.stateDir} and the temporary directory are too long for a socket path (at most ${MAX_SOCKET_PATH_BYTES} bytes)`);
    }
    this.logger.log("info", null, "notify-dir", `notify sockets are in ${temp}: the state directory's path is too long for a socket path (at most ${MAX_SOCKET_PATH_BYTES} bytes)`);
    this.#dir = temp;
    return temp;
  }
}
