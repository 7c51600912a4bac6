#!/usr/bin/env python3
"""A Python worker that sends vigil heartbeats with the standard library only.

Over Node's IPC channel when vigil started it with `via: ipc` (NODE_CHANNEL_FD is set),
otherwise over the Unix socket in VIGIL_SOCKET. Outside vigil it just works.
"""
import json
import os
import signal
import socket
import sys
import time

RETRY_AFTER_S = 1.0


class Heartbeat:
    def __init__(self):
        self.service = os.environ.get("VIGIL_SERVICE")
        self.token = os.environ.get("VIGIL_TOKEN", "")
        self.socket_path = os.environ.get("VIGIL_SOCKET")
        self.interval_s = float(os.environ.get("VIGIL_HEARTBEAT_MS") or 5000) / 1000
        channel_fd = os.environ.get("NODE_CHANNEL_FD")
        json_channel = os.environ.get("NODE_CHANNEL_SERIALIZATION_MODE", "json") == "json"
        self.ipc_fd = int(channel_fd) if channel_fd and json_channel else None
        self.sock = None
        self.retry_at = 0.0
        if not self.service:
            self.transport = "none"
        elif self.ipc_fd is not None:
            self.transport = "ipc"
        elif self.socket_path:
            self.transport = "socket"
        else:
            self.transport = "none"

    def send(self, message):
        """Sends one message; a missing or broken supervisor never stops the work."""
        if self.transport == "none":
            return
        line = (json.dumps({"service": self.service, "token": self.token, **message}) + "\n").encode()
        try:
            if self.transport == "ipc":
                os.write(self.ipc_fd, line)
            else:
                self._socket().sendall(line)
        except OSError:
            self._drop_socket()

    def _socket(self):
        if self.sock is None:
            if time.monotonic() < self.retry_at:
                raise ConnectionRefusedError("waiting before the next try")
            self.retry_at = time.monotonic() + RETRY_AFTER_S
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(1.0)  # a stuck supervisor must not stall the work for long
            try:
                sock.connect(self.socket_path)
            except OSError:
                sock.close()
                raise
            self.sock = sock
        return self.sock

    def _drop_socket(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def main():
    hb = Heartbeat()
    print(f"beat.py: starting (pid {os.getpid()}, heartbeats over {hb.transport})", flush=True)

    def stop(_signum, _frame):
        hb.send({"type": "stopping"})
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    hb.send({"type": "ready"})
    n = 0
    while True:
        n += 1
        print(f"beat.py: unit of work {n}", flush=True)
        hb.send({"type": "beat", "data": {"n": n}})
        time.sleep(hb.interval_s / 2)


if __name__ == "__main__":
    main()
