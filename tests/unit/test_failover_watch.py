"""The host-side failover watcher (lab/failover_watch.py) over a stand-in survivor whose crm_mon moves on with each
look and a stand-in initiator stream (the real ones: tests/vm/cluster/test_5_failover.py, bench-failover)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from sanappliance.cluster import cib as ccib
from sanappliance.cluster import sanconfig
from sanappliance.drbd import drill as D
from sanappliance.lab import failover_watch as W
from sanappliance.model.partition import partition
from tests.unit.cluster_samples import two_nodes
from tests.unit.drbd_samples import IQN, config

from .test_drill import crm_mon


class Survivor:
    name = "node2"

    def __init__(self, looks):
        self.looks = list(looks)
        self.cib = sanconfig.with_clustered(ccib.render_cib(two_nodes()), two_nodes(), partition(config()).clustered)

    def sh(self, command):
        if command.startswith("cibadmin"):
            return SimpleNamespace(stdout=self.cib)
        return SimpleNamespace(stdout=self.looks.pop(0) if len(self.looks) > 1 else self.looks[0])


class Io:
    def __init__(self, back):
        self.back = back

    def outage(self, since):
        return (self.back - since, self.back) if self.back is not None else (0.0, None)


def test_a_power_off_is_watched_through_the_drill_s_phases_to_the_first_write(monkeypatch):
    clock = iter(float(t) for t in range(100, 10_000))
    monkeypatch.setattr(W.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(W.time, "sleep", lambda s: None)
    survivor = Survivor([crm_mon(fenced=0), crm_mon(fenced=0)] + [crm_mon(online=("node2",), promoted="",
                         started=(), fenced=1)] * 2 + [crm_mon(promoted="node2", group_on="node2",
                                                               online=("node2",), fenced=1)])
    move = W.move_of(survivor, "p1", "node1", "node2", True)
    assert move.fence_events_before == 0 and move.iqns
    t0 = next(clock)
    phases = W.watch(survivor, move, Io(back=t0 + 30.0), t0, timeout=100)
    assert list(phases)[:3] == [D.FAILURE, D.FENCED, D.PROMOTED] and phases[D.TARGETS] <= phases[W.FIRST_WRITE]
    assert phases[W.OUTAGE] == 30.0


def test_no_write_after_the_targets_means_no_first_write(monkeypatch):
    clock = iter(float(t) for t in range(0, 10_000))
    monkeypatch.setattr(W.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(W.time, "sleep", lambda s: None)
    survivor = Survivor([crm_mon(promoted="node2", group_on="node2")])
    phases = W.watch(survivor, W.move_of(survivor, "p1", "node1", "node2", False), Io(back=None), 0.0, timeout=20)
    assert D.TARGETS in phases and W.FIRST_WRITE not in phases


def test_stock_targets_are_up_when_their_own_resources_are_started(monkeypatch):
    # the stock rounds of bench-failover: the pool's configuration has no target of the appliance, so the drill's
    # tracker has none to wait for; the stock primitives' ids say when the targets are up
    clock = iter(float(t) for t in range(0, 10_000))
    monkeypatch.setattr(W.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(W.time, "sleep", lambda s: None)
    stock = f"san-p1-target-{IQN.replace(':', '_')}"
    survivor = Survivor([crm_mon(promoted="node2", group_on="node2", started=("vg", "volumes", "ips"))] * 4
                        + [crm_mon(promoted="node2", group_on="node2")])
    cfg = replace(config(), targets=())
    move = D.Move(cfg.pool("p1"), cfg, "node1", "node2", False)
    phases = W.watch(survivor, move, Io(back=50.0), 0.0, timeout=100, targets=(stock,))
    assert phases[D.PROMOTED] < phases[D.TARGETS] and phases[D.TARGETS] > phases[D.ADDRESSES], phases
    assert phases[W.FIRST_WRITE] == 50.0
