import json

import pytest

from sanappliance.errors import SanError
from sanappliance.model import values
from sanappliance.model.config import (
    Acl,
    Chap,
    Config,
    InitiatorGroup,
    Lun,
    MappedLun,
    Pool,
    Portal,
    Target,
    Tpg,
    Volume,
    VolumeKind,
)
from sanappliance.model.validate import Facts, check, validate

INIT1 = "iqn.1994-05.com.redhat:client1"
INIT2 = "iqn.1994-05.com.redhat:client2"
TARGET = "iqn.2026-11.org.sanappliance:t1"
CHAP = Chap("user1", "secret-secret-1")


def sample() -> Config:
    return Config(
        pools=(Pool("p1", ("/dev/disk/by-id/virtio-data1",)),),
        volumes=(Volume("v1", VolumeKind.LV, 2**30, pool="p1", wwn="0f2b8a1e-1111-4222-8333-444455556666"),
                 Volume("v2", VolumeKind.FILEIO, 2**29, attributes={"emulate_tpu": 0}),
                 Volume("r1", VolumeKind.RAMDISK, 2**26)),
        targets=(Target(TARGET, (Tpg(luns=(Lun(0, "v1"), Lun(1, "v2")),
                                     acls=(Acl(INIT1, (MappedLun(0, 0), MappedLun(1, 1, True)), CHAP),),
                                     groups=(InitiatorGroup("g1", (INIT2,), (MappedLun(0, 1),),
                                                            Chap("user2", "secret-secret-2")),),
                                     attributes={"login_timeout": 10}),)),))


def fields(config, facts=None):
    return {p.field for p in validate(config, facts)}


def test_json_round_trip():
    config = sample()
    text = json.dumps(config.to_dict())
    assert Config.from_dict(json.loads(text)) == config
    assert validate(config) == []


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["targets"][0].update(iqn=5), "config.targets[0].iqn"),
    (lambda d: d["volumes"][0].update(kind="tape"), "config.volumes[0].kind"),
    (lambda d: d["volumes"][0].update(size="1G"), "config.volumes[0].size"),
    (lambda d: d["volumes"][0].update(colour="red"), "config.volumes[0]"),
    (lambda d: d["targets"][0]["tpgs"][0]["luns"][0].pop("volume"), "config.targets[0].tpgs[0].luns[0].volume"),
    (lambda d: d["targets"][0]["tpgs"][0].update(enabled="yes"), "config.targets[0].tpgs[0].enabled"),
])
def test_from_dict_names_the_bad_field(mutate, field):
    data = sample().to_dict()
    mutate(data)
    with pytest.raises(SanError) as err:
        Config.from_dict(data)
    assert err.value.field == field


def change_tpg(config, **kw):
    target = config.targets[0]
    tpg = target.tpgs[0]
    return Config(pools=config.pools, volumes=config.volumes,
                  targets=(Target(target.iqn, (Tpg(**{**tpg.__dict__, **kw}),)),))


@pytest.mark.parametrize("change, field", [
    (dict(luns=(Lun(0, "v1"), Lun(0, "v2"))), f"targets[{TARGET}].tpg1.luns"),
    (dict(luns=(Lun(0, "nope"),)), f"targets[{TARGET}].tpg1.lun0.volume"),
    (dict(luns=(Lun(70000, "v1"),)), f"targets[{TARGET}].tpg1.luns"),
    (dict(luns=(Lun(0, "v1"), Lun(1, "v1"))), f"targets[{TARGET}].tpg1.luns"),
    (dict(portals=(Portal("300.1.1.1"),)), f"targets[{TARGET}].tpg1.portals[0].address"),
    (dict(portals=(Portal(port=0),)), f"targets[{TARGET}].tpg1.portals[0].port"),
    (dict(portals=(Portal(), Portal())), f"targets[{TARGET}].tpg1.portals"),
    (dict(acls=(Acl("iqn.bad"),), groups=()), f"targets[{TARGET}].tpg1.acls[iqn.bad].initiator"),
    (dict(acls=(Acl(INIT1, (MappedLun(0, 9),)),), groups=()),
     f"targets[{TARGET}].tpg1.acls[{INIT1}].mapped_luns.tpg_lun"),
    (dict(acls=(Acl(INIT2),)), f"targets[{TARGET}].tpg1.acls"),
    (dict(acls=(Acl(INIT1, chap=Chap("u", "short")),), groups=()),
     f"targets[{TARGET}].tpg1.acls[{INIT1}].chap.password"),
    (dict(acls=(Acl(INIT1, chap=Chap("u", "secret-secret-1", "m", "secret-secret-1")),), groups=()),
     f"targets[{TARGET}].tpg1.acls[{INIT1}].chap.mutual_password"),
    (dict(acls=(Acl(INIT1),)), f"targets[{TARGET}].tpg1.acls"),  # group has CHAP, ACL has not
    (dict(attributes={"login_timeout": 99}), f"targets[{TARGET}].tpg1.attributes.login_timeout"),
    (dict(attributes={"nonsense": 1}), f"targets[{TARGET}].tpg1.attributes.nonsense"),
    (dict(attributes={"authentication": 1}), f"targets[{TARGET}].tpg1.attributes.authentication"),
    (dict(parameters={"ImmediateData": "Maybe"}), f"targets[{TARGET}].tpg1.parameters.ImmediateData"),
])
def test_tpg_problems_name_their_field(change, field):
    assert field in fields(change_tpg(sample(), **change))


