"""An 802.1Q VLAN endpoint in the lab's network namespace, for hosts whose kernel has no VLAN support (no 8021q
module, no bridge VLAN filtering, as on the development machines).

A small relay process in the namespace owns two tap devices: one on the network's bridge (it sees every frame there,
tags included), one with the host-side address on the VLAN. Frames of that VLAN from the bridge lose their tag and
go to the address's tap; frames from the address's tap get the tag and go onto the bridge. Host-side tools in the
namespace (ping, an iSCSI initiator) then reach a guest's VLAN interface as if the host had one.

    with VlanEndpoint(lab, "san", 100, "10.231.100.1/24"):
        lab.netns.exec(["/usr/bin/ping", "-c1", "10.231.100.50"])
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import time
from typing import Any

from sanappliance.apply.runner import run, tool

from .spec import LabError

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
TPID = b"\x81\x00"


def _open_tap(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def tag(frame: bytes, vid: int) -> bytes:
    """The untagged Ethernet frame with an 802.1Q tag (priority 0) for `vid`."""
    return frame[:12] + TPID + struct.pack("!H", vid & 0x0FFF) + frame[12:]


def untag(frame: bytes, vid: int) -> bytes | None:
    """The frame without its tag when it is tagged for `vid`; None otherwise."""
    if len(frame) < 18 or frame[12:14] != TPID or struct.unpack("!H", frame[14:16])[0] & 0x0FFF != vid:
        return None
    return frame[:12] + frame[16:]


def relay(bridge: str, vid: int, address: str, trunk: str, access: str) -> None:
    """In the namespace: make the taps, then move frames until killed."""
    trunk_fd, access_fd = _open_tap(trunk), _open_tap(access)
    ip = tool("ip", "iproute2")
    run([ip, "link", "set", trunk, "master", bridge, "up"])
    run([ip, "addr", "add", address, "dev", access])
    run([ip, "link", "set", access, "up"])
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select([trunk_fd, access_fd], [], [])
        for fd in readable:
            frame = os.read(fd, 65536)
            if fd == trunk_fd:
                inner = untag(frame, vid)
                if inner is not None:
                    os.write(access_fd, inner)
            else:
                os.write(trunk_fd, tag(frame, vid))


class VlanEndpoint:
    """The relay for one VLAN of one lab network, as a context manager."""

    def __init__(self, lab: Any, network: str, vid: int, address: str) -> None:
        self.lab, self.network, self.vid, self.address = lab, network, vid, address
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> VlanEndpoint:
        name = f"v{self.vid}"
        argv = [tool("ip", "iproute2"), "netns", "exec", self.lab.netns.name, sys.executable, "-m",
                "sanappliance.lab.vlan", f"br-{self.network}", str(self.vid), self.address, f"{name}t", f"{name}a"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready" or time.monotonic() > deadline:
            self.close()
            raise LabError(f"the VLAN {self.vid} relay did not start: {line}", field="vlan", value=self.vid)
        return self

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    relay(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
