"""The failover benchmark of issue 6, in two appliance VMs (TCG, lab profile) with a shared SBD disk and the host's
initiator in the lab's network namespace, all in one run.

The cluster is formed with sanctl, a replicated pool made with `sanctl /pools create_replicated`, then for each
configuration the pool's target serves N LUNs and the node serving the pool is powered off (qemu killed) while the
initiator writes to the last LUN through the floating address; the survivor fences it, promotes and serves again.
Measured from the kill: the survivor's crm_mon phases (drbd.drill: failure seen, fencing confirmed, DRBD promoted,
VG, volumes, address, target(s) up) and the initiator's first acknowledged write; every acknowledged write is
checked on the survivor's disk. The dead node is booted again and resynced before the next round (the pool stays
where it is: the next round powers off the other node).

* the appliance's agent (ocf:sanappliance:target, the whole target in one rtslib pass) with 1, 64 and 256 LUNs;
* the stock resource-agents configuration on the same pool: ocf:heartbeat:iSCSITarget (implementation lio-t) and one
  ocf:heartbeat:iSCSILogicalUnit per LUN in the pool's group instead of the appliance's target, with 1, 16 and 64
  LUNs (no CHAP: allowed_initiators names the host's initiator).

The LUNs' volumes are made in one change through the service layer (GUEST_VOLUMES: one CIB push instead of one per
volume), the same functions sanctl calls.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from sanappliance.drbd import drill as D
from sanappliance.drbd.cib import PoolIds

from .failover_watch import FIRST_WRITE, move_of, status, watch
from .lab import Lab
from .spec import Disk, Images, LabSpec, NodeSpec, default_networks
from .stream import Stream, lost_writes

SBD = "/dev/disk/by-id/virtio-sbd0"
DISKS = {"node1": "/dev/disk/by-id/virtio-data1", "node2": "/dev/disk/by-id/virtio-data2"}
FIP = "10.231.1.100"
IQN = "iqn.2026-12.org.sanappliance:bench"
HOST = "iqn.1994-05.com.example:benchhost"
USER, SECRET = "benchuser", "bench-secret-4711"
LUN_SIZE = "4M"
LUN_BLOCKS = 1024  # the stream's 4 KiB blocks: all of the LUN written
APPLIANCE_LUNS = (1, 64, 256)
STOCK_LUNS = (1, 16, 64)
IDS = PoolIds("p1")

# One change through the service layer: volumes v0..v{N-1} on p1 and the target's LUNs 0..N-1 (LUN 0 stays).
GUEST_VOLUMES = r'''
import sys
from dataclasses import replace
from sanappliance.model.config import Lun, MappedLun, replace_item
from sanappliance.service import storage
from sanappliance.service.commit import change
from sanappliance.service.env import live_env

def edit(config, count, iqn, size):
    have = {v.name for v in config.volumes}
    new = tuple(storage.new_volume(f"v{i}", size, pool="p1") for i in range(count) if f"v{i}" not in have)
    config = replace(config, volumes=config.volumes + new)
    if not iqn:
        return config
    target = config.target(iqn)
    tpg = target.tpgs[0]
    luns = tuple(Lun(i, f"v{i}") for i in range(count))
    acls = tuple(replace(a, mapped_luns=tuple(MappedLun(i, i) for i in range(count))) for a in tpg.acls)
    return replace(config, targets=replace_item(config.targets, target, replace(target, tpgs=(
        replace(tpg, luns=luns, acls=acls),))))

def extra(config, count):
    """Volumes v{count}.. (the ones a round of `count` LUNs does not use), highest first."""
    numbered = [v for v in config.volumes if v.name.startswith("v") and v.name[1:].isdigit()]
    return sorted((v.name for v in numbered if int(v.name[1:]) >= count), key=lambda n: -int(n[1:]))


def trim(config, count, step=64):
    for name in extra(config, count)[:step]:
        config = storage.remove_volume(config, name)
    return config

if __name__ == "__main__":
    count, iqn, size = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if sys.argv[4:] == ["trim"]:  # in steps of 64: each reload of the volumes agent removes 64 LVs at most
        env = live_env()
        while extra(env.store.load(), count):
            change(env, lambda config: trim(config, count))
        print(len(env.store.load().volumes))
    else:
        outcome = change(live_env(), lambda config: edit(config, count, iqn, size))
        print(len(outcome.plan))
'''


def spec() -> LabSpec:
    nodes = tuple(NodeSpec(name, networks=("cluster", "repl"), disks=(Disk(f"data{i}", "1536M"),))
                  for i, name in enumerate(("node1", "node2"), start=1))
    return LabSpec(nodes=nodes, networks=default_networks("cluster", "repl"), shared_disks=(Disk("sbd0", "64M"),))


def sanctl(node: Any, *args: str, timeout: float = 1800) -> str:
    result = node.run(["/usr/bin/sanctl", *args], timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{node.name}: sanctl {' '.join(args)}: {result.stderr or result.stdout}")
    return str(result.stdout)


def promoted(node: Any) -> str:
    return next(r.nodes[0] for r in status(node).resources if r.id == IDS.drbd and r.role == "Promoted")


def other(name: str) -> str:
    return "node2" if name == "node1" else "node1"


def form(lab: Lab) -> dict[str, float]:
    node1, node2 = lab.node("node1"), lab.node("node2")
    times: dict[str, float] = {}
    started = time.monotonic()
    out = sanctl(node1, "/cluster", "init", "bench", f"sbd={SBD}", f"address={lab.address('node1', 'cluster')}",
                 "profile=lab")
    secret = next(word.split("=", 1)[1] for word in out.split() if word.startswith("secret="))
    sanctl(node2, "/cluster", "join", lab.address("node1", "cluster"), f"secret={secret}",
           f"address={lab.address('node2', 'cluster')}")
    lab.wait_until(lambda: "2/2 nodes online, quorate" in sanctl(node1, "/cluster", "status"), 900, "two nodes", 3)
    lab.wait_until(lambda: "fence-sbd (stonith:fence_sbd): Started" in sanctl(node1, "/cluster", "status"), 600,
                   "fence-sbd started", 3)
    sanctl(node1, "/cluster", "fencing", "test")
    times["cluster formed and fencing tested"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    sanctl(node1, "/pools", "create_replicated", "p1", f"disk={DISKS['node1']}", f"peer_disk={DISKS['node2']}",
           f"ip={FIP}/24", f"address={lab.address('node1', 'repl')}",
           f"peer_address={lab.address('node2', 'repl')}")
    lab.wait_until(lambda: healthy(lab), 1800, "the initial sync", 5)
    times["replicated pool made and synced"] = round(time.monotonic() - started, 1)
    return times


def healthy(lab: Lab) -> bool:
    return all(" ds:UpToDate/UpToDate " in lab.node(n).sh("cat /proc/drbd").stdout for n in ("node1", "node2"))


def appliance_target(lab: Lab, luns: int) -> None:
    node1 = lab.node("node1")
    if IQN not in sanctl(node1, "ls", "/iscsi"):
        node1.run(["/usr/bin/python3", "-", "1", "", LUN_SIZE], input=GUEST_VOLUMES, check=True, timeout=1800)
        sanctl(node1, "/iscsi", "create", IQN)
        sanctl(node1, f"/iscsi/{IQN}/tpg1/acls", "create", HOST, f"userid={USER}", f"password={SECRET}")
        sanctl(node1, f"/iscsi/{IQN}/tpg1/luns", "create", "v0")
    node1.run(["/usr/bin/python3", "-", str(luns), IQN, LUN_SIZE], input=GUEST_VOLUMES, check=True, timeout=3600)
    wait_served(lab, (IDS.target(IQN),))


# The stock primitives' operations. Their monitors run every 60 s, not the agents' advertised 10 s: each monitor
# runs targetcli, and 64 of them every 10 s starved the guest's one vCPU under TCG (starts went from 30 s to 60 s
# each and the node was reset by its watchdog after 10 LUNs), which an admin of 64 stock LUNs would not run either.
STOCK_OPS = (("start", "0s", "120s"), ("stop", "0s", "120s"), ("monitor", "60s", "60s"))


def stock_target(lab: Lab, luns: int) -> tuple[str, ...]:
    """The pool's group with iSCSITarget + iSCSILogicalUnit x luns instead of the appliance's target (the appliance's
    target and its LUNs are taken out of the configuration first; the volumes stay). Returns the stock ids."""
    node1 = lab.node("node1")
    if IQN in sanctl(node1, "ls", "/iscsi"):
        sanctl(node1, "/iscsi", "delete", IQN)
    # as many LVs in the pool as the round has LUNs (the appliance's rounds left 256): the VG and the volumes
    # agent then activate as much as in the appliance's round of the same size
    node1.run(["/usr/bin/python3", "-", str(luns), "", LUN_SIZE, "trim"], input=GUEST_VOLUMES, check=True,
              timeout=3600)
    node1.run(["/usr/bin/python3", "-", str(luns), "", LUN_SIZE], input=GUEST_VOLUMES, check=True, timeout=3600)
    group = ET.fromstring(node1.sh(f"cibadmin --query --xpath \"//group[@id='{IDS.group}']\"").stdout)
    for el in [el for el in group if el.get("id", "").startswith(("san-p1-stock-", IDS.target(IQN)))]:
        group.remove(el)
    ids = ["san-p1-stock-target"] + [f"san-p1-stock-lun{i}" for i in range(luns)]
    group.append(_stock("san-p1-stock-target", "iSCSITarget", {
        "implementation": "lio-t", "iqn": IQN, "portals": f"{FIP}:3260", "allowed_initiators": HOST},
        STOCK_OPS))
    for i in range(luns):
        group.append(_stock(f"san-p1-stock-lun{i}", "iSCSILogicalUnit", {
            "implementation": "lio-t", "target_iqn": IQN, "lun": str(i), "path": f"/dev/san-p1/v{i}",
            "allowed_initiators": HOST, "lio_iblock": str(i)},
            STOCK_OPS))
    node1.run(["/usr/sbin/cibadmin", "--replace", "--xpath", f"//group[@id='{IDS.group}']", "--xml-pipe"],
              input=ET.tostring(group, encoding="unicode"), check=True, timeout=300)
    wait_served(lab, tuple(ids), timeout=3600)
    return tuple(ids)


def _stock(ident: str, agent: str, params: dict[str, str], ops: tuple[tuple[str, str, str], ...]) -> ET.Element:
    rsc = ET.Element("primitive", {"id": ident, "class": "ocf", "provider": "heartbeat", "type": agent})
    attrs = ET.SubElement(rsc, "instance_attributes", {"id": f"{ident}-instance_attributes"})
    for name, value in params.items():
        ET.SubElement(attrs, "nvpair", {"id": f"{ident}-{name}", "name": name, "value": value})
    operations = ET.SubElement(rsc, "operations")
    for name, interval, timeout in ops:
        ET.SubElement(operations, "op", {"id": f"{ident}-{name}-{interval}", "name": name, "interval": interval,
                                         "timeout": timeout})
    return rsc


def wait_served(lab: Lab, ids: tuple[str, ...], timeout: float = 1800) -> None:
    def served() -> bool:
        found = status(lab.node("node1"))
        here = next((r.nodes[0] for r in found.resources if r.id == IDS.drbd and r.role == "Promoted"), "")
        started = {r.id for r in found.resources if r.role == "Started" and r.nodes == (here,)}
        return bool(here) and all(i in started for i in ids)
    lab.wait_until(served, timeout, f"{', '.join(ids[:3])}... started", 3)


def power_off(lab: Lab, label: str, luns: int, stock: tuple[str, ...] = ()) -> dict[str, Any]:
    """Kill the serving node under the initiator's writes to the target's last LUN (the stock group starts its LUNs
    one after another, that one last; the appliance's agent makes them all in one pass); the phases until the first
    acknowledged write after the kill."""
    lost = promoted(lab.node("node1"))
    survivor = lab.node(other(lost))
    user, secret = ("", "") if stock else (USER, SECRET)
    lun = luns - 1  # volume v{lun}
    io = Stream(lab, FIP, IQN, HOST, user, secret, lun=lun, blocks=LUN_BLOCKS).start()
    try:
        lab.wait_until(lambda: io.acked() >= 20, 300, "the initiator writing", 1)
        move = move_of(survivor, "p1", lost, survivor.name, True)
        t0 = time.monotonic()
        lab.node(lost).kill()
        phases = watch(survivor, move, io, t0, timeout=3600, targets=stock)
    finally:
        io.finish()
    wrong = lost_writes(survivor, f"/dev/san-p1/v{lun}", io)
    result = {"luns": luns, "config": label, "lost": lost, "lun_written": lun, "phases_s": phases,
              "writes_acked": io.acked(), "writes_failed": len(io.failed()), "blocks_wrong": len(wrong)}
    if D.PROMOTED in phases and FIRST_WRITE in phases:
        result["work_s"] = round(phases[FIRST_WRITE] - phases[D.PROMOTED], 1)
    started = time.monotonic()
    lab.restart(lost)
    lab.wait_until(lambda: healthy(lab), 1800, f"{lost} back and resynced", 5)
    result["rejoin_and_resync_s"] = round(time.monotonic() - started, 1)
    return result


def run(images: Images, workdir: Path, *, appliance: tuple[int, ...] = APPLIANCE_LUNS,
        stock: tuple[int, ...] = STOCK_LUNS) -> dict[str, Any]:
    lab = Lab(spec(), images, workdir)
    results: dict[str, Any] = {"profile": "lab", "rounds": []}
    try:
        lab.start()
        results["setup_s"] = form(lab)
        say(f"cluster and pool ready: {results['setup_s']}")
        for luns in appliance:
            appliance_target(lab, luns)
            say(f"appliance target with {luns} LUNs served; powering off the primary")
            results["rounds"].append(power_off(lab, f"appliance agent, {luns} LUNs", luns))
            say(json.dumps(results["rounds"][-1]))
            _save(workdir, results)
        for luns in stock:
            ids = stock_target(lab, luns)
            say(f"stock target with {luns} LUNs served; powering off the primary")
            results["rounds"].append(power_off(lab, f"stock agents, {luns} LUNs", luns, ids))
            say(json.dumps(results["rounds"][-1]))
            _save(workdir, results)
        results["accel"] = lab.node("node1").wiring.accel
    except BaseException:
        _save(workdir, results)
        try:  # the nodes' journals and consoles outlive the lab (it is destroyed below)
            lab.collect_logs(workdir.parent.parent / "test-logs" / "bench-failover")
        except Exception:  # noqa: BLE001 - the original error matters more
            pass
        raise
    finally:
        lab.destroy()
    results["summary"] = summary(results["rounds"])
    return results


def say(text: str) -> None:
    print(f"bench-failover {time.strftime('%H:%M:%S')}: {text}", flush=True)


def _save(workdir: Path, results: dict[str, Any]) -> None:
    """What was measured so far, kept beside the lab's folder (the lab removes its own when it is destroyed)."""
    out = workdir.parent / "bench-failover-partial.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The goals: the appliance flat in LUNs (256 within 1.5x of 1) and its work part at least 20x shorter than the
    stock one at 64 LUNs; and which phases are bound by configured timeouts and which by work."""
    def first(config: str) -> dict[str, Any] | None:
        return next((r for r in rounds if r["config"] == config), None)
    out: dict[str, Any] = {"timeout_bound": "failure seen and fencing confirmed (token, consensus, fence delays, "
                           "msgwait/stonith-timeout); the handler's 5 s before the promotion",
                           "work_bound": "promotion, VG, volumes, address, target(s), the initiator's reconnect"}
    one, many = first("appliance agent, 1 LUNs"), first("appliance agent, 256 LUNs")
    stock64, ours64 = first("stock agents, 64 LUNs"), first("appliance agent, 64 LUNs")
    key = "first acknowledged write"
    if one and many and key in one["phases_s"] and key in many["phases_s"]:
        out["appliance_256_over_1"] = round(many["phases_s"][key] / one["phases_s"][key], 2)
    if stock64 and ours64 and stock64.get("work_s") and ours64.get("work_s"):
        out["work_stock64_over_appliance64"] = round(stock64["work_s"] / ours64["work_s"], 1)
    return out


__all__ = ["APPLIANCE_LUNS", "STOCK_LUNS", "run", "summary"]
