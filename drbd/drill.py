"""A failover drill's phases (pure): what one look at the cluster (crm_mon's status) and at the new node's LIO (the
commands its LUNs have received) says has happened, and the first time each phase was seen.

For pool P moving from node A to node B, in order: the failure seen (A offline or unclean; a fence drill only),
the fencing of A confirmed (a fence drill only), DRBD Promoted on B, the VG active there, the pool's volumes,
every floating address up, every target of the pool started, and the first command an initiator sent to a LUN
of those targets on B (LIO's per-LUN in_cmds counter rising after the targets are up: the initiator is back).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sanappliance.cluster.status import ClusterStatus
from sanappliance.model.config import Config, Pool
from sanappliance.model.replication import targets_of_pool

from .cib import PoolIds

FAILURE = "failure seen"
FENCED = "fencing confirmed"
PROMOTED = "DRBD promoted"
VG = "VG active"
VOLUMES = "volumes active"
ADDRESSES = "addresses up"
TARGETS = "targets up"
INITIATOR = "first initiator command"
ORDER = (FAILURE, FENCED, PROMOTED, VG, VOLUMES, ADDRESSES, TARGETS, INITIATOR)


@dataclass(frozen=True)
class Move:
    pool: Pool
    config: Config
    source: str  # the node that served the pool
    destination: str  # the node that takes it over
    fencing: bool  # a fence drill (the source is fenced), or a clean move
    fence_events_before: int = 0  # successful fence events of the source in the history when the drill began

    @property
    def resources(self) -> dict[str, tuple[str, ...]]:
        ids = PoolIds(self.pool.name)
        return {VG: (ids.vg,), VOLUMES: (ids.volumes,),
                ADDRESSES: tuple(ids.ip(f.ip) for f in self.pool.floating_ips),
                TARGETS: tuple(ids.target(t.iqn) for t in targets_of_pool(self.config, self.pool.name))}

    @property
    def iqns(self) -> tuple[str, ...]:
        return tuple(t.iqn for t in targets_of_pool(self.config, self.pool.name))

    def phases(self) -> tuple[str, ...]:
        wanted = ORDER if self.fencing else ORDER[2:]
        return tuple(p for p in wanted if p != INITIATOR or self.iqns)


def fence_successes(status: ClusterStatus, node: str) -> int:
    return sum(1 for line in status.fencing if line.startswith(f"{node} ") and line.endswith(": success"))


def seen(move: Move, status: ClusterStatus) -> set[str]:
    """The phases (all but the initiator's) this status shows done."""
    done: set[str] = set()
    node = next((n for n in status.nodes if n.name == move.source), None)
    if move.fencing and (node is None or not node.online or node.unclean):
        done.add(FAILURE)
    if move.fencing and fence_successes(status, move.source) > move.fence_events_before:
        done.add(FENCED)
    drbd = PoolIds(move.pool.name).drbd
    if any(r.id == drbd and r.role == "Promoted" and move.destination in r.nodes for r in status.resources):
        done.add(PROMOTED)
    started = {r.id for r in status.resources if r.role == "Started" and r.nodes == (move.destination,)}
    for phase, ids in move.resources.items():
        if all(i in started for i in ids):
            done.add(phase)
    return done


@dataclass
class Tracker:
    """The first time (seconds since the drill began) each phase was seen."""

    move: Move
    times: dict[str, float] = field(default_factory=dict)
    commands_at_targets_up: int | None = None

    def update(self, elapsed: float, status: ClusterStatus | None, lun_commands: int | None) -> None:
        if status is not None:
            done = seen(self.move, status)
            for phase in (p for p in ORDER if p in done):
                self.times.setdefault(phase, round(elapsed, 1))
        if TARGETS in self.times and lun_commands is not None:
            if self.commands_at_targets_up is None:
                self.commands_at_targets_up = lun_commands
            elif lun_commands > self.commands_at_targets_up:
                self.times.setdefault(INITIATOR, round(elapsed, 1))

    @property
    def done(self) -> bool:
        return all(p in self.times for p in self.move.phases())

    def missing(self) -> list[str]:
        return [p for p in self.move.phases() if p not in self.times]

    def lines(self) -> list[str]:
        found = sorted(self.times.items(), key=lambda item: (item[1], ORDER.index(item[0])))
        return [f"{seconds:7.1f} s  {phase}" for phase, seconds in found] + \
            [f"      -    {phase}: not seen" for phase in self.missing()]


__all__ = ["ORDER", "Move", "Tracker", "fence_successes", "seen"]
