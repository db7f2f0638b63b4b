"""A shared-disk pool (issue 8) on the cluster the earlier modules formed, made only with `sanctl`: the shelf's disk
(conftest.SHELF) that both nodes see over two SCSI paths each becomes one multipath map with the same alias on both
nodes, dlm and lvmlockd run as clones on both, the shared VG's volume is active only on the node that serves the
pool (lvmlockd refuses it on the other), and its target has one portal per network (one floating address on each
of the lab's two networks). A client VM (the appliance image as an initiator: open-iscsi and dm-multipath, set up
with the settings `sanctl /pools/s1 initiators` prints) logs in over both portals and writes a stream of
self-checking blocks through its multipath map. One backend path of the serving node is pulled (QMP device_del:
its multipath map runs on the other path) and one of the client's networks is cut (its map runs on the other
portal): the writes go on. The pool is then moved to the node serving the replicated pool p1, so that test_9's
power-off of that node fails both over at once; test_9 checks the client's writes and deletes the pool."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET

from sanappliance.drbd.cib import PoolIds
from sanappliance.lab.guest_stream import GuestStream
from sanappliance.lab.qemu import mac
from sanappliance.lab.spec import NodeSpec
from sanappliance.multipath.model import default_alias

from .conftest import SHELF
from .helpers import mon, record, sanctl
from .test_4_replication import ok, other_of, promoted

POOL = "s1"
IDS = PoolIds(POOL)
WWID = SHELF.wwid
ALIAS = default_alias(WWID)
FIPS = ("10.231.1.101", "10.231.2.101")  # one on each of the lab's networks: the client's two paths
IQN = "iqn.2026-12.org.example:shared"
CLIENT = "client"
CLIENT_IQN = "iqn.1994-05.com.example:client"
USER, SECRET = "shareduser", "shared-secret-4711"
VOLUME, DEVICE = "sv1", "/dev/san-s1/sv1"
STATE: dict[str, object] = {}  # for test_9: the client's stream, the LUN's map on the client


def group(node) -> dict[str, list[str]]:
    """The pool's group resources -> the nodes where they are Started."""
    return {r.get("id"): ([n.get("name") for n in r.findall("node")] if r.get("role") == "Started" else [])
            for r in mon(node).findall(f".//group[@id='{IDS.group}']/resource")}


def clone_nodes(node, clone: str) -> list[str]:
    return sorted(n.get("name") for r in mon(node).findall(f".//clone[@id='{clone}']/resource")
                  if r.get("role") == "Started" for n in r.findall("node"))


def served_on(node) -> str:
    found = {tuple(nodes) for nodes in group(node).values()}
    return found.pop()[0] if len(found) == 1 and () not in found else ""


def serving(node) -> str:
    """The node that serves the whole group; fails naming where each member is when no one node does."""
    here = served_on(node)
    assert here, f"the shared pool is not served on one node: {group(node)}"
    return here


def starts_since(node, since: float) -> dict[str, dict[str, float]]:
    """Each of the pool's group members started on `node` after `since` (the node's clock, epoch seconds) -> when
    that start ended, in seconds from `since`, and how long the agent ran (the CIB's operation history:
    last-rc-change, exec-time)."""
    members = set(group(node))
    status = ET.fromstring(node.sh("cibadmin --query --scope status").stdout)
    found = {}
    for rsc in status.findall(f".//node_state[@uname='{node.name}']/lrm/lrm_resources/lrm_resource"):
        for op in rsc.findall("lrm_rsc_op[@operation='start']"):
            done = float(op.get("last-rc-change", "0"))
            if rsc.get("id") in members and done >= since and op.get("rc-code") == "0":
                found[rsc.get("id")] = {"ended_s": round(done - since, 1),
                                        "ran_s": round(int(op.get("exec-time", "0")) / 1000, 1)}
    return dict(sorted(found.items(), key=lambda kv: kv[1]["ended_s"]))


