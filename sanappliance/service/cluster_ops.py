"""Daily cluster operations (the book's chapter on daily management), for every front end: node standby/online,
maintenance mode, resource start/stop/move/clear/cleanup, fencing a node and the fencing self-test. Each is checked
against the cluster spec and the live CIB first; every configuration change is one validated CIB push
(crm_verify, then a replace that Pacemaker refuses if the CIB moved on, in which case it is re-read and redone)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sanappliance.cluster import cib, edits
from sanappliance.cluster.model import ClusterSpec
from sanappliance.cluster.status import ClusterStatus, parse
from sanappliance.errors import CONFLICT, INVALID, SanError

from .env import Env

PUSH_ATTEMPTS = 3
FENCE_ACTIONS = ("reboot", "off")


class OpsHost(Protocol):
    def read_spec(self) -> ClusterSpec | None: ...
    def hostname(self) -> str: ...
    def query_cib(self, timeout: float = ...) -> str: ...
    def push_cib(self, text: str) -> None: ...
    def status_xml(self) -> str: ...
    def cleanup(self, resource: str | None, node: str | None) -> str: ...
    def fence(self, node: str, action: str, timeout: int) -> None: ...
    def fence_devices_for(self, node: str) -> list[str]: ...
    def sbd_slots(self, spec: ClusterSpec) -> dict[str, dict[str, str]]: ...  # device -> node -> message
    def sbd_message(self, spec: ClusterSpec, node: str, message: str) -> None: ...


@dataclass(frozen=True)
class OpResult:
    plan: tuple[str, ...]
    dry_run: bool
    lines: tuple[str, ...] = ()  # what the operation found, for the front end to show


def _spec(host: OpsHost) -> ClusterSpec:
    spec = host.read_spec()
    if spec is None:
        raise SanError("this node is in no cluster (`sanctl /cluster init` forms one)", field="cluster",
                       kind=INVALID)
    return spec


def _node(spec: ClusterSpec, node: str) -> str:
    spec.node(node)  # raises NOT_FOUND naming the field
    return node


def change_cib(host: OpsHost, *changes: edits.Change) -> None:
    """Read, change, verify and push; when another change landed in between (Pacemaker refuses the older epoch),
    read again and redo, a few times."""
    for attempt in range(PUSH_ATTEMPTS):
        new = edits.apply(host.query_cib(), *changes)
        try:
            host.push_cib(new)
            return
        except SanError as exc:
            if exc.kind != CONFLICT or attempt == PUSH_ATTEMPTS - 1:
                raise


def _op(env: Env, host: OpsHost, plan: str, check: Callable[[str], None], *changes: edits.Change) -> OpResult:
    """Check every change against the live CIB before anything is pushed (a dry run stops there)."""
    _spec(host)
    current = host.query_cib()
    edits.apply(current, *changes)  # raises on an unknown node or resource: nothing pushed
    check(current)
    if env.dry_run:
        return OpResult((plan,), True)
    change_cib(host, *changes)
    return OpResult((plan,), False)


def _nothing(current: str) -> None:
    return None


def standby(env: Env, host: OpsHost, node: str, on: bool = True) -> OpResult:
    """standby: the node keeps its membership and runs no resources (they move away); online undoes it."""
    _node(_spec(host), node)
    what = "standby" if on else "online"
    return _op(env, host, f"set node {node} {what} (node attribute standby)", _nothing, edits.standby(node, on))


def maintenance(env: Env, host: OpsHost, on: bool) -> OpResult:
    """Maintenance mode: Pacemaker keeps watching nothing and changes nothing (resources are unmanaged, monitors
    stop) until it is turned off; then it probes and brings everything back to the configuration."""
    what = "on" if on else "off"
    return _op(env, host, f"maintenance mode {what} (cluster option maintenance-mode)", _nothing,
               edits.maintenance(on))


def set_running(env: Env, host: OpsHost, resource: str, started: bool) -> OpResult:
    what = "start (target-role removed)" if started else "stop (target-role Stopped)"
    return _op(env, host, f"{what} for {resource}", _nothing, edits.target_role(resource, started))


def move(env: Env, host: OpsHost, resource: str, node: str) -> OpResult:
    """Move a resource (or a promotable clone's Promoted role) to `node` with a cli-prefer constraint, which stays
    until `clear`: clear it once the move is done, or the resource can never fail over back."""
    _node(_spec(host), node)
    return _op(env, host, f"prefer {node} for {resource} (constraint cli-prefer-{resource}; `clear` removes it)",
               _nothing, edits.move(resource, node))


def clear(env: Env, host: OpsHost, resource: str) -> OpResult:
    return _op(env, host, f"remove the move/ban constraints of {resource}", _nothing, edits.clear(resource))


def cleanup(env: Env, host: OpsHost, resource: str | None = None, node: str | None = None) -> OpResult:
    """Forget failed actions and fail counts (of one resource and/or node), so Pacemaker tries again."""
    spec = _spec(host)
    if node:
        _node(spec, node)
    if resource:
        edits.apply(host.query_cib(), edits.target_role(resource, True))  # the resource exists
    plan = f"clean up failures of {resource or 'every resource'} on {node or 'every node'}"
    if env.dry_run:
        return OpResult((plan,), True)
    output = host.cleanup(resource, node)
    return OpResult((plan,), False, tuple(line for line in output.splitlines() if line.strip()))


def fence(env: Env, host: OpsHost, node: str, action: str = "reboot") -> OpResult:
    """Fence a node now through the cluster's fence device (SBD: the poison pill on the shared disk); waits for
    the fencer's answer (up to stonith-timeout plus margin)."""
    spec = _spec(host)
    _node(spec, node)
    if action not in FENCE_ACTIONS:
        raise SanError(f"expected one of {', '.join(FENCE_ACTIONS)}", field="action", value=action, kind=INVALID)
    if node == host.hostname():
        raise SanError("fence this node from another cluster node (here it would reset the node asking)",
                       field="node", value=node, kind=INVALID)
    if not spec.sbd.devices:
        raise SanError("the cluster has no fence device (fencing was forced off)", field="node", value=node,
                       kind=INVALID)
    plan = f"fence node {node} ({action}) through fence-sbd"
    if env.dry_run:
        return OpResult((plan,), True)
    host.fence(node, action, spec.timing().stonith_timeout * 2 + 30)
    return OpResult((plan,), False, (f"node {node} fenced ({action})",))


# --- the fencing self-test --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class FencingTest:
    checks: tuple[Check, ...]
    dry_run: bool = False
    plan: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(f"{'PASS' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in self.checks)


def _slots_answer(host: OpsHost, spec: ClusterSpec, nodes: list[str], wait: float) -> list[Check]:
    """A test message in each node's SBD slot is read and cleared by that node's sbd (its disk watcher is alive and
    acting on the disk: a poison pill would be obeyed). All messages go out first, then every slot is watched."""
    for node in nodes:
        host.sbd_message(spec, node, "test")
    deadline = time.monotonic() + wait
    pending: dict[str, list[str]] = {}
    while True:
        slots = host.sbd_slots(spec)
        pending = {node: [dev for dev, found in slots.items() if found.get(node) != "clear"] for node in nodes}
        if not any(pending.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    return [Check(f"sbd on {node} answers", not pending[node],
                  f"test message not taken within {wait:.0f} s on {', '.join(pending[node])}" if pending[node]
                  else f"test message cleared on {len(slots)} disk(s)") for node in nodes]


def fencing_test(env: Env, host: OpsHost) -> FencingTest:
    """Non-destructive proof that fencing works for every node: stonith enabled, the fence device started and able
    to fence each node, each node's sbd reading its slot on every SBD disk. Passing marks each node (node attribute
    san-fencing-tested), which lifts the fencing gate that keeps the appliance's storage resources off it."""
    spec = _spec(host)
    plan = ("check stonith-enabled, fence-sbd started and registered for every node",
            "send an SBD test message to every node's slot and wait for its sbd to clear it",
            f"on success mark each node ({cib.FENCING_TESTED})")
    if env.dry_run:
        return FencingTest((), True, plan)
    state = parse(host.status_xml())
    checks = [_enabled(host.query_cib())]
    device = next((r for r in state.resources if r.id == cib.FENCE_ID), None)
    started = device is not None and device.role == "Started" and not device.failed
    checks.append(Check("fence device", started, f"{cib.FENCE_ID} " + (f"started on {', '.join(device.nodes)}"
                                                                        if started and device else "not started")))
    online = {n.name for n in state.nodes if n.online}
    reachable = []
    for node in spec.nodes:
        if node.name not in online:
            checks.append(Check(f"node {node.name}", False, "not online: it cannot be tested"))
            continue
        reachable.append(node.name)
        if node.name != host.hostname():
            devices = host.fence_devices_for(node.name)
            checks.append(Check(f"can fence {node.name}", cib.FENCE_ID in devices,
                                f"devices able to fence it: {', '.join(devices) or 'none'}"))
    checks += _slots_answer(host, spec, reachable, max(10.0, spec.timing().watchdog_timeout * 2.0))
    result = FencingTest(tuple(checks))
    if result.passed:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        change_cib(host, *(edits.node_attribute(n.name, cib.FENCING_TESTED, stamp) for n in spec.nodes))
    return result


def _enabled(current: str) -> Check:
    _, config = cib.parse_cib(current)
    values = [p.get("value", "") for p in config.iterfind("crm_config/cluster_property_set/nvpair")
              if p.get("name") == "stonith-enabled"]
    ok = all(v.lower() in ("true", "yes", "on", "1") for v in values)
    return Check("stonith-enabled", ok, ", ".join(values) or "true (default)")


def untested_nodes(host: OpsHost) -> list[str]:
    """The cluster nodes whose fencing has not been proven (the storage services refuse clustered resources until
    this is empty, and say why)."""
    spec = _spec(host)
    _, config = cib.parse_cib(host.query_cib())
    tested = {el.get("uname") for el in config.iterfind("nodes/node")
              if any(p.get("name") == cib.FENCING_TESTED for p in el.iterfind("instance_attributes/nvpair"))}
    return [n.name for n in spec.nodes if n.name not in tested]


def require_fencing_tested(host: OpsHost) -> None:
    missing = untested_nodes(host)
    if missing:
        raise SanError(f"fencing is not proven on {', '.join(missing)}: run `sanctl /cluster fencing test` first "
                       "(clustered storage never runs where a failed node could not be fenced)",
                       field="cluster.fencing", value=",".join(missing), kind=INVALID)


def status(host: OpsHost) -> ClusterStatus:
    return parse(host.status_xml())
