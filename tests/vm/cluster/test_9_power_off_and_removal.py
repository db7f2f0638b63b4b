"""The end of the cluster: the node serving the replicated pool is powered off (qemu killed) while the host's
initiator writes through the floating address; the survivor fences it (the time to the confirmed fence is
measured), promotes, serves the pool and its target, and every acknowledged write is on its disk (phases in
build/reports/failover.json). The dead node is removed, and the last node leaves (force: it holds the replicated
pool): a single node again."""

import time

from .helpers import (
    TIMEOUTS,
    fenced_ok,
    record,
    sanctl,
    untouched,
    where,
)
from .test_4_replication import other_of, promoted, stream
from .test_5_failover import check_writes, expect, keep, phases

NAMES: dict[str, str] = {}


def test_hard_power_off_of_the_primary_the_survivor_serves_every_acknowledged_write(lab):
    lost = promoted(lab.node("node1"))
    survivor = lab.node(other_of(lost))
    NAMES.update(lost=lost, survivor=survivor.name)
    survivor.sh(f"stonith_admin --cleanup --history {lost}")
    io = stream(lab)
    try:
        lab.wait_until(lambda: io.acked() >= 40, 120, "the initiator writing through the floating address")
        expect(lab, survivor, lost, fencing=True)
        t0 = time.monotonic()
        lab.node(lost).kill()
        seen = phases(lab, survivor, lost, io, t0)  # fencing confirmed among them
        lab.wait_until(lambda: io.acked_since(t0 + seen.get("first acknowledged write", 0)) >= 20, 120,
                       "writes after the failover")
    finally:
        io.finish()
    keep(f"power-off of {lost}", {"phases_s": seen, "writes_acked": io.acked(), "writes_failed": len(io.failed())})
    assert "fencing confirmed" in seen and fenced_ok(survivor, lost), seen
    record(f"{lost} powered off to fencing confirmed", seen["fencing confirmed"])
    assert seen["fencing confirmed"] < TIMEOUTS["bound_s"]
    assert "first acknowledged write" in seen, seen
    record(f"{lost} powered off to the initiator's first acknowledged write on {survivor.name}",
           seen["first acknowledged write"])
    check_writes(lab, survivor, io)
    lab.wait_until(lambda: where(survivor) == [survivor.name], 120, f"san-dummy running on {survivor.name}", 2)


def test_a_dead_node_is_removed_then_the_last_node_leaves(lab):
    lost, name = NAMES.get("lost", "node2"), NAMES.get("survivor", "node1")
    node = lab.node(name)
    assert not lab.node(lost).alive()
    refused = sanctl(node, "/cluster", "remove", name)
    assert refused.returncode != 0 and "itself" in refused.stderr
    started = time.monotonic()
    result = sanctl(node, "/cluster", "remove", lost)
    assert result.returncode == 0, result.stderr
    record(f"remove {lost} ({name}'s stack restarts)", time.monotonic() - started)
    assert lost not in node.sh("cat /etc/corosync/corosync.conf").stdout
    lab.wait_until(lambda: "1/1 nodes online, quorate" in sanctl(node, "/cluster", "status").stdout, 300,
                   f"{name} alone and quorate", 3)
    lab.wait_until(lambda: where(node) == [name], 180, f"san-dummy on {name}", 3)
    refused = sanctl(node, "/cluster", "leave")
    assert refused.returncode != 0 and "p1" in refused.stderr and "force" in refused.stderr, refused.stderr
    result = sanctl(node, "/cluster", "leave", "force=yes")
    assert result.returncode == 0, result.stderr
    assert "last node" in result.stdout
    assert "No such file" in untouched(node) and "No cluster" in sanctl(node, "/cluster", "status").stdout
    assert node.sh("systemctl is-enabled corosync pacemaker sbd", check=False).stdout.split() == ["disabled"] * 3
    listing = sanctl(node, "ls", check=True).stdout
    assert "single node, no cluster" in listing and "p1" not in listing, listing
