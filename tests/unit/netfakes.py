"""A small in-memory stand-in for the live network (apply/network.py's NetworkHost) in unit tests of the network
service: files in a dict, the saved spec, the pending rollback; it records what would have been run. The real file
handling is tested on a temporary directory (test_network_apply.py), the real networkd in the VM tests."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from sanappliance.apply.network import Snapshot
from sanappliance.errors import SanError
from sanappliance.network import render
from sanappliance.network.model import NetworkSpec
from sanappliance.network.validate import Facts


@dataclass
class FakeNetworkHost:
    spec: NetworkSpec | None = None
    files: dict[str, str] = field(default_factory=dict)
    localtime: str = "/usr/share/zoneinfo/Etc/UTC"
    ports: dict[str, str] | None = None  # None: not checked
    live: dict[str, list[str]] = field(default_factory=dict)
    rollback: dict | None = None
    activations: list[tuple[str, str]] = field(default_factory=list)  # (old hostname, new hostname)
    fail_activate: bool = False
    cancelled: int = 0
    password_hash: str = ""

    @contextmanager
    def lock(self, timeout: float = 1.0):
        yield

    def read_spec(self):
        return self.spec

    def save_spec(self, spec):
        self.spec = spec

    def facts(self):
        return Facts(interfaces=self.ports)

    def snapshot(self, paths):
        owned = [p for p in self.files if p.startswith(render.NETWORK_DIR)]
        return Snapshot({p: self.files.get(p) for p in sorted({*paths, *owned})}, self.localtime,
                        self.spec.to_json() if self.spec else None)

    def write_files(self, files, timezone):
        for path in [p for p in self.files if p.startswith(render.NETWORK_DIR) and p not in files]:
            del self.files[path]
        self.files.update(files)
        self.localtime = f"/usr/share/zoneinfo/{timezone}"

    def restore(self, snap):
        for path in [p for p in self.files if p.startswith(render.NETWORK_DIR) and p not in snap.files]:
            del self.files[path]
        for path, text in snap.files.items():
            if text is None:
                self.files.pop(path, None)
            else:
                self.files[path] = text
        self.localtime = snap.localtime
        self.spec = NetworkSpec.from_json(snap.spec) if snap.spec else None

    def activate(self, old, new, hostname):
        self.activations.append((old.hostname if old else "", hostname))
        if self.fail_activate:
            self.fail_activate = False
            raise SanError("networkctl reload failed", field="command")

    def live_addresses(self):
        return self.live

    def pending(self):
        return self.rollback

    def schedule_rollback(self, snap, seconds, confirm_on, devices):
        self.rollback = {"deadline": 1e12, "seconds": seconds, "confirm_on": list(confirm_on), "snap": snap}
        return 1e12

    def cancel_rollback(self):
        self.rollback = None
        self.cancelled += 1

    def roll_back(self):
        if self.rollback is None:
            return False
        self.restore(self.rollback["snap"])
        self.activations.append(("rollback", ""))
        self.rollback = None
        return True

    def expire(self):
        """The confirmation time ran out: what the transient rollback service does."""
        return self.roll_back()


@dataclass
class FakeAccount:
    password_hash: str = ""

    def set_password_hash(self, password_hash):
        self.password_hash = password_hash
