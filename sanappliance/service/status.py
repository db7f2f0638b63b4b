"""Read-only views of the node for the front ends: the iSCSI sessions logged in now, and the cluster's state (a
single node until a cluster is formed). A system without a reader for one of them says so (None, or the single-node
state) instead of guessing.

Sessions come from an optional method of `env.system`, `sessions()`: an iterable of mappings (or objects with the
same attributes) with `target`, `tpg`, `initiator`, and optionally `addresses` (the initiator's connection addresses),
`portal` (the target portal it logged in to, "address:port") and `state` (LIO's session state), one per logged-in
session, as LIO's configfs shows them. The cluster's state comes from a reader the front end is given (the live one:
service.cluster.status of the live host)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sanappliance.errors import SanError
from sanappliance.model.config import Config

from .env import Env

FORM_CLUSTER = "sanctl /cluster init NAME sbd=DISK address=ADDRESS"  # how a cluster is formed, on its first node


@dataclass(frozen=True)
class InitiatorSession:
    target: str
    tpg: int
    initiator: str
    addresses: tuple[str, ...] = ()  # where the initiator's connections come from
    portal: str = ""  # the target portal (address:port) it logged in to, when the system can tell
    state: str = ""  # LIO's session state, e.g. LOGGED_IN


@dataclass(frozen=True)
class NodeState:
    name: str
    state: str  # online, standby, offline, maintenance, unclean
    local: bool = False  # the node this runs on
    dc: bool = False  # Pacemaker's designated controller


@dataclass(frozen=True)
class ResourceState:
    name: str
    agent: str
    role: str  # Started, Stopped, Promoted, Unpromoted, ...
    nodes: tuple[str, ...] = ()  # where it runs
    failed: bool = False
    parent: str = ""  # the clone or group it is part of (moves and clears act on that one), "" at the top level


@dataclass(frozen=True)
class ClusterState:
    formed: bool
    nodes: tuple[NodeState, ...]
    quorum: str
    fencing: str
    maintenance: str = "off"
    resources: tuple[ResourceState, ...] = ()
    failed_actions: tuple[str, ...] = ()
    fence_history: tuple[str, ...] = ()  # newest first
    error: str = ""  # why the state could not be read


def _field(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _session(item: Any) -> InitiatorSession:
    addresses = _field(item, "addresses", ()) or ()
    return InitiatorSession(str(_field(item, "target", "")).lower(), int(_field(item, "tpg", 1) or 1),
                            str(_field(item, "initiator", "")).lower(),
                            tuple(str(a) for a in ([addresses] if isinstance(addresses, str) else addresses)),
                            str(_field(item, "portal", "") or ""), str(_field(item, "state", "") or ""))


def list_sessions(env: Env) -> list[InitiatorSession] | None:
    """The initiators logged in now, by target, TPG and initiator; None when this system cannot tell."""
    reader = getattr(env.system, "sessions", None)
    if reader is None:
        return None
    return sorted((_session(s) for s in reader()), key=lambda s: (s.target, s.tpg, s.initiator))


def connected_initiators(sessions: list[InitiatorSession] | None) -> dict[str, int] | None:
    """target -> how many different initiators are logged in to it (None when sessions are not known)."""
    if sessions is None:
        return None
    seen: dict[str, set[str]] = {}
    for s in sessions:
        seen.setdefault(s.target, set()).add(s.initiator)
    return {target: len(initiators) for target, initiators in seen.items()}


def access_of(config: Config, session: InitiatorSession) -> str:
    """How the session's initiator is let in, as the configuration says: its own ACL, a group, or neither (demo
    mode, or a session from before a change)."""
    for target in config.targets:
        if target.iqn != session.target:
            continue
        for tpg in target.tpgs:
            if tpg.tag != session.tpg:
                continue
            if any(a.initiator == session.initiator for a in tpg.acls):
                return "ACL"
            group = next((g.name for g in tpg.groups if session.initiator in g.initiators), None)
            if group is not None:
                return f"group {group}"
    return "no ACL"


def single_node(hostname: str) -> ClusterState:
    return ClusterState(formed=False, nodes=(NodeState(hostname, "online", local=True),),
                        quorum="not applicable (single node)", fencing="not configured (single node)")


def cluster_state(read: Callable[[], Any] | None, hostname: str) -> ClusterState:
    """The cluster as `read()` reports it (service.cluster.status of the live host: an object with nodes, quorate,
    resources, failures and fencing history, or None while no cluster is formed), or this node alone."""
    if read is None:
        return single_node(hostname)
    try:
        found = read()
    except SanError as exc:
        return ClusterState(formed=True, nodes=(), quorum="unknown", fencing="unknown", maintenance="unknown",
                            error=f"the cluster's state cannot be read: {exc}")
    if found is None:
        return single_node(hostname)
    nodes = tuple(NodeState(n.name, n.state, n.name == hostname, bool(getattr(n, "is_dc", False)))
                  for n in found.nodes)
    resources = tuple(ResourceState(r.id, r.agent, r.role, tuple(r.nodes), bool(r.failed),
                                    str(getattr(r, "parent", "") or "")) for r in found.resources)
    fence_devices = [r for r in resources if r.agent.startswith("stonith:")]
    fencing = ", ".join(f"{r.name} {r.role.lower()}" + (f" on {', '.join(r.nodes)}" if r.nodes else "")
                        for r in fence_devices) or "NO FENCE DEVICE"
    failed = tuple(f"{f.task} of {f.resource} on {f.node}: {f.status} (fail count {f.fail_count})"
                   for f in found.failures)
    mode = getattr(found, "maintenance_mode", None)
    in_maintenance = [n.name for n in nodes if n.state == "maintenance"]
    maintenance = ("on" if mode else "off") if mode is not None else (
        f"nodes {', '.join(in_maintenance)}" if in_maintenance else "off")
    return ClusterState(formed=True, nodes=nodes, quorum="quorate" if found.quorate else "NO QUORUM",
                        fencing=fencing, maintenance=maintenance, resources=resources, failed_actions=failed,
                        fence_history=tuple(found.fencing))
