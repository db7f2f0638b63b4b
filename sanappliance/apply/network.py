"""The appliance's network on the live system: the saved spec (/etc/sanappliance/network.json), the files rendered
from it (systemd-networkd, udev .link, chrony, /etc/hostname, /etc/localtime), applying them without a reboot
(`networkctl reload` + `networkctl reconfigure`, chrony restarted through D-Bus), the live addresses (`ip -j addr`),
and the pending rollback of an unconfirmed change (a transient systemd service that restores the kept files).

Only the files the appliance owns are touched: `10-sanappliance-*` and `70-sanappliance-unused.network` in
/etc/systemd/network (the image's 80-sanappliance-dhcp.network and anybody else's files stay)."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanappliance.errors import SanError
from sanappliance.network import render
from sanappliance.network.change import netdevs_to_delete
from sanappliance.network.model import NetworkSpec
from sanappliance.network.validate import Facts

from .files import write_atomic
from .runner import run, tool

SPEC_FILE = Path("/etc/sanappliance/network.json")
ROLLBACK_FILE = Path("/etc/sanappliance/network-rollback.json")  # the kept files of an unconfirmed change
ROLLBACK_UNIT = "sanappliance-network-rollback.service"
LOCALTIME = Path("/etc/localtime")
TIMEZONE = Path("/etc/timezone")
HOSTS = Path("/etc/hosts")
ZONEINFO = Path("/usr/share/zoneinfo")
SYS_NET = Path("/sys/class/net")
CHRONY_UNIT = "chrony.service"
OWNED_RE = re.compile(r"^(10-sanappliance-.+\.(network|netdev|link)|70-sanappliance-unused\.network)$")
LOCALTIME_KEY = "@localtime"  # in a snapshot: where /etc/localtime pointed


@dataclass(frozen=True)
class Snapshot:
    """What the appliance's files were before a change: path -> text (None: the file did not exist), where
    /etc/localtime pointed, and the saved spec."""

    files: dict[str, str | None]
    localtime: str | None
    spec: str | None  # the saved spec's JSON

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "localtime": self.localtime, "spec": self.spec}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        return cls(dict(data["files"]), data.get("localtime"), data.get("spec"))


class NetworkHost:
    """This node's network. Paths can be moved for tests of the file handling (`root`)."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = Path(root)

    def _p(self, path: str | Path) -> Path:
        return self.root / str(path).lstrip("/")

    # --- the saved spec -----------------------------------------------------------------------------------------

    def read_spec(self) -> NetworkSpec | None:
        try:
            text = self._p(SPEC_FILE).read_text()
        except FileNotFoundError:
            return None
        return NetworkSpec.from_json(text, str(SPEC_FILE))

    def save_spec(self, spec: NetworkSpec) -> None:
        write_atomic(self._p(SPEC_FILE), spec.to_json(), mode=0o600)

    @contextmanager
    def lock(self, timeout: float = 300.0) -> Iterator[None]:
        """The operation lock every front end shares (the storage configuration's)."""
        from .store import ConfigStore

        with ConfigStore(self._p("/etc/sanappliance")).lock(timeout):
            yield

    # --- what validation may know -------------------------------------------------------------------------------

    def facts(self) -> Facts:
        return Facts(interfaces=self.ports(), timezones=self.timezones())

    def ports(self) -> dict[str, str]:
        """The physical Ethernet ports present: kernel name -> permanent MAC (a bond member's own, not the bond's)."""
        out: dict[str, str] = {}
        for entry in json.loads(run([tool("ip", "iproute2"), "-j", "-d", "link", "show"]).stdout or "[]"):
            name = entry.get("ifname", "")
            if entry.get("link_type") != "ether" or not (self._p(SYS_NET) / name / "device").exists():
                continue
            out[name] = entry.get("permaddr") or entry.get("address", "")
        return out

    def timezones(self) -> frozenset[str] | None:
        top = self._p(ZONEINFO)
        if not top.is_dir():
            return None
        skip = {"posix", "right", "Etc"}
        names = {str(p.relative_to(top)) for p in top.rglob("*") if p.is_file() and p.parts[len(top.parts)] not in
                 skip and "." not in p.name and p.name[:1].isupper()}
        return frozenset(names | {"UTC"} | {f"Etc/{p.name}" for p in (top / "Etc").glob("*")})

    # --- files ---------------------------------------------------------------------------------------------------

    def owned_network_files(self) -> list[str]:
        """The absolute paths of the networkd/udev files the appliance wrote (by their names)."""
        top = self._p(render.NETWORK_DIR)
        if not top.is_dir():
            return []
        return sorted(f"{render.NETWORK_DIR}/{p.name}" for p in top.iterdir() if OWNED_RE.match(p.name))

    def snapshot(self, paths: Iterable[str]) -> Snapshot:
        """The current text of `paths` and of every owned network file."""
        files: dict[str, str | None] = {}
        for path in sorted({*paths, *self.owned_network_files()}):
            try:
                files[path] = self._p(path).read_text()
            except FileNotFoundError:
                files[path] = None
        localtime = self._p(LOCALTIME)
        spec = self._p(SPEC_FILE)
        return Snapshot(files, os.readlink(localtime) if localtime.is_symlink() else None,
                        spec.read_text() if spec.exists() else None)

    def write_files(self, files: dict[str, str], timezone: str) -> None:
        """Write `files` (absolute path -> text), remove the owned network files not among them, point
        /etc/localtime at the time zone."""
        for path in self.owned_network_files():
            if path not in files:
                self._p(path).unlink(missing_ok=True)
        for path, text in files.items():
            write_atomic(self._p(path), text, mode=0o644)
        self._set_hostname_in_hosts(files.get(render.HOSTNAME, "").strip())
        self._link_localtime(f"{ZONEINFO}/{timezone}")
        write_atomic(self._p(TIMEZONE), timezone + "\n", mode=0o644)

    def restore(self, snap: Snapshot) -> None:
        """Put back the files of a snapshot (removing those that did not exist) and the saved spec."""
        for path in self.owned_network_files():
            if path not in snap.files:
                self._p(path).unlink(missing_ok=True)
        for path, text in snap.files.items():
            if text is None:
                self._p(path).unlink(missing_ok=True)
            else:
                write_atomic(self._p(path), text, mode=0o644)
        hostname = snap.files.get(render.HOSTNAME)
        if hostname:
            self._set_hostname_in_hosts(hostname.strip())
        if snap.localtime:
            self._link_localtime(snap.localtime)
        if snap.spec is None:
            self._p(SPEC_FILE).unlink(missing_ok=True)
        else:
            write_atomic(self._p(SPEC_FILE), snap.spec, mode=0o600)

    def _link_localtime(self, target: str) -> None:
        link = self._p(LOCALTIME)
        tmp = link.with_name(".localtime.new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        tmp.replace(link)

    def _set_hostname_in_hosts(self, hostname: str) -> None:
        """The 127.0.1.1 line of /etc/hosts names this host (Debian's way; sudo, corosync and others resolve it)."""
        if not hostname:
            return
        path = self._p(HOSTS)
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            lines = ["127.0.0.1\tlocalhost"]
        kept = [line for line in lines if not line.startswith("127.0.1.1")]
        write_atomic(path, "\n".join([*kept[:1], f"127.0.1.1\t{hostname}", *kept[1:]]) + "\n", mode=0o644)

    # --- applying ------------------------------------------------------------------------------------------------

    def activate(self, old: NetworkSpec | None, new: NetworkSpec | None, hostname: str) -> None:
        """Make the running system follow the files: netdevs whose kind settings changed (or that went) deleted,
        `networkctl reload`, every affected device reconfigured, the host name set, chrony restarted."""
        ip, networkctl = tool("ip", "iproute2"), tool("networkctl", "systemd")
        present = {p.name for p in self._p(SYS_NET).iterdir()} if self._p(SYS_NET).is_dir() else set()
        for name in netdevs_to_delete(old, new):
            if name in present:
                run([ip, "link", "delete", name], check=False)
                present.discard(name)
        run([networkctl, "reload"], timeout=60)
        names = set(self.ports())
        for spec in (old, new):
            if spec is not None:
                names |= {d.name for d in (*spec.interfaces, *spec.bonds, *spec.vlans)}
        existing = sorted(n for n in names if (self._p(SYS_NET) / n).exists())
        if existing:  # reload reconfigured the links of changed files; this catches the rest (a device may vanish)
            run([networkctl, "reconfigure", *existing], check=False, timeout=60)
        if hostname:
            socket.sethostname(hostname)
        from .systemd import Systemd

        try:
            Systemd().restart(CHRONY_UNIT, timeout=60)
        except SanError:
            pass  # time keeping must not undo a network change; `systemctl status chrony` tells why

    def live_addresses(self) -> dict[str, list[str]]:
        """Interface -> its global addresses with prefix, as the kernel has them now (DHCP leases included)."""
        out: dict[str, list[str]] = {}
        for entry in json.loads(run([tool("ip", "iproute2"), "-j", "addr", "show"]).stdout or "[]"):
            found = [f"{a['local']}/{a['prefixlen']}" for a in entry.get("addr_info", [])
                     if a.get("scope") == "global" and "local" in a]
            if found:
                out[entry["ifname"]] = found
        return out

    # --- the rollback of an unconfirmed change ------------------------------------------------------------------

    def pending(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self._p(ROLLBACK_FILE).read_text()))
        except (FileNotFoundError, ValueError):
            return None

    def schedule_rollback(self, snap: Snapshot, seconds: int, confirm_on: tuple[str, ...],
                          devices: list[str]) -> float:
        """Keep the snapshot and start the transient service that restores it after `seconds` unless the change is
        confirmed (the pending file removed) first. Returns the deadline (epoch seconds)."""
        deadline = time.time() + seconds
        write_atomic(self._p(ROLLBACK_FILE), json.dumps({"deadline": deadline, "confirm_on": list(confirm_on),
                                                          "devices": devices, **snap.to_dict()}) + "\n", mode=0o600)
        from .systemd import Systemd

        try:
            Systemd().start_transient(ROLLBACK_UNIT, "sanappliance: roll back an unconfirmed network change",
                                      ["/usr/bin/python3", "-m", "sanappliance.apply.network", "rollback-after",
                                       str(seconds)])
        except SanError:
            self._p(ROLLBACK_FILE).unlink(missing_ok=True)  # no rollback armed: the change is not made
            raise
        return deadline

    def cancel_rollback(self) -> None:
        self._p(ROLLBACK_FILE).unlink(missing_ok=True)
        from .systemd import Systemd

        try:
            Systemd().stop(ROLLBACK_UNIT, timeout=30)
        except SanError:
            pass  # it ends by itself once the pending file is gone

    def roll_back(self) -> bool:
        """Restore the kept files of a pending change and apply them; False when nothing is pending."""
        pending = self.pending()
        if pending is None:
            return False
        snap = Snapshot.from_dict(pending)
        new = self.read_spec()
        self.restore(snap)
        old = NetworkSpec.from_json(snap.spec) if snap.spec else None
        hostname = (snap.files.get(render.HOSTNAME) or "").strip()
        self.activate(new, old, hostname)
        self._p(ROLLBACK_FILE).unlink(missing_ok=True)
        return True


def _rollback_after(seconds: float) -> int:
    """The transient service's body: wait, then restore unless the change was confirmed meanwhile."""
    host = NetworkHost()
    pending = host.pending()
    if pending is None:
        return 0
    time.sleep(max(0.0, min(seconds, float(pending["deadline"]) - time.time())))
    with host.lock():  # no other change while the previous files come back
        if host.pending() is None:
            print("network change confirmed: nothing to roll back")
            return 0
        host.roll_back()
    print("network change not confirmed in time: the previous configuration is back")
    return 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["rollback-after"]:
        sys.exit(_rollback_after(float(sys.argv[2])))
    sys.exit("usage: python3 -m sanappliance.apply.network rollback-after SECONDS")
