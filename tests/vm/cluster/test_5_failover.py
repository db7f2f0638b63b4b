"""The replicated pool of test_4 through its failovers, with the host's initiator writing a stream of
sequence-numbered, self-checking blocks through the floating address all along (stream.py): corosync killed on the
primary (fenced through SBD within the bound of the lab profile's timeouts; the survivor promotes and serves; the
fenced node boots, rejoins and resyncs), and `sanctl /pools/p1 drill how=move` taking the pool back (a planned move
under I/O: `move` and `clear` themselves are test_2's on a resource and test_7's on the shared pool). After each,
every acknowledged write is on the disk of the node that serves the pool. The time of each phase of a
failover (failure seen, fencing confirmed, DRBD promoted, VG active, volumes, address up, target up, the
initiator's first acknowledged write) is measured from the survivor's crm_mon, and kept in
build/reports/failover.json."""

from __future__ import annotations

import json
import time

from sanappliance.lab.failover_watch import move_of, watch
from sanappliance.lab.stream import lost_writes

from ..conftest import BUILD
from .helpers import TIMEOUTS, record, rejoin, sanctl
from .test_4_replication import SERVED, assert_served_by, drbd, ok, other_of, promoted, stream

REPORT = BUILD / "reports" / "failover.json"
RESULTS: dict[str, object] = {}
MOVES: dict[str, object] = {}  # survivor -> the drill's Move, noted before the event
DEVICE = "/dev/san-p1/vol1"


def keep(name: str, value: object) -> None:
    RESULTS[name] = value
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"profile": "lab", "results": RESULTS}, indent=1) + "\n")
    print(f"{name}: {json.dumps(value)}")


def phases(lab, survivor, lost: str | None, io, t0: float, timeout: float = 600) -> dict[str, float]:
    """Seconds from t0 to each phase (drbd.drill's, as the survivor's crm_mon shows them) until the initiator's
    writes are acknowledged again after the outage. The move's configuration is read before the event."""
    return watch(survivor, MOVES.pop(survivor.name), io, t0, timeout=timeout)


def expect(lab, survivor, lost: str, fencing: bool) -> None:
    """Note the pool's move to `survivor` before the event (its configuration and fence history as they are)."""
    MOVES[survivor.name] = move_of(survivor, "p1", lost, survivor.name, fencing)


def check_writes(lab, node, io) -> None:
    problems = lost_writes(node, DEVICE, io)
    assert problems == [], f"{len(problems)} blocks wrong of {len(io.expected())}: {problems[:10]}"


def test_corosync_killed_on_the_primary_the_survivor_serves_every_acknowledged_write(lab):
    node1 = lab.node("node1")
    lost = promoted(node1)
    survivor = lab.node(other_of(lost))
    survivor.sh(f"stonith_admin --cleanup --history {lost}")
    io = stream(lab)
    try:
        lab.wait_until(lambda: io.acked() >= 40, 120, "the initiator writing through the floating address")
        expect(lab, survivor, lost, fencing=True)
        t0 = time.monotonic()
        lab.node(lost).sh("pkill -9 -x corosync", check=False)
        seen = phases(lab, survivor, lost, io, t0)
        lab.wait_until(lambda: io.acked_since(t0 + seen.get("first acknowledged write", 0)) >= 20, 120,
                       "writes after the failover")
    finally:
        io.finish()
    keep(f"corosync killed on {lost}", {"phases_s": seen, "writes_acked": io.acked(),
                                         "writes_failed": len(io.failed())})
    assert "fencing confirmed" in seen and "first acknowledged write" in seen, seen
    assert seen["fencing confirmed"] <= seen["DRBD promoted"], seen  # never promoted before the peer is fenced
    record(f"corosync killed on {lost} to fencing confirmed", seen["fencing confirmed"])
    assert seen["fencing confirmed"] < TIMEOUTS["bound_s"], (seen, TIMEOUTS)
    check_writes(lab, survivor, io)
    # the fenced node boots, rejoins, resyncs, and takes the pool back
    rejoin(lab, lost, survivor)
    started = time.monotonic()
    lab.wait_until(lambda: drbd(survivor).healthy and drbd(lab.node(lost)).healthy, 600,
                   f"{lost} resynced (UpToDate/UpToDate)", 2)
    keep(f"{lost} online to resynced", round(time.monotonic() - started, 1))
    assert sanctl(lab.node(lost), "/cluster", "status").returncode == 0


def test_the_drill_takes_the_pool_back_and_times_each_phase(lab):
    node1 = lab.node("node1")
    here = promoted(node1)
    back = other_of(here)
    refused = sanctl(node1, "/pools/p1", "drill", "how=move")
    assert refused.returncode == 0 and "confirm=yes" in refused.stdout and promoted(node1) == here
    io = stream(lab)
    try:
        lab.wait_until(lambda: io.acked() >= 40, 120, "the initiator writing through the floating address")
        t0 = time.monotonic()
        out = ok(node1, "/pools/p1", "drill", "how=move", "confirm=yes")
        lab.wait_until(lambda: io.acked_since(time.monotonic() - 1) >= 1, 120, "writes after the drill")
    finally:
        io.finish()
    drilled = {line.split(" s  ", 1)[1]: float(line.split(" s  ", 1)[0]) for line in out.splitlines()
               if " s  " in line}
    keep(f"drill how=move {here} -> {back}", {"phases_s": drilled, "initiator_outage_s": round(
        io.longest_gap(t0), 1), "writes_acked": io.acked(), "writes_failed": len(io.failed())})
    assert f"moved from {here} to {back}" in out, out
    assert list(drilled)[:2] == ["DRBD promoted", "VG active"] and "first initiator command" in drilled, out
    assert "cli-prefer" not in node1.sh("cibadmin --query --scope constraints").stdout
    assert_served_by(lab, back, SERVED)
    check_writes(lab, lab.node(back), io)
