"""The failover drill of a replicated pool: a real failover, timed phase by phase (drbd.drill).

`how=move`: a clean manual move to the other node (the move's preference is cleared at the end, the pool stays).
`how=fence`: the node serving the pool is fenced (rebooted through SBD) and the other one takes over; run it on the
node that will take over (this node watches, so it must not be the one fenced). Either needs `confirm`: the
initiators see a real outage. The phases are seen from crm_mon once every `interval` seconds, and the initiators'
return from the new node's LIO counters (this node's, or the other node's through its API).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sanappliance.cluster.status import ClusterStatus, parse
from sanappliance.drbd import drill as D
from sanappliance.drbd.cib import PoolIds
from sanappliance.errors import INVALID, SanError

from . import cluster, cluster_ops
from .env import Env
from .replicated import Hosts

HOWS = ("move", "fence")


@dataclass(frozen=True)
class DrillResult:
    pool: str
    how: str
    source: str
    destination: str
    times: dict[str, float]  # phase -> seconds from the start
    missing: tuple[str, ...]  # phases not seen before the timeout
    lines: tuple[str, ...]
    dry_run: bool = False
    plan: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"pool": self.pool, "how": self.how, "from": self.source, "to": self.destination,
                "phases_s": self.times, "missing": list(self.missing), "dry_run": self.dry_run}


def _serving(status: ClusterStatus, pool: str) -> str:
    drbd = PoolIds(pool).drbd
    for r in status.resources:
        if r.id == drbd and r.role == "Promoted" and len(r.nodes) == 1:
            return r.nodes[0]
    raise SanError("the pool is not Promoted on any node now: nothing to fail over", field="pool", value=pool,
                   kind=INVALID)


def lun_commands(env: Env, hosts: Hosts, node: str, iqns: tuple[str, ...]) -> int | None:
    """The commands the LUNs of `iqns` have received on `node` (None: not readable)."""
    try:
        if node == hosts.name():
            read = getattr(env.system, "lun_commands", None)
            return None if read is None else int(read(iqns))
        return int(cluster.call_node(hosts.cluster, node, "san_peer_lun_commands", {"iqns": list(iqns)[:8]}))
    except SanError:
        return None


def run(env: Env, hosts: Hosts, name: str, how: str = "move", *, confirm: bool = False, timeout: float = 600.0,
        interval: float = 0.5, initiator_wait: float = 60.0, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep) -> DrillResult:
    """Run the drill (see the module); the targets up, an initiator not back within `initiator_wait` seconds is
    reported as not seen (no initiator was using the pool)."""
    if how not in HOWS:
        raise SanError("how is move or fence", field="how", value=how, kind=INVALID)
    config = env.store.load()
    pool = config.pool(name)
    if pool.replication is None:
        raise SanError("a drill is for replicated pools", field="name", value=name, kind=INVALID)
    status = parse(hosts.cluster.status_xml())
    source = _serving(status, name)
    others = [n.name for n in pool.replication.nodes if n.name != source]
    destination = others[0]
    me = hosts.name()
    if how == "fence" and source == me:
        raise SanError(f"this node serves the pool and would be fenced: run the drill on {destination}",
                       field="how", value=how, kind=INVALID)
    cluster_ops.require_fencing_tested(hosts.cluster)
    move = D.Move(pool, config, source, destination, how == "fence", D.fence_successes(status, source))
    plan = ((f"fence {source} (reboot): {destination} takes the pool over" if how == "fence" else
             f"move pool {name} from {source} to {destination}, then clear the move's preference"),
            f"watch: {', '.join(move.phases())}")
    if env.dry_run or not confirm:
        lines = () if env.dry_run else ("nothing done: a drill is a real failover (initiators see an outage); "
                                        "give confirm=yes",)
        return DrillResult(name, how, source, destination, {}, move.phases(), lines, True, plan)
    tracker = D.Tracker(move)
    errors: list[SanError] = []
    started = clock()
    if how == "fence":
        def fence() -> None:
            try:
                cluster_ops.fence(env, hosts.cluster, source, "reboot")
            except SanError as exc:
                errors.append(exc)
        worker = threading.Thread(target=fence, daemon=True)
        worker.start()
    else:
        cluster_ops.move(env, hosts.cluster, PoolIds(name).clone, destination)
    try:
        while not tracker.done and clock() - started < timeout and not errors:
            try:
                now_status = parse(hosts.cluster.status_xml())
            except SanError:
                now_status = None
            elapsed = clock() - started
            tracker.update(elapsed, now_status, lun_commands(env, hosts, destination, move.iqns))
            if D.TARGETS in tracker.times and elapsed - tracker.times[D.TARGETS] > initiator_wait:
                break
            if not tracker.done:
                sleep(interval)
    finally:
        if how == "move":
            cluster_ops.clear(env, hosts.cluster, PoolIds(name).clone)
    if errors:
        raise errors[0]
    return DrillResult(name, how, source, destination, dict(tracker.times), tuple(tracker.missing()),
                       tuple(tracker.lines()), False, plan)


__all__ = ["HOWS", "DrillResult", "Hosts", "lun_commands", "run"]
