"""The desired state of the HA cluster: nodes, links, fencing, properties. Frozen dataclasses; change them with
`replace` (or `with_node` for a join). `init` on the first node creates a one-node spec, each `join` adds a node."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from sanappliance.errors import NOT_FOUND, SanError
from sanappliance.model.serialize import from_dict, to_dict

from .timeouts import Timing, derive

SCHEMA_VERSION = 1
DEFAULT_WATCHDOG = "/dev/watchdog"


@dataclass(frozen=True)
class Link:
    """One corosync knet link (one network). With two links knet runs them passive: the one with the higher
    priority carries the traffic, the other takes over when it fails."""

    priority: int = 1  # knet_link_priority, 0-255


@dataclass(frozen=True)
class Node:
    name: str  # the node's hostname (uname -n): corosync and Pacemaker match it
    nodeid: int  # corosync node id, 1-65535 (knet)
    addresses: tuple[str, ...] = ()  # one per link, in link order; "10.0.0.1" or "10.0.0.1/24" (prefix: checks only)
    api_pin: str = ""  # sha256 of the node's API certificate: other nodes pin it when they call its API


@dataclass(frozen=True)
class Crypto:
    """knet encryption and authentication with the shared /etc/corosync/authkey (generated once, at init)."""

    cipher: str = "aes256"
    hash: str = "sha256"


@dataclass(frozen=True)
class SbdSpec:
    """Disk-based SBD: 1-3 shared disks, by stable id, each holding one message slot per node."""

    devices: tuple[str, ...] = ()  # /dev/disk/by-id/... paths, the same on every node
    watchdog_device: str = DEFAULT_WATCHDOG
    watchdog_timeout: int | None = None  # seconds; None: the timing profile's


@dataclass(frozen=True)
class ClusterSpec:
    name: str  # corosync cluster_name, Pacemaker cluster-name (DLM and shared VGs use it too)
    nodes: tuple[Node, ...] = ()
    links: tuple[Link, ...] = (Link(),)
    crypto: Crypto = Crypto()
    profile: str = "production"  # timeouts.PROFILES
    properties: dict[str, str] = field(default_factory=dict)  # cluster properties set by the admin (properties.py)
    sbd: SbdSpec = SbdSpec()
    fencing_delay: int | None = None  # seconds, pcmk_delay_max with two nodes; None: the profile's; 0: none
    allow_no_fencing: bool = False  # set only by an explicit force with stonith-enabled=false
    schema: int = SCHEMA_VERSION

    @property
    def two_node(self) -> bool:
        return len(self.nodes) == 2

    def timing(self) -> Timing:
        return derive(self.profile, len(self.nodes), watchdog_timeout=self.sbd.watchdog_timeout,
                      fence_delay_max=self.fencing_delay)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise SanError("no such cluster node", field="node", value=name, kind=NOT_FOUND)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ClusterSpec:
        return from_dict(cls, data, "cluster")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "cluster") -> ClusterSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SanError(f"not valid JSON: {exc.msg} at line {exc.lineno}", field=source) from None
        return cls.from_dict(data)


def next_nodeid(spec: ClusterSpec) -> int:
    return max((n.nodeid for n in spec.nodes), default=0) + 1


def with_node(spec: ClusterSpec, name: str, addresses: tuple[str, ...], api_pin: str = "") -> ClusterSpec:
    """The spec after `join` of a new node (the next free node id); validate the result before using it."""
    return replace(spec, nodes=(*spec.nodes, Node(name, next_nodeid(spec), tuple(addresses), api_pin)))


def without_node(spec: ClusterSpec, name: str) -> ClusterSpec:
    node = spec.node(name)
    return replace(spec, nodes=tuple(n for n in spec.nodes if n is not node))


__all__ = ["ClusterSpec", "Crypto", "Link", "Node", "SbdSpec", "next_nodeid", "replace", "with_node", "without_node"]
