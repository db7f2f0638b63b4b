"""The fork server of one-shot sanctl commands, over a real UNIX socket: the command runs in a child with the
caller's stdio, arguments, working directory and environment, and its exit code comes back; no server, no answer."""

import os
import socket
import subprocess
import sys
import time

import pytest

from sanappliance.apply import forkserver

SERVER = r"""
import os, sys
from pathlib import Path
from sanappliance.apply import forkserver

def run(argv):
    if argv[:1] == ["boom"]:
        raise RuntimeError("it broke")
    print(f"argv={argv} cwd={os.getcwd()} color={os.environ.get('COLOR')} pid={os.getpid()}", flush=True)
    print("to stderr", file=sys.stderr, flush=True)
    return int(argv[0]) if argv and argv[0].isdigit() else 0

forkserver.serve(run, forkserver.listening_socket(Path(sys.argv[1])))
"""


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "sanctl.sock"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(path)])
    deadline = time.monotonic() + 20
    while not path.exists():
        assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
        time.sleep(0.05)
    yield path, proc
    proc.kill()
    proc.wait()


def test_a_command_runs_in_a_child_with_the_callers_stdio(server, tmp_path, capfd, monkeypatch):
    path, proc = server
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLOR", "blue")
    assert forkserver.run_remote(["7", "ls"], path) == 7
    out, err = capfd.readouterr()
    assert f"argv=['7', 'ls'] cwd={tmp_path} color=blue" in out
    assert f"pid={proc.pid}" not in out  # a child ran it, not the server
    assert "to stderr" in err
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_an_error_in_the_command_is_its_exit_code(server, capfd):
    path, _ = server
    assert forkserver.run_remote(["boom"], path) == 1
    assert "it broke" in capfd.readouterr().err


def test_garbage_on_the_socket_does_not_stop_the_server(server, capfd):
    path, proc = server
    for junk in (b"", b"\x00\x00\x00\x05hello", b"\xff\xff\xff\xff"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(path))
            s.sendall(junk)
    assert forkserver.run_remote(["0"], path) == 0
    assert proc.poll() is None


def test_no_server_means_no_answer(tmp_path, monkeypatch):
    assert forkserver.run_remote(["ls"], tmp_path / "absent.sock") is None
    (tmp_path / "stale.sock").write_text("")
    assert forkserver.run_remote(["ls"], tmp_path / "stale.sock") is None


def test_it_can_be_turned_off(server, monkeypatch):
    path, _ = server
    monkeypatch.setenv("SANCTL_NO_SERVER", "1")
    assert forkserver.run_remote(["0"], path) is None


def test_commands_run_side_by_side(server, tmp_path, capfd):
    path, _ = server
    codes = []
    pids = set()
    for n in range(3):
        codes.append(forkserver.run_remote([str(n)], path))
    out = capfd.readouterr().out
    pids = {line.rsplit("pid=", 1)[1] for line in out.splitlines() if "pid=" in line}
    assert codes == [0, 1, 2] and len(pids) == 3  # a fresh child each time
    assert os.getpid() not in {int(p) for p in pids}