def mp_paths(node, name: str) -> list[tuple[str, str]]:
    """(the path's state in the map, the checker's) of each path of map `name` as multipathd shows them."""
    out = node.sh('multipathd show paths raw format "%m|%t|%T"', check=False).stdout
    return [tuple(line.split("|")[1:]) for line in out.splitlines() if line.split("|")[0] == name]


def active(node, name: str) -> int:
    return sum(1 for dm, chk in mp_paths(node, name) if dm == "active" and chk == "ready")


def test_both_nodes_see_the_shelf_disk_over_two_paths_and_nothing_multipaths_it_yet(lab):
    for name in ("node1", "node2"):
        listing = ok(lab.node(name), "/multipath", "ls")
        line = next(x for x in listing.splitlines() if x.startswith(WWID))
        assert "[free]" in line and "2 paths, no map" in line, listing
        assert not lab.node(name).sh(f"test -e /dev/mapper/{ALIAS}", check=False).ok


def test_bad_input_changes_nothing(lab):
    node1 = lab.node("node1")
    before = node1.sh("cibadmin --query --scope resources").stdout
    for args, field in ((("/dev/sda",), "disks[0]"), (("35000c500deadbeef",), "disks[0]"),
                        ((WWID, "ip=10.231.1.101"), "ip[0]"), ((WWID, "alias=sda"), "alias")):
        result = sanctl(node1, "/pools", "create_shared", POOL, *args)
        assert result.returncode != 0 and field in result.stderr, (args, result.stderr)
    reserved = sanctl(node1, "/pools", "create_shared", "dlm", WWID)
    assert reserved.returncode != 0 and "dlm" in reserved.stderr, reserved.stderr
    assert node1.sh("cibadmin --query --scope resources").stdout == before
    for name in ("node1", "node2"):
        assert not lab.node(name).sh("test -e /etc/multipath.conf", check=False).ok


def test_create_shared_makes_the_same_map_on_both_nodes_and_starts_the_lock_managers_and_the_pool(lab):
    node1 = lab.node("node1")
    started = time.monotonic()
    out = ok(node1, "/pools", "create_shared", POOL, WWID, f"ip={FIPS[0]}/24,{FIPS[1]}/24", timeout=1200)
    record("sanctl create_shared (maps on both nodes, lock managers, shared VG, CIB pushed)",
           time.monotonic() - started)
    assert f"Created shared pool {POOL}" in out, out
    lab.wait_until(lambda: served_on(node1) != "", 600, "the shared pool's group started", 3)
    for name in ("node1", "node2"):
        node = lab.node(name)
        assert node.sh(f"test -b /dev/mapper/{ALIAS}", check=False).ok, name
        assert active(node, ALIAS) == 2, (name, mp_paths(node, ALIAS))
        conf = node.sh("cat /etc/multipath.conf").stdout
        assert f"alias {ALIAS}" in conf and "/dev/sd" not in conf and "dm-" not in conf, conf
        assert "use_lvmlockd=1" in node.sh("lvmconfig global/use_lvmlockd").stdout
    assert clone_nodes(node1, "san-dlm-clone") == ["node1", "node2"]
    assert clone_nodes(node1, "san-lvmlockd-clone") == ["node1", "node2"]
    assert node1.sh("crm_verify --live-check", check=False).returncode == 0
    # crm_simulate on the live CIB predicts what runs now: nothing left to start or move
    simulated = node1.sh("crm_simulate --live-check --simulate", check=False).stdout
    summary = simulated.split("Transition Summary:", 1)[-1].split("Executing Cluster Transition:", 1)[0]
    assert not re.search(r"^\s*\* (Start|Stop|Move|Recover|Promote|Demote|Restart)\s", summary, re.M), simulated
    assert f"san-s1-vg\t(ocf:heartbeat:LVM-activate):\t Started {served_on(node1)}" in simulated, simulated
    listing = ok(node1, "ls", "/pools")
    assert f"shared on {ALIAS}: 2/2 paths up" in listing, listing


