"""The end of the cluster: the node serving the replicated pool (and, since test_7, the shared-disk pool) is powered
off (qemu killed) while the host's initiator writes through p1's floating address and test_7's client VM through
its multipath map; the survivor fences it (the time to the confirmed fence is measured), promotes, serves both
pools and their targets, and every acknowledged write of both is on the survivor's disks (phases in
build/reports/failover.json). The dead node is removed; the shared pool is deleted on the node left (its VG, its
maps, the lock managers go); the last node leaves (force: it holds the replicated pool): a single node again."""

import time

from sanappliance.lab.stream import lost_writes

from ..conftest import BUILD
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
from .test_7_shared import ALIAS, CLIENT, DEVICE, IQN, POOL, STATE, VOLUME, served_on, starts_since

NAMES: dict[str, str] = {}
LOGS = BUILD / "test-logs" / "cluster-power-off"


def test_hard_power_off_of_the_primary_the_survivor_serves_every_acknowledged_write(lab):
    lost = promoted(lab.node("node1"))
    survivor = lab.node(other_of(lost))
    NAMES.update(lost=lost, survivor=survivor.name)
    survivor.sh(f"stonith_admin --cleanup --history {lost}")
    io = stream(lab)
    try:
        lab.wait_until(lambda: io.acked() >= 40, 120, "the initiator writing through the floating address")
        expect(lab, survivor, lost, fencing=True)
        clock = float(survivor.sh("date +%s.%N").stdout)  # the survivor's, for the shared pool's starts
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
    shared_io = STATE.get("stream")
    if shared_io is None:  # test_7 did not get as far as the client's writes
        return
    lab.wait_until(lambda: served_on(survivor) == survivor.name, 300, f"the shared pool on {survivor.name}", 3)
    before = shared_io.acked()
    lab.wait_until(lambda: shared_io.acked() >= before + 20, 300, "the client writing after the failover", 2)
    shared_io.finish()
    keep(f"power-off of {lost}: the shared pool's client", {
        "writes_acked": sum(1 for w in shared_io.writes if w.acked), "writes_failed": len(shared_io.failed()),
        "longest_gap_s": round(shared_io.longest_gap(), 1), "pool_started_s": starts_since(survivor, clock)})
    record(f"{lost} powered off: the longest pause of the shared pool's client writes", shared_io.longest_gap())
    story = survivor.sh(f"journalctl -o short-precise --since=@{int(clock)} --no-pager", check=False).stdout
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{survivor.name}-after-power-off.txt").write_text(story)  # the survivor's takeover, kept also on a pass
    assert shared_io.failed() == [], shared_io.failed()[:5]
    problems = lost_writes(survivor, DEVICE, shared_io)
    assert problems == [], f"{len(problems)} blocks wrong of {len(shared_io.expected())}: {problems[:10]}"


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
    if CLIENT in lab.nodes:
        lab.node(CLIENT).sh("iscsiadm -m node --logoutall=all", check=False, timeout=180)
        lab.remove_node(CLIENT)
    if any(line.strip().startswith(POOL) for line in sanctl(node, "ls", "/pools").stdout.splitlines()):
        for args in (("/iscsi", "delete", IQN), ("/volumes", "delete", VOLUME), ("/pools", "delete", POOL)):
            result = sanctl(node, *args)
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        resources = node.sh("cibadmin --query --scope resources").stdout
        assert "san-s1" not in resources and "san-dlm" not in resources and "san-lvmlockd" not in resources
        assert not node.sh(f"test -e /dev/mapper/{ALIAS}", check=False).ok
        assert "san-s1" not in node.sh("lvm vgs --noheadings -o vg_name").stdout
        assert f"alias {ALIAS}" not in node.sh("cat /etc/multipath.conf").stdout
    refused = sanctl(node, "/cluster", "leave")
    assert refused.returncode != 0 and "p1" in refused.stderr and "force" in refused.stderr, refused.stderr
    result = sanctl(node, "/cluster", "leave", "force=yes")
    assert result.returncode == 0, result.stderr
    assert "last node" in result.stdout
    assert "No such file" in untouched(node) and "No cluster" in sanctl(node, "/cluster", "status").stdout
    assert node.sh("systemctl is-enabled corosync pacemaker sbd", check=False).stdout.split() == ["disabled"] * 3
    listing = sanctl(node, "ls", check=True).stdout
    # p1 is gone from the pools; "p1" alone would match the volume keep1 that test_2's restore brought back
    assert "single node, no cluster" in listing and "[Pools: 0]" in listing, listing
