"""A replicated pool on the real components, on the cluster the earlier modules formed and fenced: the apply layer
(`python3 -m sanappliance.apply.drbd`) on both nodes writes the DRBD 8.4 and LVM files, create-md, up, the initial
sync from node1 (seen in /proc/drbd), the VG on /dev/drbd0; then the Pacemaker chain (drbd.cib.merge_pools through
the validated push): DRBD Promoted on one node with the VG and the floating address there, a standby moves it all, a
cut replication link brings crm-fence-peer's constraint, which keeps the disconnected secondary from being promoted
until it has resynced, and the pool's target joins the chain. Times in build/reports/replication-chain.json."""

from __future__ import annotations

import json
import re
import time

import pytest

from sanappliance.drbd import lvm, render
from sanappliance.drbd.cib import PoolIds
from sanappliance.drbd.status import Device, parse_proc_drbd
from sanappliance.model.config import (
    Config,
    FloatingIp,
    Lun,
    Pool,
    Portal,
    ReplicaNode,
    Replication,
    Target,
    Tpg,
    Volume,
    VolumeKind,
)
from sanappliance.model.validate import validate

from ..conftest import BUILD
from .helpers import mon, sanctl

DISKS = {"node1": "/dev/disk/by-id/virtio-data1", "node2": "/dev/disk/by-id/virtio-data2"}
FIP = "10.231.1.100"  # on the lab's cluster network (10.231.1.0/24)
IQN = "iqn.2026-11.org.example:repl"
TARGET_AGENT = "/usr/lib/ocf/resource.d/sanappliance/target"
CONFIG = "/root/repl.json"
REPORT = BUILD / "reports" / "replication-chain.json"
TIMES: dict[str, float] = {}
NOTES: dict[str, object] = {}
GROUP = (PoolIds("p1").vg, PoolIds("p1").ip(FIP))


def record(name: str, seconds: float) -> None:
    TIMES[name] = round(seconds, 1)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"profile": "lab", "seconds": TIMES, "notes": NOTES}, indent=1) + "\n")
    print(f"{name}: {seconds:.1f} s")


def pool_config(lab, *, target: bool = False) -> Config:
    rep = Replication(tuple(ReplicaNode(n, DISKS[n], lab.address(n, "repl")) for n in ("node1", "node2")), 0, 7789)
    pool = Pool("p1", (), replication=rep, floating_ips=(FloatingIp(f"{FIP}/24"),))
    volumes = (Volume("vol1", VolumeKind.LV, 32 * 2**20, pool="p1", wwn="6b1e8a1c-3d2f-4e5a-9b7c-1a2b3c4d5e6f"),)
    targets = (Target(IQN, (Tpg(portals=(Portal(FIP),), luns=(Lun(0, "vol1"),)),)),) if target else ()
    config = Config(pools=(pool,), volumes=volumes, targets=targets)
    assert validate(config) == [], validate(config)
    return config


def put_config(node, config: Config) -> None:
    node.run(["/bin/sh", "-c", f"cat > {CONFIG}"], input=config.to_json(), check=True)


def apply(node, *steps: str, check: bool = True):
    result = node.run(["/usr/bin/python3", "-m", "sanappliance.apply.drbd", "--config", CONFIG, *steps],
                      timeout=900)
    if check:
        assert result.returncode == 0, f"{node.name} {steps}: {result.stdout}{result.stderr}"
    return result


def drbd(node) -> Device:
    return parse_proc_drbd(node.sh("cat /proc/drbd").stdout).device(0)


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


# --- the pool, by the apply layer ----------------------------------------------------------------------------------

def test_files_meta_data_and_up_on_both_nodes(lab):
    config = pool_config(lab)
    pool = config.pools[0]
    for name in ("node1", "node2"):
        node = lab.node(name)
        put_config(node, config)
        out = apply(node, "files", "modprobe", "create-md", "up").stdout
        assert "create-md p1: written" in out and "up p1: up" in out, out
        assert node.sh(f"cat {render.resource_path(pool)}").stdout == render.render_resource(pool)
        assert node.sh(f"cat {lvm.LVM_CONF}").stdout == lvm.render_lvm_conf(config)
        assert node.sh("lvm systemid").stdout.split(":")[-1].strip() == name
        again = apply(node, "files", "create-md", "up").stdout
        assert "files: unchanged" in again and "create-md p1: skipped" in again and "up p1: adjust" in again, again
    for name in ("node1", "node2"):
        lab.wait_until(lambda n=name: drbd(lab.node(n)).cstate == "Connected", 120, f"DRBD connected on {name}", 1)
        dev = drbd(lab.node(name))
        assert (dev.role, dev.peer_role, dev.disk, dev.peer_disk, dev.protocol) == (
            "Secondary", "Secondary", "Inconsistent", "Inconsistent", "C"), dev


