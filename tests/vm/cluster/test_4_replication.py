"""A replicated pool on the real components, made only with `sanctl`, on the cluster the earlier modules formed and
fenced: `/pools create_replicated` on node1 prepares both nodes (node2 through its API: DRBD 8.4 and LVM files,
meta data, up), starts the initial sync from node1 (seen in /proc/drbd and in `sanctl ls /pools`), makes the VG on
/dev/drbd0 and hands the pool to Pacemaker with one CIB push (san-config plus the chain): DRBD Promoted on one node
with the VG, the pool's volumes and the floating address there. Volumes, a target, its ACL and LUNs made with
sanctl on either node land on the node that serves the pool (the volumes and target agents); an initiator on the
host writes and reads through the floating address; a LUN added under I/O does not interrupt it; a standby moves
it all; a cut replication link brings crm-fence-peer's constraint, which keeps the disconnected secondary from
being promoted until it has resynced. Times in build/reports/replication-chain.json."""

from __future__ import annotations

import json
import re
import time

from sanappliance.drbd import lvm
from sanappliance.drbd.cib import PoolIds
from sanappliance.drbd.status import Device, parse_proc_drbd
from sanappliance.lab.secret_file import secret_object
from sanappliance.lab.stream import Stream, lost_writes

from ..conftest import BUILD
from .helpers import mon, sanctl

DISKS = {"node1": "/dev/disk/by-id/virtio-data1", "node2": "/dev/disk/by-id/virtio-data2"}
FIP = "10.231.1.100"  # on the lab's cluster network (10.231.1.0/24), which the host's namespace reaches
IQN = "iqn.2026-11.org.example:repl"
HOST = "iqn.1994-05.com.example:replhost"
USER, SECRET = "repluser", "repl-secret-4711"
REPORT = BUILD / "reports" / "replication-chain.json"
TIMES: dict[str, float] = {}
NOTES: dict[str, object] = {}
IDS = PoolIds("p1")
GROUP = (IDS.vg, IDS.volumes, IDS.ip(FIP))
SERVED = (*GROUP, IDS.target(IQN))  # once the target has its first LUN


def record(name: str, seconds: float) -> None:
    TIMES[name] = round(seconds, 1)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"profile": "lab", "seconds": TIMES, "notes": NOTES}, indent=1) + "\n")
    print(f"{name}: {seconds:.1f} s")


def drbd(node) -> Device:
    return parse_proc_drbd(node.sh("cat /proc/drbd").stdout).device(0)


def ok(node, *args: str, timeout: float = 900) -> str:
    result = sanctl(node, *args, timeout=timeout)
    assert result.returncode == 0, f"{node.name}: sanctl {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def stream(lab, lun: int = 0) -> Stream:
    return Stream(lab, FIP, IQN, HOST, USER, SECRET, lun=lun).start()


def qemu_io(lab, command: str, lun: int = 0):
    opts = (f"driver=iscsi,transport=tcp,portal={FIP}:3260,target={IQN},lun={lun},initiator-name={HOST},"
            f"user={USER},password-secret=sec0")
    return lab.netns.exec(["/usr/bin/qemu-io", "--image-opts", "--object", secret_object(SECRET), opts,
                           "-c", command], check=False, timeout=180)


