"""A real split brain on the pool test_5 left served by one node, and its guided recovery with sanctl. With the cluster
in maintenance mode (Pacemaker leaves DRBD alone) the replication link is cut; the serving node (the survivor) writes
a marker at the start of vol2, the other node (the victim) is forced Primary with drbdadm-84, overwrites the same
region on /dev/drbd0 and steps down; the link comes back and DRBD finds both changed: StandAlone on both.
`sanctl /pools/p1 status` shows it with both nodes' generations; `recover victim=OTHER` without confirm=yes changes
nothing; with it the victim discards its changes and resyncs from the survivor, whose marker is then on the
victim's backing disk too; maintenance off, the pool is still served where it was."""

from __future__ import annotations

import time

from sanappliance.drbd import commands

from .helpers import mon, record, sanctl
from .test_4_replication import (
    DISKS,
    SERVED,
    assert_served_by,
    drbd,
    fence_constraints,
    ok,
    other_of,
    promoted,
    serving,
)

RES = "san-p1"
VOL = "/dev/san-p1/vol2"  # 32 MiB (test_4); the initiator stream of test_5 writes vol1
MIB = 4


def region(node, device: str, offset: int) -> str:
    """sha256 of MIB MiB of `device` from byte `offset`, read past the page cache."""
    out = node.sh(f"dd if={device} bs=1M count={MIB} skip={offset} iflag=skip_bytes,direct status=none | sha256sum")
    return out.stdout.split()[0]


def vol2_offset(node) -> int:
    """vol2's first byte on /dev/drbd0 (its linear device-mapper table): the same byte on the backing disk, as DRBD
    8.4's internal meta data is at the disk's end."""
    start, length, kind, device, sector = node.sh("dmsetup table san--p1-vol2").stdout.split()[:5]
    assert kind == "linear" and start == "0", (kind, start)
    return int(sector) * 512


def test_a_split_brain_is_shown_with_both_generations_and_recovered_discarding_the_victim(lab):
    node1 = lab.node("node1")
    here = promoted(node1)
    there = other_of(here)
    survivor, victim = lab.node(here), lab.node(there)
    assert drbd(survivor).healthy and drbd(victim).healthy
    offset = vol2_offset(survivor)
    ok(node1, "/cluster", "maintenance", "on")
    try:
        lab.cut(there, "repl")
        lab.wait_until(lambda: not drbd(survivor).connected and not drbd(victim).connected, 120,
                       "DRBD disconnected on both nodes", 1)
        survivor.sh(f"dd if=/dev/urandom of={VOL} bs=1M count={MIB} oflag=direct status=none")
        kept = region(survivor, VOL, 0)
        victim.sh(" ".join(commands.primary_force_argv(RES)), timeout=180)  # its fence-peer handler runs first
        victim.sh(f"dd if=/dev/urandom of=/dev/drbd0 bs=1M count={MIB} seek={offset} oflag=seek_bytes,direct "
                  "status=none")
        victim.sh(" ".join(commands.secondary_argv(RES)))
        assert region(victim, DISKS[there], offset) != kept
        lab.restore(there, "repl")
        lab.wait_until(lambda: drbd(survivor).standalone and drbd(victim).standalone, 180,
                       "DRBD's split brain: StandAlone on both nodes", 1)
        for node in (node1, victim):
            status = ok(node, "/pools/p1", "status")
            assert "pool p1: SPLIT BRAIN" in status and status.count("generations: current") == 2, status
            assert f"changed since: {node.name}, {other_of(node.name)}" in status, status
        plan = ok(node1, "/pools/p1", "recover", f"victim={there}")
        assert "nothing changed: give confirm=yes" in plan and "--discard-my-data" in plan, plan
        assert f"lost: {there}'s changes since the split" in plan, plan
        refused = sanctl(node1, "/pools/p1", "recover", f"victim={here}", "confirm=yes")
        assert refused.returncode != 0 and f"sanctl /pools/p1 move {there}" in refused.stderr, refused.stderr
        assert drbd(survivor).standalone and drbd(victim).standalone
        started = time.monotonic()
        done = ok(node1, "/pools/p1", "recover", f"victim={there}", "confirm=yes")
        assert f"{there} resyncs from {here}" in done, done
        lab.wait_until(lambda: drbd(survivor).healthy and drbd(victim).healthy, 300,
                       "the victim resynced (UpToDate/UpToDate)", 1)
        record("split brain: recover confirmed to UpToDate/UpToDate", time.monotonic() - started)
        assert region(victim, DISKS[there], offset) == kept == region(survivor, VOL, 0)
        # crm-unfence-peer (the victim's after-resync-target) lifts the split's fence constraint; it must be gone
        # before Pacemaker acts again, or it would hold the Promoted role where the constraint says
        lab.wait_until(lambda: fence_constraints(survivor) == [], 120, "no fence constraint left", 2)
    finally:
        lab.restore(there, "repl")
        off = sanctl(node1, "/cluster", "maintenance", "off")
    assert off.returncode == 0, off.stdout + off.stderr
    lab.wait_until(lambda: mon(survivor).find("summary/cluster_options").get("maintenance-mode") == "false" and
                   serving(survivor, here, there, SERVED), 180, f"maintenance off, the pool served by {here}", 2)
    assert_served_by(lab, here, SERVED)
