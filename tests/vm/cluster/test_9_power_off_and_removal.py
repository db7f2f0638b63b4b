"""The end of the cluster: a node powered off is fenced (the time to the confirmed fence is measured) and the
replicated pool, its target included, ends up served by the survivor; the dead node is removed, and the last node
leaves: a single node again."""

import time

from .helpers import (
    TIMEOUTS,
    fenced_ok,
    record,
    sanctl,
    untouched,
    where,
)
from .test_4_replication import chain


def test_hard_power_off_to_fencing_confirmed(lab):
    node1 = lab.node("node1")
    node1.sh("stonith_admin --cleanup --history node2")
    pool_group = tuple(r for r in chain(node1)[1])  # the pool's group as it runs now (VG, address, target)
    started = time.monotonic()
    lab.node("node2").kill()
    seconds = lab.wait_until(lambda: fenced_ok(node1, "node2"), 300, "node2 fenced after its power-off", 1)
    record("node2 powered off to fencing confirmed", seconds)
    assert seconds < TIMEOUTS["bound_s"]
    lab.wait_until(lambda: len(where(node1)) == 1, 120, "san-dummy running on node1", 2)
    assert where(node1) == ["node1"]
    lab.wait_until(lambda: (lambda roles, group: roles.get("node1") == "Promoted" and all(
        group.get(r) == ["node1"] for r in pool_group))(*chain(node1)), 400, "the pool served by node1", 2)
    record("node2 powered off to the replicated pool served by node1", time.monotonic() - started)


def test_a_dead_node_is_removed_then_the_last_node_leaves(lab):
    node1 = lab.node("node1")
    assert not lab.node("node2").alive()
    refused = sanctl(node1, "/cluster", "remove", "node1")
    assert refused.returncode != 0 and "itself" in refused.stderr
    started = time.monotonic()
    result = sanctl(node1, "/cluster", "remove", "node2")
    assert result.returncode == 0, result.stderr
    record("remove node2 (node1's stack restarts)", time.monotonic() - started)
    assert "node2" not in node1.sh("cat /etc/corosync/corosync.conf").stdout
    lab.wait_until(lambda: "1/1 nodes online, quorate" in sanctl(node1, "/cluster", "status").stdout, 300,
                   "node1 alone and quorate", 3)
    lab.wait_until(lambda: where(node1) == ["node1"], 180, "san-dummy on node1", 3)
    result = sanctl(node1, "/cluster", "leave")
    assert result.returncode == 0, result.stderr
    assert "last node" in result.stdout
    assert "No such file" in untouched(node1) and "No cluster" in sanctl(node1, "/cluster", "status").stdout
    assert node1.sh("systemctl is-enabled corosync pacemaker sbd", check=False).stdout.split() == ["disabled"] * 3
    assert "single node, no cluster" in sanctl(node1, "ls", check=True).stdout
