"""Watching a replicated pool's failover from the host: the survivor's crm_mon once a second through the phases of
drbd.drill (the drill's own tracker), until the initiator's stream has its first acknowledged write after the
outage (the cluster VM tests and the failover benchmark)."""

from __future__ import annotations

import time
from typing import Any

from sanappliance.cluster import sanconfig
from sanappliance.cluster.status import ClusterStatus, parse
from sanappliance.drbd import drill as D

from .stream import Stream

FIRST_WRITE = "first acknowledged write"
OUTAGE = "initiator outage"


def status(node: Any) -> ClusterStatus:
    return parse(node.sh("crm_mon --one-shot --inactive --output-as=xml").stdout)


def move_of(node: Any, pool: str, source: str, destination: str, fencing: bool) -> D.Move:
    """The drill's view of a move of `pool`, its configuration read from the CIB on `node` (before the event)."""
    config = sanconfig.read(node.sh("cibadmin --query").stdout)
    assert config is not None, "no clustered configuration in the CIB"
    return D.Move(config.pool(pool), config, source, destination, fencing,
                  D.fence_successes(status(node), source) if fencing else 0)


def watch(survivor: Any, move: D.Move, io: Stream, t0: float, *, timeout: float = 600,
          targets: tuple[str, ...] = ()) -> dict[str, float]:
    """Seconds from t0 to each phase the survivor shows, then the first acknowledged write and the initiator's
    longest outage. `targets`: other resource ids that stand for the targets (the stock agents)."""
    tracker = D.Tracker(move)
    stock_up: float | None = None  # the tracker knows only the appliance's targets: with none it says "up" at once
    while time.monotonic() < t0 + timeout:
        found = status(survivor)
        elapsed = time.monotonic() - t0
        tracker.update(elapsed, found, None)
        if targets and stock_up is None and D.PROMOTED in tracker.times and all(
                r.role == "Started" and r.nodes == (survivor.name,) for r in found.resources if r.id in targets):
            stock_up = round(elapsed, 1)
        up = stock_up is not None if targets else D.TARGETS in tracker.times
        back = io.outage(t0)[1]
        if up and back is not None and back - t0 >= tracker.times.get(D.PROMOTED, 0):
            break
        time.sleep(1)
    phases = {k: v for k, v in tracker.times.items() if k != D.INITIATOR and not (targets and k == D.TARGETS)}
    if stock_up is not None:
        phases[D.TARGETS] = stock_up
    gap, back = io.outage(t0)
    if back is not None and D.TARGETS in phases:
        phases[FIRST_WRITE] = round(back - t0, 1)
        phases[OUTAGE] = round(gap, 1)
    return phases


__all__ = ["FIRST_WRITE", "OUTAGE", "move_of", "status", "watch"]