def test_a_volume_is_active_only_where_the_pool_is_served_and_the_target_has_a_portal_per_network(lab):
    node1 = lab.node("node1")
    here = served_on(node1)
    other = lab.node(other_of(here))
    ok(other, "/volumes", "create", VOLUME, "64M", f"pool={POOL}")  # from the node that does not serve it
    ok(node1, "/iscsi", "create", IQN)
    tpg = f"/iscsi/{IQN}/tpg1"
    ok(node1, f"{tpg}/portals", "delete", "0.0.0.0")
    for fip in FIPS:
        ok(node1, f"{tpg}/portals", "create", fip)
    ok(node1, f"{tpg}/acls", "create", CLIENT_IQN, f"userid={USER}", f"password={SECRET}")
    ok(node1, f"{tpg}/luns", "create", VOLUME)
    lab.wait_until(lambda: IDS.target(IQN) in group(node1) and served_on(node1) == here, 300,
                   "the target started with the pool", 3)
    lv = lab.node(here).sh(f"lvm lvs --noheadings -o lv_active {DEVICE.removeprefix('/dev/')}").stdout
    assert lv.strip() == "active", lv
    assert other.sh(f"lvm lvs --noheadings -o lv_active {DEVICE.removeprefix('/dev/')}").stdout.strip() == ""
    refused = other.sh(f"lvm lvchange -ay {DEVICE.removeprefix('/dev/')}", check=False)
    assert not refused.ok and "lock" in (refused.stderr + refused.stdout).lower(), refused
    portals = lab.node(here).sh(f"ls /sys/kernel/config/target/iscsi/{IQN}/tpgt_1/np").stdout.split()
    assert sorted(portals) == sorted(f"{fip}:3260" for fip in FIPS), portals


def _client_nics(client) -> list[str]:
    """The client's interfaces on the cluster and repl networks, in that order (matched by the lab's MACs)."""
    links = json.loads(client.sh("ip -j link").stdout)
    index = client.wiring.index
    return [next(link["ifname"] for link in links if link.get("address") == mac(index, nic)) for nic in (1, 2)]


def test_a_client_with_two_portals_writes_through_its_multipath_map(lab):
    node1 = lab.node("node1")
    started = time.monotonic()
    client = lab.add_node(NodeSpec(CLIENT, networks=("cluster", "repl")))
    record("client VM booted", time.monotonic() - started)
    nics = _client_nics(client)
    settings = ok(node1, f"/pools/{POOL}", "initiators", f"nics={','.join(nics)}")
    iscsid = settings.split("# /etc/multipath.conf", 1)[0].split("# /etc/iscsi/iscsid.conf", 1)[1]
    device = settings.split("# /etc/multipath.conf", 1)[1].split("# the binding", 1)[0]
    binding = [line for line in settings.split("# the binding (run once)", 1)[1].splitlines()
               if line.startswith("iscsiadm")]
    assert len([b for b in binding if "--login" in b]) == 2 and "no_path_retry" in device, settings
    client.sh(f"echo InitiatorName={CLIENT_IQN} > /etc/iscsi/initiatorname.iscsi\n"
              f"cat >> /etc/iscsi/iscsid.conf <<'EOF'\n{iscsid}\nnode.session.auth.authmethod = CHAP\n"
              f"node.session.auth.username = {USER}\nnode.session.auth.password = {SECRET}\nEOF\n"
              f"cat > /etc/multipath.conf <<'EOF'\ndefaults {{\n    user_friendly_names no\n"
              f"    find_multipaths greedy\n}}\n{device}EOF\n"
              "systemctl start iscsid multipathd")
    for command in binding:
        client.sh(command, timeout=180)
    lab.wait_until(lambda: len(client.sh("iscsiadm -m session", check=False).stdout.splitlines()) == 2, 120,
                   "two sessions, one per portal", 2)
    lab.wait_until(lambda: _lun_map(client) != "", 120, "the LUN's multipath map on the client", 2)
    name = _lun_map(client)
    lab.wait_until(lambda: active(client, name) == 2, 120, "both paths active on the client", 2)
    io = GuestStream(client, f"/dev/mapper/{name}", blocks=4096).start()
    lab.wait_until(lambda: io.acked() >= 40, 180, "the client writing through its map", 2)
    STATE.update(stream=io, map=name)
    record("client set up: two sessions, one map, writing", time.monotonic() - started)