def test_initial_sync_from_node1_and_the_vg(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    started = time.monotonic()
    out = apply(node1, "primary-force").stdout
    assert "primary-force p1: promoted" in out, out
    seen = {}

    def syncing() -> bool:
        for name in ("node1", "node2"):
            dev = drbd(lab.node(name))
            if dev.connected and dev.sync is not None:
                seen[name] = dev
        return len(seen) == 2

    lab.wait_until(syncing, 60, "the initial sync in /proc/drbd of both nodes", 0.5)
    assert seen["node1"].cstate == "SyncSource" and seen["node2"].cstate == "SyncTarget", seen
    assert 0 <= seen["node1"].sync.percent < 100 and seen["node1"].sync.total_kib > 0, seen
    NOTES["sync seen"] = {n: f"{d.cstate} {d.sync.percent}% of {d.sync.total_kib} KiB" for n, d in seen.items()}
    print(NOTES["sync seen"])
    out = apply(node1, "vg").stdout
    assert "pvcreate run, vgcreate run" in out, out
    assert "vgcreate skipped" in apply(node1, "vg").stdout
    node1.sh("lvm lvcreate --yes -n vol1 -L 32M san-p1")
    assert vg_here(node1) == (True, "node1")
    NOTES["autoactivation"] = node1.sh("lvm vgs --noheadings -o autoactivation san-p1").stdout.strip()
    assert NOTES["autoactivation"] != "enabled", NOTES["autoactivation"]
    # the LVM filter: the backing disk carries the same PV signature as /dev/drbd0, and is never scanned
    pvs = node1.sh("lvm pvs --noheadings -o pv_name").stdout.split()
    assert pvs == ["/dev/drbd0"], pvs
    lab.wait_until(lambda: all(drbd(lab.node(n)).healthy for n in ("node1", "node2")), 300, "UpToDate/UpToDate", 1)
    record("initial sync (256 MiB, primary --force to UpToDate/UpToDate)", time.monotonic() - started)
    out = apply(node1, "deactivate", "secondary").stdout
    assert "secondary p1: demoted" in out, out
    assert not vg_here(node1)[0]
    for name in ("node1", "node2"):
        dev = drbd(lab.node(name))
        assert (dev.role, dev.peer_role, dev.disk, dev.peer_disk) == ("Secondary", "Secondary", "UpToDate",
                                                                      "UpToDate")
    gi1, gi2 = (apply(lab.node(n), "gi").stdout.split(": ")[1].strip() for n in ("node1", "node2"))
    assert gi1[:16] == gi2[:16], (gi1, gi2)
    assert not has_ip(node1) and not has_ip(node2)


# --- the chain under Pacemaker -------------------------------------------------------------------------------------

def test_the_chain_runs_on_the_promoted_node(lab):
    node1 = lab.node("node1")
    started = time.monotonic()
    out = apply(node1, "push-cib").stdout
    assert "push-cib: pushed" in out, out
    lab.wait_until(lambda: any(serving(node1, n, other_of(n), GROUP) for n in ("node1", "node2")), 300,
                   "DRBD Promoted with the VG and the address on that node", 2)
    record("push to the chain started", time.monotonic() - started)
    assert_served_by(lab, promoted(node1))
    assert node1.sh("crm_verify --live-check", check=False).returncode == 0
    assert fence_constraints(node1) == []


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
    lab.wait_until(lambda: chain(secondary)[0].get(here) == "Promoted" and
                   chain(secondary)[1].get("san-p1-vg") == [here], 300, f"the chain back on {here}", 2)
    started = time.monotonic()
    lab.restore(there, "repl")
    lab.wait_until(lambda: drbd(primary).healthy and drbd(secondary).healthy, 300, "resynced", 1)
    record("repl link restored to UpToDate/UpToDate", time.monotonic() - started)
    lab.wait_until(lambda: fence_constraints(primary) == [], 120, "crm-unfence-peer lifted the constraint", 1)
    record("repl link restored to the constraint gone", time.monotonic() - started)
    assert_served_by(lab, here)


def test_the_pools_target_joins_the_chain(lab):
    node1 = lab.node("node1")
    if node1.sh(f"test -x {TARGET_AGENT}", check=False).returncode != 0:
        NOTES["target"] = "ocf:sanappliance:target not in the image: chain without targets"
        pytest.skip("ocf:sanappliance:target is not in the image")
    here = promoted(node1)
    config = pool_config(lab, target=True)
    for name in ("node1", "node2"):
        put_config(lab.node(name), config)
    started = time.monotonic()
    out = apply(node1, "push-cib").stdout
    assert "push-cib: pushed" in out, out
    ident = f"san-p1-target-{IQN.replace(':', '_')}"
    lab.wait_until(lambda: serving(node1, here, other_of(here), (*GROUP, ident)), 300, "the target started", 2)
    record("push to the target started", time.monotonic() - started)
    assert node1.sh(f"test -d /sys/kernel/config/target/iscsi/{IQN}", check=False).returncode == (
        0 if here == "node1" else 1)
    assert lab.node(here).sh(f"test -d /sys/kernel/config/target/iscsi/{IQN}/tpgt_1/lun/lun_0",
                             check=False).returncode == 0
