"""Protocol logic of the guest agent and QMP clients against a scripted peer on a unix socket (the real agent and
QMP are exercised by the VM tests)."""

import base64
import json
import socket
import threading

import pytest

from sanappliance.lab.channels import ChannelTimeout, GuestAgent, Qmp
from sanappliance.lab.spec import LabError


def serve(path, handler):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def loop():
        conn, _ = server.accept()
        with conn:
            buf = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    for reply in handler(json.loads(line.lstrip(b"\xff"))):
                        conn.sendall(reply)

    threading.Thread(target=loop, daemon=True).start()
    return server


def fake_agent(stale=True):
    runs = {}

    def handle(msg):
        cmd, args = msg["execute"], msg.get("arguments", {})
        if cmd == "guest-sync-delimited":
            junk = b'{"return": 12345}\n' if stale else b""
            return [junk + b"\xff" + json.dumps({"return": args["id"]}).encode() + b"\n"]
        if cmd == "guest-exec":
            assert args["path"] == "/usr/bin/timeout"
            runs[7] = args["arg"][2:]
            return [b'{"return": {"pid": 7}}\n']
        if cmd == "guest-exec-status":
            argv = runs[args["pid"]]
            out = base64.b64encode(" ".join(argv).encode()).decode()
            return [json.dumps({"return": {"exited": True, "exitcode": 3, "out-data": out}}).encode() + b"\n"]
        return [json.dumps({"error": {"class": "CommandNotFound", "desc": cmd}}).encode() + b"\n"]

    return handle


def test_agent_exec_roundtrip(tmp_path):
    path = tmp_path / "qga.sock"
    server = serve(path, fake_agent())
    agent = GuestAgent(path)
    result = agent.exec(["/bin/echo", "hi"], timeout=5)
    assert (result.returncode, result.stdout, result.ok) == (3, "/bin/echo hi", False)
    with pytest.raises(LabError):
        agent.call("guest-nonsense")
    server.close()


def test_agent_not_up_times_out(tmp_path):
    path = tmp_path / "qga.sock"
    server = serve(path, lambda msg: [])
    with pytest.raises(ChannelTimeout):
        GuestAgent(path).sync(timeout=0.3)
    server.close()


def test_agent_without_socket(tmp_path):
    with pytest.raises(LabError):
        GuestAgent(tmp_path / "none.sock").sync(timeout=0.3)


def test_qmp_skips_events(tmp_path):
    path = tmp_path / "qmp.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def peer():
        conn, _ = server.accept()
        conn.sendall(b'{"QMP": {"version": {}}}\n')
        f = conn.makefile("rb")
        f.readline()
        conn.sendall(b'{"return": {}}\n')
        f.readline()
        conn.sendall(b'{"event": "NIC_RX_FILTER_CHANGED"}\n{"return": {"status": "running"}}\n')
        f.readline()
        conn.sendall(b'{"error": {"class": "GenericError", "desc": "no such netdev"}}\n')
        conn.close()

    threading.Thread(target=peer, daemon=True).start()
    qmp = Qmp(path)
    qmp.connect(timeout=5)
    assert qmp.command("query-status") == {"status": "running"}
    with pytest.raises(LabError) as err:
        qmp.command("set_link", name="x", up=False)
    assert "no such netdev" in str(err.value)