def chain(node) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(DRBD role by node, group resource -> the nodes where it is Started)."""
    root = mon(node)
    roles: dict[str, str] = {}
    for rsc in root.findall(".//clone[@id='san-p1-drbd-clone']/resource"):
        for n in rsc.findall("node"):
            roles[n.get("name")] = rsc.get("role")
    group = {rsc.get("id"): ([n.get("name") for n in rsc.findall("node")] if rsc.get("role") == "Started" else [])
             for rsc in root.findall(".//group[@id='san-p1']/resource")}
    return roles, group


def serving(node, name: str, other: str, group_ids: tuple[str, ...]) -> bool:
    roles, group = chain(node)
    return roles.get(name) == "Promoted" and roles.get(other) == "Unpromoted" and \
        all(group.get(rsc) == [name] for rsc in group_ids)


def vg_here(node) -> tuple[bool, str]:
    """(vol1 active on this node, the VG's system ID) as LVM reports them here."""
    out = node.sh("lvm lvs --reportformat json -o lv_name,lv_active,vg_systemid san-p1 2>/dev/null", check=False)
    if out.returncode != 0:
        return False, ""
    lvs = json.loads(out.stdout)["report"][0]["lv"]
    active = any(lv["lv_name"] == "vol1" and lv["lv_active"] == "active" for lv in lvs)
    return active, lvs[0]["vg_systemid"] if lvs else ""


def has_ip(node, ip: str = FIP) -> bool:
    addrs = json.loads(node.sh("ip -j addr").stdout)
    return any(a.get("local") == ip for link in addrs for a in link.get("addr_info", []))


def fence_constraints(node) -> list[str]:
    return re.findall(r'id="(drbd-fence-by-handler-[^"]+)"', node.sh("cibadmin --query --scope constraints").stdout)


def other_of(name: str) -> str:
    return "node2" if name == "node1" else "node1"


def promoted(node) -> str:
    roles, _ = chain(node)
    return next(n for n, r in roles.items() if r == "Promoted")


def assert_served_by(lab, name: str, group_ids: tuple[str, ...] = GROUP) -> None:
    here, there = lab.node(name), lab.node(other_of(name))
    assert serving(here, name, other_of(name), group_ids), chain(here)
    assert vg_here(here) == (True, name), vg_here(here)
    assert not vg_here(there)[0]
    assert has_ip(here) and not has_ip(there)
    assert drbd(here).role == "Primary" and drbd(there).role == "Secondary"


# --- the pool, from sanctl --------------------------------------------------------------------------------------------

def create_args(lab, **override: str) -> list[str]:
    args = {"disk": DISKS["node1"], "peer_disk": DISKS["node2"], "ip": f"{FIP}/24",
            "address": lab.address("node1", "repl"), "peer_address": lab.address("node2", "repl"), **override}
    return ["/pools", "create_replicated", "p1", *(f"{k}={v}" for k, v in args.items())]


def test_bad_input_changes_nothing(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    for override, words in (({"peer_disk": "/dev/disk/by-id/virtio-nosuch"}, "node2: no such disk"),
                            ({"ip": FIP}, "ip[0]"),
                            ({"peer_address": lab.address("node1", "repl")}, "replication.nodes")):
        result = sanctl(node1, *create_args(lab, **override))
        assert result.returncode != 0 and words in result.stderr, (override, result.stdout + result.stderr)
    dry = ok(node1, "--dry-run", *create_args(lab))
    assert "Dry run, nothing changed" in dry and "initial sync" in dry, dry
    for node in (node1, node2):
        assert node.sh("ls /etc/drbd.d/san-p1.res", check=False).returncode != 0
        assert "san-config" not in node.sh("cibadmin --query --scope crm_config").stdout


def test_create_replicated_prepares_both_nodes_syncs_and_hands_the_pool_to_pacemaker(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    started = time.monotonic()
    out = ok(node1, *create_args(lab))
    record("sanctl create_replicated (both nodes prepared, sync started, VG, CIB pushed, chain settled)",
           time.monotonic() - started)
    assert "Created replicated pool p1." in out and "node2: meta data: written" in out, out
    res = node1.sh("cat /etc/drbd.d/san-p1.res").stdout
    assert node2.sh("cat /etc/drbd.d/san-p1.res").stdout == res and "fencing resource-only" in res
    assert node1.sh(f"cat {lvm.LVM_CONF}").stdout == node2.sh(f"cat {lvm.LVM_CONF}").stdout
    for node in (node1, node2):
        assert node.sh("lvm systemid").stdout.split(":")[-1].strip() == node.name
    seen = {n.name: drbd(n) for n in (node1, node2)}
    NOTES["after create"] = {n: f"{d.cstate} {d.role}/{d.peer_role} {d.disk}/{d.peer_disk}" for n, d in seen.items()}
    listing = ok(node2, "ls", "/pools")
    assert "replicated" in listing and "p1" in listing, listing
    lab.wait_until(lambda: any(serving(node1, n, other_of(n), GROUP) for n in ("node1", "node2")), 300,
                   "DRBD Promoted with the VG, the volumes agent and the address on that node", 2)
    record("create to the chain running", time.monotonic() - started)
    lab.wait_until(lambda: all(drbd(n).healthy for n in (node1, node2)), 300, "UpToDate/UpToDate", 1)
    record("create to UpToDate/UpToDate (256 MiB initial sync)", time.monotonic() - started)
    here = promoted(node1)
    assert here == "node1", chain(node1)  # the only UpToDate node when the chain was pushed
    pvs = node1.sh("lvm pvs --noheadings -o pv_name").stdout.split()
    assert pvs == ["/dev/drbd0"], pvs  # the backing disk, with the same PV signature, is never scanned
    crm_config = node2.sh("cibadmin --query --scope crm_config").stdout
    assert 'name="san-config"' in crm_config
    assert node1.sh("crm_verify --live-check", check=False).returncode == 0
    assert fence_constraints(node1) == []


def test_volumes_target_acl_and_lun_from_either_node_land_where_the_pool_is_served(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    here = promoted(node1)
    other = lab.node(other_of(here))
    started = time.monotonic()
    ok(other, "/volumes", "create", "vol1", "64M", "pool=p1")  # made on the node that does not serve the pool
    record("volume made from the other node, to its LV on the serving node", time.monotonic() - started)
    assert vg_here(lab.node(here))[0], vg_here(lab.node(here))
    ok(node1, "/volumes", "create", "vol2", "32M", "pool=p1")
    ok(node1, "/iscsi", "create", IQN)
    tpg = f"/iscsi/{IQN}/tpg1"
    ok(node1, f"{tpg}/acls", "create", HOST, f"userid={USER}", f"password={SECRET}")
    started = time.monotonic()
    ok(node1, f"{tpg}/luns", "create", "vol1")
    record("first LUN: the target handed to the cluster and running", time.monotonic() - started)
    lab.wait_until(lambda: serving(node1, here, other_of(here), SERVED), 300, "the target started", 2)
    for node in (node1, node2):
        there = node.sh(f"test -d /sys/kernel/config/target/iscsi/{IQN}/tpgt_1/lun/lun_0", check=False)
        assert there.returncode == (0 if node.name == here else 1), node.name
        listing = ok(node, "ls", "/iscsi")
        assert IQN in listing and SECRET not in listing, listing
    assert SECRET not in node1.sh("crm_mon --one-shot --inactive --show-detail").stdout
    wrote = qemu_io(lab, "write -P 0x5a 0 1M")
    assert wrote.returncode == 0 and "wrote 1048576/1048576" in wrote.stdout, wrote.stdout + wrote.stderr
    read = qemu_io(lab, "read -P 0x5a 0 1M")
    assert read.returncode == 0 and "Pattern verification failed" not in read.stdout, read.stdout
    # udev leaves the initiators' data alone (57-sanappliance-volumes.rules): no probe, no watch on a pool's LV
    props = lab.node(here).sh("udevadm info --query=property --name=/dev/san-p1/vol1").stdout.split()
    assert "DM_UDEV_DISABLE_DISK_RULES_FLAG=1" in props and "DM_VG_NAME=san-p1" in props, props


def test_a_lun_added_under_io_does_not_interrupt_it(lab):
    node1 = lab.node("node1")
    here = promoted(node1)
    io = stream(lab)
    try:
        lab.wait_until(lambda: io.acked() >= 40, 120, "the initiator writing through the floating address")
        before = session(lab.node(here))
        started = time.monotonic()
        ok(lab.node(other_of(here)), f"/iscsi/{IQN}/tpg1/luns", "create", "vol2")
        ended = time.monotonic()
        lab.wait_until(lambda: io.acked_since(ended) >= 40, 120, "writes after the LUN was added")
        after = session(lab.node(here))
    finally:
        io.finish()
    record("LUN added under I/O (sanctl on the other node, target reloaded)", ended - started)
    assert io.failed() == [], io.failed()[:5]
    assert after == before, (before, after)  # the same session: the target was reloaded, not restarted
    NOTES["LUN under I/O"] = {"writes": io.acked(), "longest gap s": round(io.longest_gap(started), 2)}
    assert lost_writes(lab.node(here), "/dev/san-p1/vol1", io) == []
    read = qemu_io(lab, "read 0 64k", lun=1)
    assert read.returncode == 0 and "read 65536/65536" in read.stdout, read.stdout + read.stderr


LOCAL_IQN = "iqn.2026-12.org.example:local-{}"


def portals(node, iqn: str) -> set[str]:
    """The addresses LIO listens on for target `iqn`'s TPG 1 on the node ("10.231.1.101:3260")."""
    return set(node.sh(f"ls /sys/kernel/config/target/iscsi/{iqn}/tpgt_1/np", check=False).stdout.split())


def test_a_local_target_listens_beside_the_clustered_one_on_the_node_s_own_addresses(lab):
    """Linux lets no socket take 0.0.0.0:3260 while another listens on one address's port 3260: a local target
    made on 0.0.0.0 on a node of the cluster listens on the node's own addresses, so the clustered target keeps its
    floating one (both directions: the standby move below brings p1's target to the other node's local one)."""
    here = promoted(lab.node("node1"))
    for name in ("node1", "node2"):
        node = lab.node(name)
        ok(node, "/iscsi", "create", LOCAL_IQN.format(name))
        got = portals(node, LOCAL_IQN.format(name))
        assert f"{lab.address(name, 'cluster')}:3260" in got and "0.0.0.0:3260" not in got, (name, got)
        assert f"{FIP}:3260" not in got, (name, got)
        assert "0.0.0.0" in ok(node, "ls", f"/iscsi/{LOCAL_IQN.format(name)}/tpg1/portals")  # as it was asked
    assert portals(lab.node(here), IQN) == {f"{FIP}:3260"}


def session(node) -> tuple[str, ...]:
    info = node.sh(f"cat /sys/kernel/config/target/iscsi/{IQN}/tpgt_1/acls/{HOST}/info").stdout
    return tuple(re.findall(r"LIO Session ID: (\d+)\s+ISID: (0x[0-9a-f ]+?)\s+TSIH: (\d+)", info))


# --- the chain under Pacemaker -------------------------------------------------------------------------------------

def test_standby_moves_everything_to_the_other_node(lab):
    node1 = lab.node("node1")
    here = promoted(node1)
    there = other_of(here)
    started = time.monotonic()
    assert sanctl(node1, "/cluster", "standby", here).returncode == 0
    lab.wait_until(lambda: (lambda r, g: r.get(there) == "Promoted" and all(g.get(x) == [there] for x in GROUP))(
        *chain(node1)), 300, f"the chain on {there}", 1)
    record(f"standby {here}: chain started on {there}", time.monotonic() - started)
    new = lab.node(there)
    assert vg_here(new) == (True, there) and has_ip(new) and not has_ip(lab.node(here))
    assert drbd(new).role == "Primary"
    NOTES["standby: the standby node's DRBD"] = drbd(lab.node(here)).cstate  # standby stops its instance too
    started = time.monotonic()
    assert sanctl(node1, "/cluster", "online", here).returncode == 0
    lab.wait_until(lambda: serving(node1, there, here, GROUP), 300, f"{here} Unpromoted again", 2)
    lab.wait_until(lambda: drbd(new).healthy and drbd(lab.node(here)).healthy, 300, "Connected UpToDate/UpToDate", 1)
    record(f"online {here}: Connected UpToDate/UpToDate again", time.monotonic() - started)
    assert_served_by(lab, there)
    assert portals(new, IQN) == {f"{FIP}:3260"}  # beside the local target made there before
    assert f"{lab.address(there, 'cluster')}:3260" in portals(new, LOCAL_IQN.format(there))
    for name in ("node1", "node2"):
        ok(lab.node(name), "/iscsi", "delete", LOCAL_IQN.format(name))
    lab.wait_until(lambda: fence_constraints(node1) == [], 120, "no fence constraint after the resync", 2)


def test_a_cut_replication_link_fences_the_peer_by_constraint_until_it_resynced(lab):
    node1 = lab.node("node1")
    here = promoted(node1)
    there = other_of(here)
    primary, secondary = lab.node(here), lab.node(there)
    started = time.monotonic()
    lab.cut(there, "repl")
    lab.wait_until(lambda: not drbd(primary).connected, 120, "DRBD disconnected on the primary", 1)
    record("repl link cut to DRBD disconnected", time.monotonic() - started)
    lab.wait_until(lambda: fence_constraints(primary) != [], 120, "crm-fence-peer's constraint", 1)
    record("repl link cut to the fence constraint", time.monotonic() - started)
    NOTES["fence constraint"] = fence_constraints(primary)
    assert fence_constraints(primary)[0].startswith("drbd-fence-by-handler-san-p1")
    primary.sh("dd if=/dev/urandom of=/dev/san-p1/vol1 bs=1M count=8 oflag=direct status=none")  # newer data here
    assert drbd(primary).out_of_sync_kib > 0
    # the primary's node goes into standby: the disconnected secondary may not be promoted, so nothing runs
    assert sanctl(node1, "/cluster", "standby", here).returncode == 0
    lab.wait_until(lambda: chain(secondary)[1].get("san-p1-vg") == [] and here not in chain(secondary)[0], 300,
                   f"the chain stopped on {here}", 2)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        roles, group = chain(secondary)
        assert roles.get(there) != "Promoted" and all(not v for v in group.values()), (roles, group)
        assert drbd(secondary).role == "Secondary"
        time.sleep(3)
    assert sanctl(node1, "/cluster", "online", here).returncode == 0
    # the whole chain, target included, before the link comes back: the repaired link's transition must not
    # meet a half-started group
    lab.wait_until(lambda: serving(secondary, here, there, SERVED), 300, f"the chain back on {here}", 2)
    started = time.monotonic()
    lab.restore(there, "repl")
    lab.wait_until(lambda: drbd(primary).healthy and drbd(secondary).healthy, 300, "resynced", 1)
    record("repl link restored to UpToDate/UpToDate", time.monotonic() - started)
    lab.wait_until(lambda: fence_constraints(primary) == [], 120, "crm-unfence-peer lifted the constraint", 1)
    record("repl link restored to the constraint gone", time.monotonic() - started)
    # both nodes UpToDate, promotion score 10000 each: a tie, which Pacemaker breaks for the instance already
    # Promoted, so the pool stays where it is (no failback)
    node1.sh("crm_resource --wait --timeout=600", timeout=660)
    record("repl link restored to the cluster settled", time.monotonic() - started)
    assert_served_by(lab, here, SERVED)
