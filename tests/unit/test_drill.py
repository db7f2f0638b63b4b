"""The failover drill: phases seen in crm_mon's XML and in the new node's LUN counters (pure), and the drill over a
stand-in cluster whose status moves on with each look (the real one runs in tests/vm/cluster/test_5_failover.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sanappliance.cluster import sanconfig
from sanappliance.cluster.status import parse
from sanappliance.drbd import drill as D
from sanappliance.errors import SanError
from sanappliance.model.partition import partition
from sanappliance.service import drill
from sanappliance.service.env import Env
from tests.unit.drbd_samples import IQN, config

from .fakes import FakeSystem, MemoryStore
from .test_replicated_service import Cluster, Drbd

NODES = ("node1", "node2")


def crm_mon(promoted="node1", group_on="node1", started=("vg", "volumes", "ips", "target"), online=NODES,
            fenced=0) -> str:
    ids = {"vg": ["san-p1-vg"], "volumes": ["san-p1-volumes"], "target": [f"san-p1-target-{IQN.replace(':', '_')}"],
           "ips": ["san-p1-ip-10.0.3.100", "san-p1-ip-10.0.4.100"]}
    members = "".join(
        f'<resource id="{i}" resource_agent="x" role="{"Started" if k in started else "Stopped"}" failed="false">'
        + (f'<node name="{group_on}"/>' if k in started else "") + "</resource>"
        for k in ("vg", "volumes", "ips", "target") for i in ids[k])
    clone = "".join(f'<resource id="san-p1-drbd" resource_agent="ocf:linbit:drbd" role='
                    f'"{"Promoted" if n == promoted else "Unpromoted"}" failed="false"><node name="{n}"/></resource>'
                    for n in online)
    nodes = "".join(f'<node name="{n}" online="{"true" if n in online else "false"}" unclean="false"/>' for n in NODES)
    fences = "".join('<fence_event target="node1" action="reboot" delegate="node2" status="success"/>'
                     for _ in range(fenced))
    return (f'<pacemaker-result><summary><current_dc present="true" with_quorum="true" name="node2"/></summary>'
            f'<nodes>{nodes}</nodes><resources><clone id="san-p1-drbd-clone">{clone}</clone>'
            f'<group id="san-p1">{members}</group></resources><fence_history>{fences}</fence_history>'
            "</pacemaker-result>")


def move(fencing=False):
    cfg = config()
    return D.Move(cfg.pool("p1"), cfg, "node1", "node2", fencing)


def test_a_move_is_seen_phase_by_phase_then_the_initiator():
    tracker = D.Tracker(move())
    tracker.update(0.0, parse(crm_mon()), 100)
    assert tracker.times == {}
    tracker.update(3.2, parse(crm_mon(promoted="node2", group_on="node2", started=())), 100)
    assert tracker.times == {D.PROMOTED: 3.2}
    tracker.update(4.0, parse(crm_mon(promoted="node2", group_on="node2", started=("vg", "volumes"))), 100)
    tracker.update(5.5, parse(crm_mon(promoted="node2", group_on="node2", started=("vg", "volumes", "ips",
                                                                                  "target"))), 7)
    assert not tracker.done and D.INITIATOR not in tracker.times  # counted from the targets up
    tracker.update(6.0, None, 7)
    tracker.update(6.5, None, 9)
    assert tracker.done and tracker.times == {D.PROMOTED: 3.2, D.VG: 4.0, D.VOLUMES: 4.0, D.ADDRESSES: 5.5,
                                              D.TARGETS: 5.5, D.INITIATOR: 6.5}
    assert tracker.lines()[0].strip().startswith("3.2 s")


def test_a_fence_drill_waits_for_the_failure_and_a_new_fence_event():
    tracker = D.Tracker(replace(move(fencing=True), fence_events_before=1))
    tracker.update(1.0, parse(crm_mon(fenced=1)), None)
    assert tracker.times == {}
    tracker.update(12.0, parse(crm_mon(online=("node2",), promoted="", started=(), fenced=1)), None)
    assert tracker.times == {D.FAILURE: 12.0}
    tracker.update(40.0, parse(crm_mon(online=("node2",), promoted="", started=(), fenced=2)), None)
    assert D.FENCED in tracker.times and tracker.missing()[0] == D.PROMOTED
    assert "not seen" in tracker.lines()[-1]


def test_only_the_whole_group_on_the_new_node_counts():
    tracker = D.Tracker(move())
    tracker.update(1.0, parse(crm_mon(promoted="node2", group_on="node1")), 0)  # still on the old node
    assert tracker.times == {D.PROMOTED: 1.0}


class Watching(Cluster):
    """A cluster whose crm_mon moves the pool to node2 a few looks after the drill's move or fence."""

    def __init__(self, tmp_path, log):
        super().__init__(tmp_path, log)
        self.looks, self.acted = 0, None

    def status_xml(self):
        if self.acted is None:
            return crm_mon()
        self.looks += 1
        if self.looks < 3:
            return crm_mon(online=("node2",) if self.acted == "fence" else NODES, promoted="", started=())
        return crm_mon(promoted="node2", group_on="node2", fenced=1 if self.acted == "fence" else 0)

    def push_cib(self, text):
        super().push_cib(text)
        if "cli-prefer-san-p1-drbd-clone" in text:
            self.acted = "move"

    def fence(self, node, action, timeout):
        self.log.append(("fence", node, action))
        self.acted = "fence"

    def fence_devices_for(self, node):
        return ["fence-sbd"]

    def hostname(self):
        return "node2"


@pytest.fixture
def site(tmp_path):
    log = []
    host = Watching(tmp_path, log)
    cfg = config()
    host.cib = sanconfig.with_clustered(host.cib, host.spec, partition(cfg).clustered)  # the pool's chain
    env = Env(MemoryStore(cfg), FakeSystem())
    counts = iter(range(10**6))
    env.system.lun_commands = lambda iqns: next(counts)
    return env, drill.Hosts(host, Drbd("node2", log), hostname="node2"), log


def test_the_drill_needs_confirmation_and_then_moves_and_clears(site):
    env, hosts, log = site
    asked = drill.run(env, hosts, "p1", "move", sleep=lambda s: None)
    assert asked.dry_run and "confirm=yes" in asked.lines[0] and hosts.cluster.acted is None
    result = drill.run(env, hosts, "p1", "move", confirm=True, sleep=lambda s: None)
    assert (result.source, result.destination) == ("node1", "node2") and result.missing == ()
    assert list(result.times) == [D.PROMOTED, D.VG, D.VOLUMES, D.ADDRESSES, D.TARGETS, D.INITIATOR]
    assert "cli-prefer" not in hosts.cluster.cib  # the move's preference is gone again


def test_a_fence_drill_fences_the_serving_node(site):
    env, hosts, log = site
    result = drill.run(env, hosts, "p1", "fence", confirm=True, sleep=lambda s: None)
    assert ("fence", "node1", "reboot") in log and D.FENCED in result.times and D.FAILURE in result.times


def test_refusals_name_the_field(site):
    env, hosts, log = site
    for args, field_name in ((("p1", "explode"), "how"), (("nosuch", "move"), "pool")):
        with pytest.raises(SanError) as err:
            drill.run(env, hosts, *args, confirm=True)
        assert err.value.field == field_name
    here = drill.Hosts(hosts.cluster, hosts.drbd, hostname="node1")  # node1 serves p1: it would fence itself
    with pytest.raises(SanError) as err:
        drill.run(env, here, "p1", "fence", confirm=True)
    assert err.value.field == "how" and "node2" in err.value.message and hosts.cluster.acted is None