def _lun_map(client) -> str:
    out = client.sh('multipathd show maps raw format "%n|%w"', check=False).stdout
    return next((line.split("|")[0] for line in out.splitlines() if "|" in line), "")


def _keeps_writing(lab, io, seconds: float, what: str) -> int:
    before = io.acked()
    lab.wait_until(lambda: io.acked() >= before + 20, seconds, what, 2)
    return io.acked() - before


def test_a_pulled_backend_path_and_a_cut_client_network_leave_the_writes_going(lab):
    io, name = STATE["stream"], STATE["map"]
    here = lab.node(serving(lab.node("node1")))
    client = lab.node(CLIENT)
    here.set_path(SHELF.serial, 0, False)
    try:
        lab.wait_until(lambda: active(here, ALIAS) == 1 and len(mp_paths(here, ALIAS)) == 1, 120,
                       "the serving node's map on one path", 2)
        _keeps_writing(lab, io, 120, "writes with one backend path")
        assert f"{ALIAS}: 1/1 paths up" in ok(here, "ls", "/pools")  # the pulled path's device is gone
    finally:
        here.set_path(SHELF.serial, 0, True)
    lab.wait_until(lambda: active(here, ALIAS) == 2, 180, "the pulled path back in the map", 2)
    # a failed path whose device stays (the other node: its SCSI device offline) shows as DEGRADED
    other = lab.node(other_of(here.name))
    device = other.sh(f'multipathd show paths raw format "%m|%d" | grep "^{ALIAS}|" | head -1').stdout
    device = device.strip().split("|")[1]
    other.sh(f"echo offline > /sys/block/{device}/device/state")
    try:
        lab.wait_until(lambda: active(other, ALIAS) == 1, 120, f"{device} failed in the map", 2)
        listing = ok(other, "ls", "/pools")
        assert f"{ALIAS}: 1/2 paths up ({device} failed" in listing, listing
    finally:
        other.sh(f"echo running > /sys/block/{device}/device/state")
    lab.wait_until(lambda: active(other, ALIAS) == 2, 120, f"{device} back in the map", 2)
    lab.cut(CLIENT, "repl")
    try:
        lab.wait_until(lambda: active(client, name) == 1, 180, "the client's map on one portal", 2)
        _keeps_writing(lab, io, 120, "writes over one portal")
    finally:
        lab.restore(CLIENT, "repl")
    lab.wait_until(lambda: active(client, name) == 2, 240, "the client's second path back", 2)
    assert io.read() and not io.failed(), io.failed()[:5]


def test_the_pool_moves_with_sanctl_and_goes_where_p1_is_served(lab):
    """A manual move of the shared pool under the client's writes, to the node serving p1: test_9 powers that
    node off and both pools fail over at once."""
    node1 = lab.node("node1")
    io = STATE["stream"]
    here = serving(node1)
    has_p1 = mon(node1).find(".//clone[@id='san-p1-drbd-clone']") is not None
    target = promoted(node1) if has_p1 else other_of(here)  # (p1 is there unless test_4 was left out)
    if here == target:  # move it away and back: a real move either way
        ok(node1, f"/pools/{POOL}", "move", other_of(target))
        lab.wait_until(lambda: served_on(node1) == other_of(target), 300, "the shared pool moved away", 3)
    started = time.monotonic()
    ok(node1, f"/pools/{POOL}", "move", target)
    lab.wait_until(lambda: served_on(node1) == target, 300, f"the shared pool on {target}", 3)
    record("shared pool moved with sanctl (group stopped, VG lock handed over, started)", time.monotonic() - started)
    ok(node1, f"/pools/{POOL}", "clear")
    _keeps_writing(lab, io, 300, "the client writing after the move")
    assert not io.failed(), io.failed()[:5]
