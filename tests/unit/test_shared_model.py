"""Shared-disk pools in the model: local, replicated or shared (never two), disks by WWID and multipath alias, the
floating addresses and moving targets of the replicated pools, names the lock managers use, JSON round trip and
the schema upgrade (schema-2 files load unchanged), and the clustered part."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from sanappliance.errors import SanError
from sanappliance.model.config import (
    SCHEMA_VERSION,
    Config,
    FloatingIp,
    Lun,
    Pool,
    SharedDisk,
    SharedStorage,
    Target,
    Tpg,
    Volume,
    VolumeKind,
)
from sanappliance.model.partition import clustered_pools, partition
from sanappliance.model.validate import validate
from tests.unit import drbd_samples
from tests.unit.shared_samples import ALIAS1, ALIAS2, SIQN, WWID1, WWID2, config, mixed, shared_pool


def fields(cfg: Config) -> dict[str, object]:
    return {p.field: p.value for p in validate(cfg)}


def with_pool(pool: Pool, base: Config | None = None) -> Config:
    base = base or config()
    return replace(base, pools=tuple(pool if p.name == pool.name else p for p in base.pools))


def test_the_samples_are_valid():
    assert validate(config()) == [] and validate(mixed()) == []


def test_a_shared_pool_sits_on_its_multipath_maps():
    pool = config().pool("s1")
    assert pool.physical_volumes == (f"/dev/mapper/{ALIAS1}",) and pool.vg == "san-s1"
    assert (pool.kind, pool.clustered, pool.replicated) == ("shared", True, False)
    assert (config().pool("local").kind, config().pool("local").clustered) == ("local", False)
    assert drbd_samples.replicated_pool().kind == "replicated"


def test_local_replicated_or_shared_never_two():
    both = replace(shared_pool(), replication=drbd_samples.replication())
    assert fields(with_pool(both)) == {"pools[s1].shared": WWID1}
    assert fields(with_pool(replace(shared_pool(), disks=(drbd_samples.LOCAL + "2",)))) == {
        "pools[s1].disks": drbd_samples.LOCAL + "2"}
    assert "pools[s1].shared.disks" in fields(with_pool(shared_pool(disks=())))


@pytest.mark.parametrize("disk, field", [
    (SharedDisk("has space", ALIAS1), "pools[s1].shared.disks[has space].wwid"),
    (SharedDisk(WWID1, "sdc"), f"pools[s1].shared.disks[{WWID1}].alias"),
    (SharedDisk(WWID1, "dm-0"), f"pools[s1].shared.disks[{WWID1}].alias"),
    (SharedDisk(WWID1, "/dev/mapper/x"), f"pools[s1].shared.disks[{WWID1}].alias"),
], ids=["wwid", "alias-sdX", "alias-dm-N", "alias-path"])
def test_shared_disks_by_wwid_and_alias_naming_the_field(disk, field):
    assert list(fields(with_pool(shared_pool(disks=(disk,))))) == [field]


def test_a_shared_disk_and_its_alias_belong_to_one_pool():
    s2 = shared_pool("s2", disks=(SharedDisk(WWID1, ALIAS2), SharedDisk(WWID2, ALIAS1)),
                     floating_ips=(FloatingIp("10.0.3.111/24"),))
    cfg = replace(config(), pools=(*config().pools, s2))
    assert fields(cfg) == {f"pools[s2].shared.disks[{WWID1}].wwid": WWID1,
                           f"pools[s2].shared.disks[{WWID2}].alias": ALIAS1}


def test_a_shared_disk_is_not_in_a_local_pool_by_one_of_its_links():
    local = Pool("local", (f"/dev/disk/by-id/scsi-{WWID1}",))
    cfg = replace(config(), pools=(local, config().pool("s1")))
    assert fields(cfg) == {f"pools[s1].shared.disks[{WWID1}].wwid": WWID1}


def test_floating_addresses_need_a_pool_that_moves():
    moving = fields(with_pool(shared_pool(floating_ips=(FloatingIp("10.0.3.110"),))))
    assert moving == {"pools[s1].floating_ips[0].address": "10.0.3.110"}  # its prefix is missing: checked as usual
    local = Pool("local", (drbd_samples.LOCAL,), floating_ips=(FloatingIp("10.0.3.120/24"),))
    problems = validate(with_pool(local))
    assert [(p.field, "shared" in p.message) for p in problems] == [("pools[local].floating_ips", True)]
    clash = mixed()
    clash = with_pool(replace(clash.pool("s1"), floating_ips=(FloatingIp("10.0.3.100/24"),)), clash)
    assert fields(clash) == {"pools.floating_ips": "10.0.3.100"}  # p1 has it too


def test_targets_move_with_one_shared_pool():
    cfg = replace(config(), targets=(Target(SIQN, (Tpg(luns=(Lun(0, "svol1"), Lun(1, "scratch"))),)),))
    problems = validate(cfg)
    assert [p.field for p in problems] == [f"targets[{SIQN}].luns"] and "shared pool s1" in problems[0].message
    cfg = replace(config(), targets=(Target(SIQN, (Tpg(portals=(drbd_samples.Portal("10.0.9.1"),),
                                                       luns=(Lun(0, "svol1"),)),)),))
    assert fields(cfg) == {f"targets[{SIQN}].tpg1.portals[0].address": "10.0.9.1"}


def test_clustered_pools_may_not_take_the_lock_managers_names():
    for name in ("dlm", "lvmlockd", "dlm-clone", "lvmlockd-after-dlm"):
        cfg = Config(pools=(shared_pool(name),))
        assert f"pools[{name}].name" in fields(cfg), name
    assert validate(Config(pools=(Pool("dlm", (drbd_samples.LOCAL,)),))) == []  # a local pool is not in the CIB
    assert validate(Config(pools=(shared_pool("dlmx"),))) == []


def test_json_round_trip_and_errors_by_path():
    cfg = mixed()
    assert Config.from_json(cfg.to_json()) == cfg
    data = cfg.to_dict()
    assert data["schema"] == SCHEMA_VERSION == 3 and data["pools"][1]["shared"]["disks"][0]["alias"] == ALIAS1
    data["pools"][1]["shared"]["disks"][0]["wwid"] = 7
    with pytest.raises(SanError) as err:
        Config.from_dict(data)
    assert err.value.field == "config.pools[1].shared.disks[0].wwid"


def test_schema_2_files_load_unchanged():
    """A file written before shared pools (schema 2: replicated pools, no `shared` key) reads as the same config."""
    cfg = drbd_samples.two_pools()
    old = cfg.to_dict()
    old["schema"] = 2
    for pool in old["pools"]:
        del pool["shared"]
    loaded = Config.from_json(json.dumps(old))
    assert loaded == cfg and loaded.schema == 3 and validate(loaded) == []
    assert Config.from_json(json.dumps({"schema": 1, "pools": [{"name": "p", "disks": [drbd_samples.LOCAL]}]})
                            ).pools == (Pool("p", (drbd_samples.LOCAL,)),)


def test_shared_pools_are_clustered_with_their_volumes_and_targets():
    cfg = mixed()
    assert clustered_pools(cfg) == {"s1", "p1"}
    split = partition(cfg)
    assert [p.name for p in split.clustered.pools] == ["s1", "p1"]
    assert {v.name for v in split.clustered.volumes} == {"svol1", "svol2", "vol1", "vol2"}
    assert {t.iqn for t in split.clustered.targets} == {SIQN, drbd_samples.IQN}
    assert [p.name for p in split.local.pools] == ["local"]
    assert [v.name for v in split.local.volumes] == ["scratch"]


def test_a_volume_on_a_shared_pool_is_an_lv_of_it():
    cfg = replace(config(), volumes=(*config().volumes, Volume("f", VolumeKind.FILEIO, 2**20, pool="s1")))
    assert fields(cfg) == {"volumes[f].pool": "s1"}
    assert SharedStorage((SharedDisk(WWID1, ALIAS1),)).disks[0].device == f"/dev/mapper/{ALIAS1}"
