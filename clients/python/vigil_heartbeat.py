"""Heartbeats, readiness, status and in-flight tasks for a Python child of vigil.

One file, the standard library only, Python 3.9 or later: copy it next to your program, or put the
directory that holds it (``node_modules/vigil/clients/python``) on ``PYTHONPATH``.

    import vigil_heartbeat

    hb = vigil_heartbeat.heartbeat(data=lambda: {"queue": len(jobs)})  # beats every half interval
    hb.ready()                       # dependants waiting for `healthy` may start
    hb.status("warming cache")
    with hb.task("req-42", "summarise") as task:
        ...
        task.progress()              # no progress for tasks.stale_after: one warning
    hb.beat({"queue": 3})            # a beat of your own, with data

Outside vigil (no VIGIL_SERVICE in the environment) every call does nothing. No call ever raises
because the supervisor is missing, slow or gone, and the beat thread is a daemon: it never keeps the
process alive. The messages go over Node's IPC channel when vigil started the child with
``heartbeat.via: ipc``, as systemd notify datagrams (beats, ready, status) when it gave NOTIFY_SOCKET
(``via: notify``), and otherwise over the Unix socket in VIGIL_SOCKET; tasks go over IPC or the socket.
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
from typing import Any, Callable, Optional

__all__ = ["heartbeat", "Heartbeat", "Task", "DEFAULT_HEARTBEAT_MS"]

DEFAULT_HEARTBEAT_MS = 5000
MAX_LINE_BYTES = 64 * 1024
MAX_DATA_BYTES = 16 * 1024
MAX_DATA_DEPTH = 32
MAX_STATUS_CHARS = 8 * 1024
MAX_TASK_NAME = 256
SEND_TIMEOUT_S = 1.0
RETRY_AFTER_S = 1.0


def heartbeat(
    data: Optional[Callable[[], Any]] = None,
    auto: bool = True,
    interval_ms: Optional[float] = None,
    environ: Optional[dict] = None,
) -> "Heartbeat":
    """Connects to the supervisor that started this process; beats every half interval unless auto=False."""
    return Heartbeat(data=data, auto=auto, interval_ms=interval_ms, environ=environ)


class Task:
    """An open task: progress() as work goes on, end() (or leave the ``with`` block) when done."""

    def __init__(self, hb: "Heartbeat", task_id: str) -> None:
        self.id = task_id
        self._hb = hb
        self._ended = False

    def progress(self) -> None:
        if not self._ended:
            self._hb._send({"type": "task", "id": self.id, "event": "progress"})

    def end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._hb._send({"type": "task", "id": self.id, "event": "end"})

    def __enter__(self) -> "Task":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.end()


class Heartbeat:
    def __init__(
        self,
        data: Optional[Callable[[], Any]] = None,
        auto: bool = True,
        interval_ms: Optional[float] = None,
        environ: Optional[dict] = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.service = env.get("VIGIL_SERVICE") or None
        self._token = env.get("VIGIL_TOKEN") or ""
        self._socket_path = env.get("VIGIL_SOCKET") or None
        self.interval_ms = _positive(interval_ms) or _positive(env.get("VIGIL_HEARTBEAT_MS")) or DEFAULT_HEARTBEAT_MS
        channel = env.get("NODE_CHANNEL_FD")
        json_channel = env.get("NODE_CHANNEL_SERIALIZATION_MODE", "json") == "json"
        self._ipc_fd = int(channel) if channel and channel.isdigit() and json_channel else None
        notify = env.get("NOTIFY_SOCKET") or None
        # an abstract socket (@name) is not vigil's
        self._notify_path = notify if notify and notify.startswith("/") else None
        self._data = data
        self._lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self._retry_at = 0.0
        self._stopped = threading.Event()
        self._thread: Optional[threading.Thread] = None
        if not self.service:
            self.transport = "none"
        elif self._ipc_fd is not None:
            self.transport = "ipc"
        elif self._notify_path is not None:
            self.transport = "notify"
        elif self._socket_path and self._token:
            self.transport = "socket"
        else:
            self.transport = "none"
        if self.transport == "ipc":
            try:
                # a supervisor that does not read must not block the child: writes wait at most SEND_TIMEOUT_S
                os.set_blocking(self._ipc_fd, False)  # type: ignore[arg-type]
            except OSError:
                self.transport = "none"
        if auto and self.transport != "none":
            self._thread = threading.Thread(target=self._beat_loop, name="vigil-heartbeat", daemon=True)
            self._thread.start()

    # what a child says

    def beat(self, data: Any = None) -> None:
        message: dict = {"type": "beat"}
        if data is not None and _data_fits(data):
            message["data"] = data
        self._send(message)

    def ready(self) -> None:
        self._send({"type": "ready"})

    def status(self, text: str) -> None:
        self._send({"type": "status", "text": str(text)[:MAX_STATUS_CHARS]})

    def task(self, task_id: str, name: Optional[str] = None) -> Task:
        """Reports a task as started; the Task (also a context manager) reports progress and its end."""
        task_id = str(task_id)
        message: dict = {"type": "task", "id": task_id, "event": "start"}
        if name is not None:
            message["name"] = str(name)[:MAX_TASK_NAME]
        self._send(message)
        return Task(self, task_id)

    def stop(self) -> None:
        """Says "stopping" (silence from now on is no hang), ends the beat thread and lets go of the socket."""
        if self._stopped.is_set():
            return
        self._send({"type": "stopping"})
        self.close()

    def close(self) -> None:
        """Ends the beat thread and lets go of the socket, saying nothing."""
        self._stopped.set()
        with self._lock:
            self._drop_socket()

    def __enter__(self) -> "Heartbeat":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # how it gets there

    def _beat_loop(self) -> None:
        period_s = max(0.001, self.interval_ms / 2000)
        while True:
            try:
                data = self._data() if self._data is not None else None
            except Exception:
                data = None  # a failing payload must not cost the beat
            self.beat(data)
            if self._stopped.wait(period_s):
                return

    def _send(self, message: dict) -> None:
        if self.transport == "none" or self._stopped.is_set():
            return
        try:
            if self.transport == "notify" and message["type"] != "task":
                self._send_notify(message)
                return
            line = _line({"service": self.service, "token": self._token, **message})
            if line is None:
                return
            with self._lock:
                if self.transport == "ipc":
                    self._write_ipc(line)
                else:
                    self._send_line(line)
        except Exception:
            pass  # the child's work matters more than one message

    def _send_line(self, line: bytes) -> None:
        if self._socket_path is None or not self._token:
            return
        for attempt in range(2):
            sock = self._connected()
            if sock is None:
                return
            try:
                sock.sendall(line)
                return
            except OSError:
                self._drop_socket()
                if attempt == 1:
                    return

    def _write_ipc(self, line: bytes) -> None:
        fd = self._ipc_fd
        if fd is None:
            return
        deadline = time.monotonic() + SEND_TIMEOUT_S
        view = memoryview(line)
        while view:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left > 0 and select.select([], [fd], [], left)[1]:
                    continue
                if len(view) < len(line):
                    # half a line would garble every later message on the channel
                    self.transport = "none"
                return
            except OSError:
                self.transport = "none"  # the channel is gone and cannot come back
                return

    def _connected(self) -> Optional[socket.socket]:
        if self._sock is not None and _peer_closed(self._sock):
            self._drop_socket()
        if self._sock is None:
            if time.monotonic() < self._retry_at:
                return None
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(SEND_TIMEOUT_S)  # a stuck supervisor must not stall the work for long
            try:
                sock.connect(self._socket_path)  # type: ignore[arg-type]
            except OSError:
                sock.close()
                self._retry_at = time.monotonic() + RETRY_AFTER_S
                return None
            self._sock = sock
        return self._sock

    def _drop_socket(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    def _send_notify(self, message: dict) -> None:
        kind = message["type"]
        if kind == "beat":
            text = "WATCHDOG=1"
        elif kind == "ready":
            text = "READY=1"
        elif kind == "stopping":
            text = "STOPPING=1"
        else:
            text = "STATUS=" + " ".join(str(message.get("text", "")).splitlines())
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.settimeout(SEND_TIMEOUT_S)
            sock.sendto(text.encode("utf-8", "replace")[:4096], self._notify_path)  # type: ignore[arg-type]
        finally:
            sock.close()


def _positive(value: Any) -> Optional[float]:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and number != float("inf") else None


def _depth(value: Any, limit: int) -> int:
    """How deep arrays and objects nest ({"a": [1]} is 2), looked at no deeper than limit + 1."""
    if not isinstance(value, (dict, list, tuple)) or limit < 0:
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


def _data_fits(data: Any) -> bool:
    """Data the supervisor would keep: JSON, nested at most 32 deep, at most 16 KiB as JSON."""
    try:
        if _depth(data, MAX_DATA_DEPTH) > MAX_DATA_DEPTH:
            return False
        return len(json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")) <= MAX_DATA_BYTES
    except (TypeError, ValueError, RecursionError):
        return False


def _line(message: dict) -> Optional[bytes]:
    try:
        line = (json.dumps(message, allow_nan=False) + "\n").encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return None
    return line if len(line) <= MAX_LINE_BYTES else None


def _peer_closed(sock: socket.socket) -> bool:
    """The supervisor closed the connection (it closes quiet ones): reading finds its end at once."""
    try:
        sock.setblocking(False)
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        finally:
            sock.settimeout(SEND_TIMEOUT_S)
    except BlockingIOError:
        return False
    except OSError:
        return True
