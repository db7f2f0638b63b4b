"""The cluster as crm_mon reports it (`crm_mon --one-shot --inactive --output-as=xml`), parsed into plain data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sanappliance.errors import SanError


@dataclass(frozen=True)
class NodeState:
    name: str
    online: bool
    standby: bool
    maintenance: bool
    unclean: bool
    is_dc: bool

    @property
    def state(self) -> str:
        if self.unclean:
            return "unclean"
        if not self.online:
            return "offline"
        if self.maintenance:
            return "maintenance"
        return "standby" if self.standby else "online"


@dataclass(frozen=True)
class ResourceState:
    id: str
    agent: str
    role: str
    nodes: tuple[str, ...]
    failed: bool
    parent: str = ""  # the clone, group or bundle it is part of (move/stop that one), "" at the top level


@dataclass(frozen=True)
class Failure:
    resource: str
    node: str
    task: str
    status: str
    fail_count: int


@dataclass(frozen=True)
class ClusterStatus:
    dc: str
    quorate: bool
    nodes: tuple[NodeState, ...]
    resources: tuple[ResourceState, ...]
    failures: tuple[Failure, ...]
    fencing: tuple[str, ...]  # fence history, newest first: "node2 reboot by node1: success"
    maintenance_mode: bool | None = None  # the cluster option maintenance-mode; None: crm_mon did not say

    def summary(self) -> str:
        online = sum(1 for n in self.nodes if n.online)
        quorum = "quorate" if self.quorate else "NO QUORUM"
        return f"{online}/{len(self.nodes)} nodes online, {quorum}, DC {self.dc or 'none'}"


def _true(value: str | None) -> bool:
    return value == "true"


def parse(text: str) -> ClusterStatus:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise SanError(f"crm_mon's XML does not parse: {exc}", field="crm_mon") from None
    dc_el = root.find("summary/current_dc")
    dc = dc_el.get("name", "") if dc_el is not None and _true(dc_el.get("present")) else ""
    quorate = dc_el is not None and _true(dc_el.get("with_quorum"))
    nodes = tuple(NodeState(n.get("name", ""), _true(n.get("online")), _true(n.get("standby")),
                            _true(n.get("maintenance")), _true(n.get("unclean")), _true(n.get("is_dc")))
                  for n in root.iterfind("nodes/node"))
    parents = {id(r): outer.get("id", "") for outer in root.iterfind("resources/*")
               if outer.tag in ("clone", "group", "bundle") for r in outer.iter("resource")}
    resources = []
    for r in root.iter("resource"):
        resources.append(ResourceState(r.get("id", ""), r.get("resource_agent", ""), r.get("role", ""),
                                       tuple(n.get("name", "") for n in r.iterfind("node")), _true(r.get("failed")),
                                       parents.get(id(r), "")))
    options = root.find("summary/cluster_options")
    mode = options.get("maintenance-mode") if options is not None else None
    failures = tuple(Failure(f.get("op_key", "").rsplit("_", 2)[0], f.get("node", ""), f.get("task", ""),
                             f.get("status", ""), int(f.get("fail-count", f.get("failcount", "0")) or 0))
                     for f in root.iterfind("failures/failure"))
    fencing = tuple(f"{e.get('target', '?')} {e.get('action', '?')} by {e.get('delegate', '?')}: "
                    f"{e.get('status', '?')}" for e in root.iterfind("fence_history/fence_event"))
    return ClusterStatus(dc, quorate, nodes, tuple(resources), failures, fencing,
                         None if mode is None else _true(mode))


def parse_list(text: str) -> list[str]:
    """The items of a pacemaker tool's XML list (`stonith_admin --list NODE --output-as=xml`: the devices able to
    fence NODE)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise SanError(f"the tool's XML does not parse: {exc}", field="stonith_admin") from None
    return [item.text.strip() for item in root.iter("item") if item.text and item.text.strip()]


def parse_sbd_list(text: str) -> dict[str, str]:
    """`sbd -d DEV list` ("SLOT<TAB>NODE<TAB>MESSAGE<TAB>SENDER" per line): node -> the message in its slot."""
    slots = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].strip().isdigit():
            slots[parts[1].strip()] = parts[2].strip()
    return slots