def test_storage_problems():
    base = sample()
    pool_twice = Config(pools=base.pools + (Pool("p2", base.pools[0].disks),))
    assert "pools[p2].disks" in fields(pool_twice)
    assert "pools[p1].disks" in fields(Config(pools=(Pool("p1", ("/dev/sdb",)),)))
    assert "volumes[x].pool" in fields(Config(volumes=(Volume("x", VolumeKind.LV, 2**20, pool="none"),)))
    assert "volumes[x].size" in fields(Config(volumes=(Volume("x", VolumeKind.FILEIO, 1000),)))
    assert "volumes[bad name].name" in fields(Config(volumes=(Volume("bad name", VolumeKind.RAMDISK, 2**20),)))
    assert "volumes[x].wwn" in fields(Config(volumes=(Volume("x", VolumeKind.RAMDISK, 2**20, wwn="nope"),)))
    assert "volumes[x].attributes.block_size" in fields(
        Config(volumes=(Volume("x", VolumeKind.RAMDISK, 2**20, attributes={"block_size": 7}),)))


def test_facts_catch_missing_disks_used_disks_and_oversize():
    config = sample()
    disk = config.pools[0].disks[0]
    assert "pools[p1].disks" in fields(config, Facts(disk_sizes={"/dev/disk/by-id/other": 1}))
    assert "pools[p1].disks" in fields(config, Facts(disks_in_use={disk: "mounted on /"}))
    assert "pools[p1].size" in fields(config, Facts(pool_sizes={"p1": 2**29}))
    assert validate(config, Facts(disk_sizes={disk: 2**31}, pool_sizes={"p1": 2**31})) == []


def test_check_reports_all_problems_and_hides_secrets():
    bad = change_tpg(sample(), acls=(Acl(INIT1, chap=Chap("u", "tiny")),), groups=(), luns=(Lun(0, "x"),))
    with pytest.raises(SanError) as err:
        check(bad)
    assert "tiny" not in str(err.value) and "more" in str(err.value)


@pytest.mark.parametrize("text, size", [("1048576", 2**20), ("512M", 2**29), ("10G", 10 * 2**30),
                                        ("1.5TiB", int(1.5 * 2**40)), ("4k", 4096), (2048, 2048)])
def test_sizes(text, size):
    assert values.parse_size(text, "size") == size


@pytest.mark.parametrize("text", ["", "-1G", "0", "10X", "G", True, "1e9"])
def test_bad_sizes(text):
    with pytest.raises(SanError) as err:
        values.parse_size(text, "size")
    assert err.value.field == "size"


@pytest.mark.parametrize("name", [INIT1, "iqn.2003-01.org.linux-iscsi.host.x8664:sn.abc", "eui.0123456789abcdef",
                                  "naa.60014051234567890123456789012345", "IQN.2001-04.COM.EXAMPLE:Disk"])
def test_good_initiator_names(name):
    assert values.check_initiator(name, "acl") == name.lower()


@pytest.mark.parametrize("name", ["iqn.2001-13.com.example", "iqn.01-04.com.example", "eui.0123", "naa.xyz",
                                  "iqn.2001-04.com.example:has space", "iqn.2001-04." + "a" * 230, ""])
def test_bad_initiator_names(name):
    with pytest.raises(SanError):
        values.check_initiator(name, "acl")


def test_generated_iqn_and_sizes_format():
    assert values.generate_iqn().startswith(values.APPLIANCE_IQN_PREFIX + ":")
    assert values.format_size(10 * 2**30) == "10GiB" and values.format_size(1536 * 2**20) == "1.5GiB"


def test_demo_mode_with_uncached_acls_is_refused():
    bad = change_tpg(sample(), attributes={"generate_node_acls": 1, "cache_dynamic_acls": 0})
    assert f"targets[{TARGET}].tpg1.attributes.cache_dynamic_acls" in fields(bad)
