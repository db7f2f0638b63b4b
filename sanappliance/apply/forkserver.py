"""A warm start for one-shot `sanctl` commands (as targetclid is for targetcli).

Under emulation a Python process spends most of a one-shot command importing: configshell, pyparsing, the model's
dataclasses. The fork server imports all of that once and, for each command, forks a child that runs the command in
the caller's own terminal: the client passes its stdin/stdout/stderr descriptors over a root-only UNIX socket
(SCM_RIGHTS) with its arguments, working directory and environment; the child runs `sanctl` exactly as the client
would have, and the exit code goes back. Each command runs in a fresh child: nothing is cached between commands.
systemd owns the socket (sanappliance-sanctl.socket) and starts the server on first use. Without the server the
client runs the command itself.
"""

from __future__ import annotations

import array
import contextlib
import importlib
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

SOCKET = Path(os.environ.get("SANCTL_SOCKET", "/run/sanappliance/sanctl.sock"))
MAX_REQUEST = 1 << 20
SD_LISTEN_FDS_START = 3


# client side
def run_remote(argv: list[str], socket_path: Path = SOCKET) -> int | None:
    """Run a one-shot command in a child of the fork server; its exit code, or None when no server answers (the
    caller then runs the command itself)."""
    if os.environ.get("SANCTL_NO_SERVER"):
        return None
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(socket_path))
    except OSError:
        return None
    with sock:
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        fds = array.array("i", [0, 1, 2])  # stdin, stdout, stderr
        sys.stdout.flush()
        try:
            sock.sendmsg([struct.pack("!I", len(request)), request],
                         [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())])
            started = _read_exact(sock, 4)
        except OSError:
            return None
        if started is None:
            return None
        child = struct.unpack("!i", started)[0]
        while True:
            try:
                done = _read_exact(sock, 4)
                return 1 if done is None else int(struct.unpack("!i", done)[0])
            except KeyboardInterrupt:  # the child is not in the terminal's process group: pass Ctrl-C on
                with contextlib.suppress(OSError):
                    os.kill(child, signal.SIGINT)
            except OSError:
                return 1


def _read_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


# server side
def preload(modules: Iterable[str]) -> None:
    """Import what the commands need, once, before the first fork."""
    for name in modules:
        importlib.import_module(name)


def listening_socket(socket_path: Path = SOCKET) -> socket.socket:
    """The socket systemd passes (socket activation), or one made here (root-only) when started by hand."""
    if os.environ.get("LISTEN_PID") == str(os.getpid()) and os.environ.get("LISTEN_FDS") == "1":
        return socket.socket(fileno=SD_LISTEN_FDS_START)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        server.bind(str(socket_path))
    finally:
        os.umask(old)
    server.listen(16)
    return server


def serve(run: Callable[[list[str]], int], server: socket.socket) -> None:
    """Answer commands until stopped: each connection is handled by a forked child, which becomes the caller's
    `sanctl`: `run(argv) -> exit code` with the caller's stdio, working directory and environment. The server itself
    stays single-threaded and never reads the configuration or touches the system."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            _exit(_child(conn, run))
        conn.close()


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def _request(conn: socket.socket) -> tuple[dict, list[int]] | None:
    """The caller's request and its three descriptors, or None for anything malformed."""
    header, ancillary, _, _ = conn.recvmsg(4, socket.CMSG_SPACE(3 * array.array("i").itemsize))
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(array.array("i", data[: len(data) - len(data) % 4]))
    if len(header) != 4 or len(fds) != 3:
        return None
    size = struct.unpack("!I", header)[0]
    body = _read_exact(conn, size) if size <= MAX_REQUEST else None
    request = json.loads(body) if body else None
    if not isinstance(request, dict) or not isinstance(request.get("argv"), list):
        return None
    return request, fds


def _child(conn: socket.socket, run: Callable[[list[str]], int]) -> int:
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if _peer_uid(conn) != os.getuid():
            return 1
        got = _request(conn)
        if got is None:
            return 1
        request, fds = got
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(request.get("env") or {}).items()})
        os.chdir(str(request.get("cwd") or "/"))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        conn.sendall(struct.pack("!i", os.getpid()))
    except (OSError, ValueError):
        return 1
    code = 1
    try:
        code = run([str(a) for a in request["argv"]])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - reported like the command's own errors
        print(f"sanctl: {exc}", file=sys.stderr)
    code = code if isinstance(code, int) and 0 <= code < 256 else 1
    with contextlib.suppress(OSError):
        conn.sendall(struct.pack("!i", code))
    return code


def _exit(code: int) -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
