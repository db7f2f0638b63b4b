"""The two JSON channels into a qemu node: QMP (the machine) and the qemu guest agent (commands inside the guest)."""

from __future__ import annotations

import base64
import json
import random
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .spec import LabError


class ChannelTimeout(LabError):
    pass


class JsonSocket:
    """Line-delimited JSON over a unix socket, with deadlines on every read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock: socket.socket | None = None
        self.buffer = b""

    def connect(self, timeout: float) -> None:
        self.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise LabError(f"cannot connect to {self.path}: {exc}", field="socket", value=str(self.path)) from exc
        self.sock = sock
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send(self, payload: bytes) -> None:
        if self.sock is None:
            raise LabError("channel not connected", field="socket", value=str(self.path))
        self.sock.sendall(payload)

    def read_message(self, deadline: float) -> dict[str, Any]:
        """The next JSON object; bytes before a 0xFF delimiter (guest-sync-delimited) are dropped."""
        while True:
            if b"\xff" in self.buffer:
                self.buffer = self.buffer.rsplit(b"\xff", 1)[1]
            line, sep, rest = self.buffer.partition(b"\n")
            if sep:
                self.buffer = rest
                if line.strip():
                    try:
                        return json.loads(line)
                    except json.JSONDecodeError:
                        continue
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.sock is None:
                raise ChannelTimeout("no answer in time", field="socket", value=str(self.path))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError as exc:
                raise ChannelTimeout("no answer in time", field="socket", value=str(self.path)) from exc
            if not chunk:
                self.close()
                raise LabError("channel closed", field="socket", value=str(self.path))
            self.buffer += chunk


class Qmp:
    """QEMU Machine Protocol: link state, power, status."""

    def __init__(self, path: Path) -> None:
        self.chan = JsonSocket(path)

    def connect(self, timeout: float = 10.0) -> None:
        self.chan.connect(timeout)
        deadline = time.monotonic() + timeout
        greeting = self.chan.read_message(deadline)
        if "QMP" not in greeting:
            raise LabError("not a QMP greeting", field="qmp", value=greeting)
        self.command("qmp_capabilities")

    def command(self, execute: str, timeout: float = 10.0, **arguments: Any) -> Any:
        if self.chan.sock is None:
            self.connect(timeout)
        message: dict[str, Any] = {"execute": execute}
        if arguments:
            message["arguments"] = arguments
        self.chan.send(json.dumps(message).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            reply = self.chan.read_message(deadline)
            if "event" in reply:
                continue
            if "error" in reply:
                raise LabError(f"QMP {execute} failed: {reply['error'].get('desc')}", field="qmp", value=execute)
            return reply.get("return")

    def close(self) -> None:
        self.chan.close()


@dataclass(frozen=True)
class ExecResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class GuestAgent:
    """The qemu guest agent on virtio-serial: run a command in the guest and get its exit code and output."""

    def __init__(self, path: Path) -> None:
        self.chan = JsonSocket(path)
        self.synced = False

    def sync(self, timeout: float = 3.0) -> None:
        """Handshake (guest-sync-delimited): flushes stale replies; raises ChannelTimeout while the agent is not up."""
        if self.chan.sock is None:
            self.chan.connect(timeout)
        token = random.randint(1, 2**31)
        self.chan.send(b"\xff" + json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": token}}).encode()
                       + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            reply = self.chan.read_message(deadline)
            if reply.get("return") == token:
                self.synced = True
                return

    def call(self, execute: str, timeout: float = 10.0, **arguments: Any) -> Any:
        if not self.synced:
            self.sync()
        message: dict[str, Any] = {"execute": execute}
        if arguments:
            message["arguments"] = arguments
        try:
            self.chan.send(json.dumps(message).encode() + b"\n")
            reply = self.chan.read_message(time.monotonic() + timeout)
        except (LabError, OSError):
            self.synced = False
            self.chan.close()
            raise
        if "error" in reply:
            raise LabError(f"guest agent {execute} failed: {reply['error'].get('desc')}", field="agent",
                           value=execute)
        return reply.get("return")

    def exec(self, argv: list[str], *, input: str | None = None, timeout: float = 60.0) -> ExecResult:
        """Run argv in the guest. The guest's own `timeout` ends the command; the host gives up a little later."""
        guarded = ["/usr/bin/timeout", "--kill-after=5", str(max(1, int(timeout))), *argv]
        args: dict[str, Any] = {"path": guarded[0], "arg": guarded[1:], "capture-output": True}
        if input is not None:
            args["input-data"] = base64.b64encode(input.encode()).decode()
        pid = self.call("guest-exec", **args)["pid"]
        deadline = time.monotonic() + timeout + 15
        delay = 0.05
        while True:
            status = self.call("guest-exec-status", pid=pid)
            if status.get("exited"):
                break
            if time.monotonic() > deadline:
                raise ChannelTimeout(f"command did not finish in {timeout} s", field="command", value=argv)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        code = status.get("exitcode", -status.get("signal", 1))
        out = base64.b64decode(status.get("out-data", "")).decode(errors="replace")
        err = base64.b64decode(status.get("err-data", "")).decode(errors="replace")
        return ExecResult(tuple(argv), code, out, err)

    def close(self) -> None:
        self.chan.close()
        self.synced = False
