"""The lab's private networks: one network namespace per lab, one bridge per network, the nodes' taps on them.

qemu runs in the host namespace (so its loopback port forwards reach the host); it creates each tap there, and the lab
then moves the tap into its namespace and onto the bridge. Nothing of the lab's networks is reachable from the host
except through `exec` inside the namespace; deleting the namespace removes every bridge and tap.
"""

from __future__ import annotations

from collections.abc import Sequence

from sanappliance.apply.runner import Result, run, tool


class LabNetns:
    def __init__(self, name: str) -> None:
        self.name = name
        self.ip = tool("ip", "iproute2")
        self.created = False

    def create(self) -> None:
        run([self.ip, "netns", "add", self.name])
        self.created = True
        run([self.ip, "-n", self.name, "link", "set", "lo", "up"])

    def add_bridge(self, bridge: str, address: str | None = None) -> None:
        run([self.ip, "-n", self.name, "link", "add", bridge, "type", "bridge", "stp_state", "0",
             "forward_delay", "0"])
        if address:
            run([self.ip, "-n", self.name, "addr", "add", address, "dev", bridge])
        run([self.ip, "-n", self.name, "link", "set", bridge, "up"])

    def adopt_tap(self, tap: str, bridge: str) -> None:
        run([self.ip, "link", "set", tap, "netns", self.name])
        run([self.ip, "-n", self.name, "link", "set", tap, "master", bridge, "up"])

    def set_tap(self, tap: str, up: bool) -> None:
        run([self.ip, "-n", self.name, "link", "set", tap, "up" if up else "down"])

    def exec(self, argv: Sequence[str], *, check: bool = True, timeout: float | None = 60) -> Result:
        return run([self.ip, "netns", "exec", self.name, *argv], check=check, timeout=timeout)

    def delete(self) -> None:
        if self.created:
            run([self.ip, "netns", "del", self.name], check=False)
            self.created = False
