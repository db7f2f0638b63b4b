"""The Pacemaker chain of a shared-disk pool: the dlm and lvmlockd clones, the pool's group with its VG under
lvmlockd, the constraints, the merge by id (clones only while a shared pool exists, pools changing kind), and the
lvm.conf of shared pools (mapper devices accepted, raw paths rejected, use_lvmlockd; unchanged without them)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.cluster import cib as ccib
from sanappliance.drbd import cib, lvm, shared_cib
from sanappliance.errors import SanError
from sanappliance.model.config import Config, Lun, Pool
from sanappliance.model.validate import RESERVED_POOL_NAMES
from tests.unit import drbd_samples
from tests.unit.cluster_samples import two_nodes
from tests.unit.shared_samples import ALIAS1, SIQN, WWID1, config, mixed, shared_pool
from tests.unit.test_drbd_render import lvm_accepts


def nv(el: ET.Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in el.iter("nvpair")}


def merged(cfg: Config, current: str | None = None) -> ET.Element:
    return ET.fromstring(cib.merge_pools(current or ccib.render_cib(two_nodes()), two_nodes(), cfg))


def ids(root: ET.Element) -> set[str]:
    return {el.get("id") for el in root.find("configuration").iter() if el.get("id")}


def test_dlm_and_lvmlockd_are_interleaved_clones():
    dlm, lockd = shared_cib.lock_clones()
    assert (dlm.get("id"), lockd.get("id")) == ("san-dlm-clone", "san-lvmlockd-clone")
    for clone, agent, name in ((dlm, ("ocf", "pacemaker", "controld"), "san-dlm"),
                               (lockd, ("ocf", "heartbeat", "lvmlockd"), "san-lvmlockd")):
        prim = clone.find("primitive")
        assert (prim.get("id"), prim.get("class"), prim.get("provider"), prim.get("type")) == (name, *agent)
        assert nv(clone.find("meta_attributes")) == {"interleave": "true"}
        assert prim.find("instance_attributes") is None
        assert {op.get("name") for op in prim.iter("op")} == {"start", "stop", "monitor"}


def test_lvmlockd_after_and_with_dlm():
    order, colo = shared_cib.lock_constraints()
    assert order.attrib == {"id": "san-lvmlockd-after-dlm", "kind": "Mandatory", "first": "san-dlm-clone",
                            "first-action": "start", "then": "san-lvmlockd-clone", "then-action": "start"}
    assert colo.attrib == {"id": "san-lvmlockd-with-dlm", "score": "INFINITY", "rsc": "san-lvmlockd-clone",
                           "with-rsc": "san-dlm-clone"}


def test_the_shared_group_is_the_replicated_chain_with_an_lvmlockd_vg():
    cfg = config()
    group = cib.pool_group(cfg, cfg.pool("s1"))
    assert [p.get("id") for p in group] == ["san-s1-vg", "san-s1-volumes", "san-s1-ip-10.0.3.110",
                                            "san-s1-ip-10.0.4.110", f"san-s1-target-{SIQN.replace(':', '_')}"]
    assert nv(group[0]) == {"vgname": "san-s1", "vg_access_mode": "lvmlockd", "activation_mode": "exclusive"}
    assert nv(group[1])["volumes"] == '[{"name":"svol1","size":1073741824},{"name":"svol2","size":2147483648}]'
    assert nv(group[3]) == {"ip": "10.0.4.110", "cidr_netmask": "24", "nic": "eth3"}
    assert nv(group[4])["pool"] == "s1"
    rep = drbd_samples.replicated_pool()
    assert nv(cib.pool_group(drbd_samples.config(), rep)[0]) == {"vgname": "san-p1", "vg_access_mode": "system_id"}


def test_the_group_after_and_with_the_lvmlockd_clone():
    order, colo = shared_cib.constraints(shared_pool())
    assert order.attrib == {"id": "san-s1-after-lvmlockd", "kind": "Mandatory", "first": "san-lvmlockd-clone",
                            "first-action": "start", "then": "san-s1", "then-action": "start"}
    assert colo.attrib == {"id": "san-s1-with-lvmlockd", "score": "INFINITY", "rsc": "san-s1",
                           "with-rsc": "san-lvmlockd-clone"}


def test_merge_adds_clones_and_chain_behind_the_fencing_gate():
    root = merged(config())
    assert [el.get("id") for el in root.find("configuration/resources")] == [
        "fence-sbd", "san-dlm-clone", "san-lvmlockd-clone", "san-s1"]
    assert [el.get("id") for el in root.find("configuration/constraints")] == [
        "san-fencing-gate", "san-lvmlockd-after-dlm", "san-lvmlockd-with-dlm", "san-s1-after-lvmlockd",
        "san-s1-with-lvmlockd"]
    gate = re.compile(ccib.STORAGE_PATTERN)
    resources = root.find("configuration/resources")
    assert all(gate.match(el.get("id")) for el in resources.iter() if el.tag in ("primitive", "clone", "group")
               and el.get("id") != "fence-sbd")
    assert shared_cib.pools_in_cib(root.find("configuration")) == {"s1"}
    assert cib.pools_in_cib(root.find("configuration")) == set()


def test_merge_again_changes_nothing_but_the_epoch():
    once = cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), mixed())
    twice = cib.merge_pools(once, two_nodes(), mixed())
    epoch = ET.fromstring(once).get("epoch")
    assert twice == once.replace(f'epoch="{epoch}"', f'epoch="{int(epoch) + 1}"', 1)


def test_replicated_and_shared_pools_side_by_side():
    root = merged(mixed())
    assert [el.get("id") for el in root.find("configuration/resources")] == [
        "fence-sbd", "san-p1-drbd-clone", "san-p1", "san-dlm-clone", "san-lvmlockd-clone", "san-s1"]
    assert shared_cib.pools_in_cib(root.find("configuration")) == {"s1"}
    assert cib.pools_in_cib(root.find("configuration")) == {"p1"}


def test_the_last_shared_pool_takes_the_lock_managers_with_it():
    live = cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), mixed())
    live = live.replace("</constraints>", '<rsc_location id="admin-dlm" rsc="san-dlm-clone" node="node1" '
                                          'score="10" /></constraints>')
    rep = drbd_samples.config()
    left = ids(merged(rep, live))
    assert not {i for i in left if i.startswith(("san-s1", "san-dlm", "san-lvmlockd")) or i == "admin-dlm"}, left
    assert {"san-p1", "san-p1-drbd-clone", "san-p1-with-drbd-promoted", "san-fencing-gate"} <= left


def test_one_of_two_shared_pools_removed_keeps_the_clones():
    s2 = shared_pool("s2", disks=(replace(config().pool("s1").shared.disks[0], wwid="2001b4d2a0c4e5f6",
                                          alias="shelf-b"),), floating_ips=())
    two = replace(config(), pools=(*config().pools, s2))
    live = cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), two)
    assert {"san-s2", "san-s2-after-lvmlockd", "san-s2-with-lvmlockd"} <= ids(ET.fromstring(live))
    left = ids(merged(config(), live))
    assert not {i for i in left if i.startswith("san-s2")} and {"san-dlm-clone", "san-s1-after-lvmlockd"} <= left


def test_a_pool_that_changes_kind_keeps_one_chain():
    """p1 replicated, deleted, made again as a shared pool with the same name: one push, one group san-p1."""
    live = cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), drbd_samples.config())
    as_shared = replace(config(), pools=(Pool("local", (drbd_samples.LOCAL,)), shared_pool("p1")),
                        volumes=tuple(replace(v, pool="p1") if v.pool == "s1" else v for v in config().volumes))
    root = merged(as_shared, live)
    assert [el.get("id") for el in root.find("configuration/resources")] == [
        "fence-sbd", "san-dlm-clone", "san-lvmlockd-clone", "san-p1"]
    assert nv(root.find("configuration/resources/group/primitive"))["vg_access_mode"] == "lvmlockd"
    assert "san-p1-with-drbd-promoted" not in ids(root)
    back = merged(drbd_samples.config(), ET.tostring(root, encoding="unicode"))
    assert [el.get("id") for el in back.find("configuration/resources")] == ["fence-sbd", "san-p1-drbd-clone",
                                                                             "san-p1"]
    assert "san-p1-after-lvmlockd" not in ids(back)


def test_the_lock_managers_ids_are_reserved_pool_names():
    for ident in shared_cib.FIXED_IDS:
        assert ident.startswith("san-") and RESERVED_POOL_NAMES.match(ident[len("san-"):]), ident
    assert not RESERVED_POOL_NAMES.match("dlmx") and not RESERVED_POOL_NAMES.match("my-dlm")


# --- lvm.conf -------------------------------------------------------------------------------------------------------

GOLDEN_LVM_REPLICATED = """\
# Written by sanappliance: changes here are overwritten (model: the pools in /etc/sanappliance).
devices {
    # DRBD devices and local pool disks only: backing disks of replicated pools are never scanned
    global_filter = [
        "r|^/dev/disk/by-id/virtio-repl1$|",
        "r|^/dev/disk/by-id/virtio-repl2$|",
        "a|^/dev/drbd[0-9]+$|",
        "a|^/dev/disk/by-id/virtio-data1$|",
        "r|.*|"
    ]
    use_devicesfile = 0
}
global {
    system_id_source = "uname"  # LVM-activate vg_access_mode=system_id
}
activation {
    # a failover activates every LV of the pool at once: LVM makes the /dev nodes itself, udev
    # catches up in the background instead of being waited for per LV
    udev_sync = 0
    udev_rules = 0
}
"""


def test_lvm_conf_without_shared_pools_is_what_it_was():
    """(but for the activation section every clustered pool has)"""
    assert lvm.render_lvm_conf(drbd_samples.config()) == GOLDEN_LVM_REPLICATED
    local = lvm.render_lvm_conf(Config(pools=(Pool("local", (drbd_samples.LOCAL,)),)))
    assert local == GOLDEN_LVM_REPLICATED.replace('        "r|^/dev/disk/by-id/virtio-repl1$|",\n', "").replace(
        '        "r|^/dev/disk/by-id/virtio-repl2$|",\n', "").split("global {")[0]


def test_lvm_conf_with_a_shared_pool_uses_lvmlockd_and_its_maps():
    text = lvm.render_lvm_conf(config())
    assert f'"a|^/dev/mapper/{ALIAS1}$|"' in text
    assert "global {\n    use_lvmlockd = 1" in text and "system_id_source" not in text
    assert "    udev_sync = 0\n    udev_rules = 0\n" in text
    both = lvm.render_lvm_conf(mixed())
    assert 'system_id_source = "uname"' in both and "use_lvmlockd = 1" in both
    assert both.count("global {") == 1


def test_lvm_filter_takes_the_map_and_never_a_raw_path():
    entries = lvm.global_filter(config())
    assert lvm_accepts(entries, ["/dev/dm-3", f"/dev/mapper/{ALIAS1}", f"/dev/disk/by-id/dm-name-{ALIAS1}",
                                 f"/dev/disk/by-id/dm-uuid-mpath-{WWID1}", "/dev/block/253:3"])
    for raw in ("sdb", "sdc"):  # the map's paths, under every name udev gives them
        assert not lvm_accepts(entries, [f"/dev/{raw}", f"/dev/disk/by-id/scsi-{WWID1}",
                                         f"/dev/disk/by-id/wwn-0x{WWID1[1:]}",
                                         "/dev/disk/by-path/ip-10.0.5.1:3260-iscsi-iqn.x-lun-0", "/dev/block/8:16"])
    assert not lvm_accepts(entries, ["/dev/mapper/san-mp-other"])  # a map of no pool


def test_lvm_filter_names_a_bad_alias():
    bad = shared_pool(disks=(replace(config().pool("s1").shared.disks[0], alias='x"y'),))
    with pytest.raises(SanError) as err:
        lvm.global_filter(config(pool=bad))
    assert err.value.field == f"pools[s1].shared.disks[{WWID1}].alias"


def test_a_pool_of_many_lvs_gets_longer_start_timeouts_in_steps():
    from sanappliance.drbd.cib import PER_LV_FREE, VG_OPS, VOLUMES_OPS, scaled

    assert scaled(VOLUMES_OPS, ("start", "reload-agent"), PER_LV_FREE) == VOLUMES_OPS
    grown = dict((name, timeout) for name, _i, timeout, _r in scaled(VOLUMES_OPS, ("start", "reload-agent"), 256))
    assert grown == {"start": "632s", "stop": "60s", "monitor": "60s", "reload-agent": "632s"}
    assert scaled(VOLUMES_OPS, ("start",), 33) == scaled(VOLUMES_OPS, ("start",), 64)  # one step
    vg = dict((name, timeout) for name, _i, timeout, _r in scaled(VG_OPS, ("start", "stop"), 65))
    assert vg == {"start": "346s", "stop": "346s", "monitor": "90s"}


def test_a_target_of_many_luns_gets_longer_start_stop_and_reload_timeouts():
    from sanappliance.drbd import cib as dcib
    from tests.unit.drbd_samples import config as drbd_config

    def target_ops(cfg):
        group = dcib.pool_group(cfg, cfg.pool("p1"))
        prim = next(p for p in group.findall("primitive") if p.get("type") == "target")
        return {op.get("name"): op.get("timeout") for op in prim.iter("op")}

    cfg = drbd_config()
    assert target_ops(cfg) == {"start": "120s", "stop": "120s", "monitor": "30s", "reload-agent": "120s"}
    vols = tuple(replace(cfg.volumes[0], name=f"x{i}", wwn=f"00000000-0000-4000-8000-{i:012d}") for i in range(256))
    tpg = replace(cfg.targets[0].tpgs[0], luns=tuple(Lun(i, f"x{i}") for i in range(256)), acls=())
    big = replace(cfg, volumes=(*cfg.volumes, *vols), targets=(replace(cfg.targets[0], tpgs=(tpg,)),))
    assert target_ops(big) == {"start": "632s", "stop": "632s", "monitor": "30s", "reload-agent": "632s"}
    volumes = next(p for p in dcib.pool_group(big, big.pool("p1")).findall("primitive") if p.get("type") == "volumes")
    assert {op.get("name"): op.get("timeout") for op in volumes.iter("op")}["stop"] != "60s"
