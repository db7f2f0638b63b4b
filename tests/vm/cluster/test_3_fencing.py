"""Fencing for real: `fence node2` and a cut cluster link each end with the node fenced through SBD, and the fenced
node rejoins when it boots again. (A killed corosync, fenced within the bound derived from the lab profile's timeouts,
is test_5's failover of the primary, and a powered-off node test_9's: each fence costs a node's reboot and rejoin,
minutes under TCG, so each way of losing a node is made once.)"""

import time

from .helpers import (
    fenced_ok,
    record,
    rejoin,
    sanctl,
    wait_where,
    where,
)


def test_fence_node2_then_it_rejoins(lab):
    node1 = lab.node("node1")
    started = time.monotonic()
    result = sanctl(node1, "/cluster", "fence", "node2")
    assert result.returncode == 0, result.stderr
    record("fence node2: command to confirmed", time.monotonic() - started)
    lab.wait_until(lambda: not lab.node("node2").alive(), 120, "node2 reset (qemu ends: -no-reboot)")
    assert fenced_ok(node1, "node2")
    assert "fencing: node2 reboot" in sanctl(node1, "/cluster", "status", check=True).stdout
    rejoin(lab, "node2", node1)


def test_cutting_the_cluster_link_leaves_exactly_one_node_serving(lab):
    node1 = lab.node("node1")
    serving = where(node1)[0]
    idle = "node2" if serving == "node1" else "node1"
    lab.node(idle).sh(f"stonith_admin --cleanup --history {idle}", check=False)
    lab.cut("node2", "cluster")
    started = time.monotonic()
    lab.wait_until(lambda: not lab.node(idle).alive(), 300, f"{idle} fenced after the split")
    record("link cut to the idle node reset", time.monotonic() - started)
    survivor = lab.node(serving)
    assert survivor.alive()
    lab.wait_until(lambda: fenced_ok(survivor, idle), 120, f"{idle} fencing confirmed on {serving}", 2)
    # right after the fence Pacemaker may still be settling its transition: the dummy must stay (or be) on the survivor
    wait_where(lab, survivor, [serving], timeout=120)
    if lab.node("node2").alive():  # node2 survived with its cable pulled: plug it back (a fenced node2 boots with it)
        lab.restore("node2", "cluster")
    rejoin(lab, idle, survivor)
