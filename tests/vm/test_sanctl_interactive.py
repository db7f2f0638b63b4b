"""The interactive sanctl on the node's serial console, typed as an admin would: tab completion, create, cd, ls."""

import socket
import time

import pytest

from sanappliance.lab import LabSpec, NodeSpec

from .conftest import start_lab, stop_lab


class Console:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.sock.settimeout(0.5)
        self.seen = ""

    def type(self, text):
        self.sock.sendall(text.encode())

    def expect(self, text, timeout=60.0):
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not seen on the console; last output:\n{self.seen[-1500:]}")
            try:
                self.seen += self.sock.recv(65536).decode(errors="replace")
            except TimeoutError:
                pass
        before, _, self.seen = self.seen.partition(text)
        return before


@pytest.fixture(scope="module")
def console(request, images):
    lab = start_lab(request, images, LabSpec(nodes=(NodeSpec("node1"),)))
    con = Console(lab.node("node1").paths.console_sock)
    con.type("\r")
    con.expect("root@node1")
    yield con
    con.sock.close()
    stop_lab(request, lab)


def test_interactive_session(console):
    console.type("sanctl\r")
    console.expect("/> ")
    console.type("/volumes create v1 8M kind=ramdisk\r")
    console.expect("Created volume v1.")
    console.type("cd /vol\t")  # completes the path
    console.expect("umes/")
    console.type("\r")
    console.expect("/volumes> ")
    console.type("ls\r")
    console.expect("o- ")
    listing = console.expect("/volumes> ")
    assert "8MiB ramdisk in memory, exported 0x" in listing
    console.type("cd /iscsi\rcreate iqn.2026-11.org.sanappliance:console\r")
    console.expect("Created target iqn.2026-11.org.sanappliance:console.")
    console.type("create iqn.bad_name\r")
    console.expect("iqn: not an iSCSI qualified name")  # the error, and the shell goes on
    console.type("ls /\r")
    console.expect("o- ")  # past any earlier prompt: the listing starts
    tree = console.expect("/iscsi> ")
    for text in ("generation 2", "Targets: 1", "enabled, no-auth, 0 LUN(s), 0 ACL(s)", "0.0.0.0:3260"):
        assert text in tree
    console.type("exit\r")
    console.expect("root@node1")
