"""Backend multipath: WWIDs and aliases checked naming the field, the appliance's default alias, multipath.conf
(golden; no kernel names anywhere), and the parsers of multipath -ll and multipathd's path list."""

from __future__ import annotations

import re

import pytest

from sanappliance.errors import CONFLICT, NOT_FOUND, SanError
from sanappliance.multipath import model, render, status
from sanappliance.multipath.model import Map, MultipathDisk, Path
from tests.unit.shared_samples import ALIAS1, MULTIPATH_LL, SHOW_PATHS, WWID1, WWID2, config, mixed

GOLDEN = f"""\
# Written by sanappliance: changes here are overwritten (the shared disks are in the shared pools).
defaults {{
    user_friendly_names no
    find_multipaths greedy  # only what the blacklist lets through: the shared disks below
}}
blacklist {{
    wwid "^0QEMU_QEMU_HARDDISK_drive-scsi0$"  # local disk
    wwid "^{WWID2}$"  # local disk
    wwid ".*"  # every disk that is not a shared pool's
}}
blacklist_exceptions {{
    wwid "^{WWID1}$"
}}
multipaths {{
    multipath {{
        wwid {WWID1}
        alias {ALIAS1}
    }}
}}
"""
LOCAL_WWIDS = (WWID2, "0QEMU_QEMU_HARDDISK_drive-scsi0")


def test_multipath_conf_golden():
    assert render.render_multipath_conf(render.maps_of(config()), LOCAL_WWIDS) == GOLDEN


def test_no_kernel_names_anywhere():
    text = render.render_multipath_conf([*render.maps_of(config()), Map("2001b4d2a0c4e5f6", "shelf-b")], LOCAL_WWIDS)
    assert not re.search(r"/dev/sd|\bsd[a-z]\b|\bdm-[0-9]|/dev/dm|mpath[a-z]\b", text), text
    assert text.index("alias san-mp-") < text.index("alias shelf-b")  # sorted by alias: a stable file


def test_maps_come_from_the_shared_pools_only():
    assert render.maps_of(mixed()) == (Map(WWID1, ALIAS1),)
    assert render.maps_of(config(pool=config().pools[0])) == ()
    assert Map(WWID1, ALIAS1).device == f"/dev/mapper/{ALIAS1}"


def test_wwid_pattern_matches_exactly_one_wwid():
    pattern = render.wwid_pattern("1QEMU_x.y+z")
    assert pattern == "^1QEMU_x[.]y[+]z$"
    assert re.fullmatch(pattern, "1QEMU_x.y+z") and not re.fullmatch(pattern, "1QEMU_xAyyz")


@pytest.mark.parametrize("maps, local, field", [
    ([Map("bad wwid", "a1")], (), "multipath.maps[bad wwid].wwid"),
    ([Map(WWID1, "")], (), f"multipath.maps[{WWID1}].alias"),
    ([Map(WWID1, "a b")], (), f"multipath.maps[{WWID1}].alias"),
    ([Map(WWID1, "sdb")], (), f"multipath.maps[{WWID1}].alias"),
    ([Map(WWID1, "dm-3")], (), f"multipath.maps[{WWID1}].alias"),
    ([Map(WWID1, "mpatha")], (), f"multipath.maps[{WWID1}].alias"),
    ([Map(WWID1, "san--p1-vol1")], (), f"multipath.maps[{WWID1}].alias"),
    ([Map(WWID1, "a1"), Map(WWID2, "a1")], (), f"multipath.maps[{WWID2}].alias"),
    ([Map(WWID1, "a1"), Map(WWID1, "a2")], (), f"multipath.maps[{WWID1}].wwid"),
    ([Map(WWID1, "a1")], (WWID1,), f"multipath.maps[{WWID1}].wwid"),
    ([], ("x\ny",), "multipath.local_wwids[0]"),
], ids=["wwid-space", "alias-empty", "alias-space", "alias-sdX", "alias-dm-N", "alias-mpathX", "alias-lvm-like",
        "alias-twice", "wwid-twice", "local-disk-mapped", "local-wwid-bad"])
def test_problems_name_the_field(maps, local, field):
    found = render.problems(maps, local)
    assert [p.field for p in found] == [field], [str(p) for p in found]
    with pytest.raises(SanError) as err:
        render.render_multipath_conf(maps, local)
    assert err.value.field == field


def test_conflicts_have_their_kind():
    found = render.problems([Map(WWID1, "a1"), Map(WWID2, "a1")], ())
    assert found[0].kind == CONFLICT and "names disk" in found[0].message


def test_default_alias_is_the_wwid_end_and_grows_on_a_clash():
    assert model.default_alias(WWID1) == ALIAS1 == "san-mp-" + WWID1[-12:]
    other = model.default_alias(WWID1, {ALIAS1})
    assert other == "san-mp-" + WWID1[-13:]
    assert model.default_alias("1ATA_QEMU_HARDDISK_QM00001") == "san-mp-ddiskqm00001"  # 12 of [a-z0-9]
    model.check_alias(model.default_alias(WWID2), "alias")
    with pytest.raises(SanError):
        model.default_alias("ab", {"san-mp-ab"})


def test_resolve_by_mapper_path_or_wwid_never_by_kernel_name():
    disks = status.parse_list(MULTIPATH_LL)
    assert model.resolve(f"/dev/mapper/{ALIAS1}", disks).wwid == WWID1
    assert model.resolve(WWID2, disks).wwid == WWID2
    with pytest.raises(SanError) as err:
        model.resolve("/dev/sdb", disks, "disks[0]")
    assert err.value.field == "disks[0]" and "kernel name" in err.value.message
    with pytest.raises(SanError) as err:
        model.resolve("/dev/mapper/nothing", disks)
    assert err.value.kind == NOT_FOUND


def test_multipath_ll_parsed():
    first, second = status.parse_list(MULTIPATH_LL)
    assert (first.wwid, first.alias, first.vendor, first.product, first.size) == (WWID1, ALIAS1, "LIO-ORG", "shelf1",
                                                                                 "10G")
    assert first.paths == (Path("sdb", "2:0:0:0", "active", "ready", "running"),
                           Path("sdc", "3:0:0:0", "failed", "faulty", "offline"))
    assert first.active_paths == 1 and status.summary(first) == "1/2 paths up (sdc failed faulty)"
    assert (second.wwid, second.alias, second.product) == (WWID2, "", "QEMU HARDDISK")
    assert status.summary(second) == "2/2 paths up"
    assert status.parse_list("") == () and status.parse_list("Dec 01 | no maps\n") == ()


def test_show_paths_parsed_with_orphans_and_maps_named_by_wwid():
    disks = {d.wwid: d for d in status.parse_show_paths(SHOW_PATHS)}
    assert list(disks) == [WWID1, "0QEMU_QEMU_HARDDISK_drive-scsi0", WWID2]
    assert disks[WWID1].alias == ALIAS1 and [p.device for p in disks[WWID1].paths] == ["sdb", "sdc"]
    assert disks["0QEMU_QEMU_HARDDISK_drive-scsi0"].alias == ""  # [orphan]: in no map
    assert disks[WWID2].alias == "" and disks[WWID2].active_paths == 2  # ghost counts as up (ALUA standby)
    assert status.SHOW_PATHS_ARGV == ("/usr/sbin/multipathd", "show", "paths", "raw", "format", status.FORMAT)


def test_show_paths_refuses_a_line_it_cannot_read():
    with pytest.raises(SanError) as err:
        status.parse_show_paths("sdb active ready\n")
    assert err.value.field == "multipathd.paths" and "line 1" in err.value.message


def test_a_path_is_up_only_active_and_ready():
    assert Path("sdb", dm_state="active", checker_state="ready").up
    assert not Path("sdb", dm_state="active", checker_state="faulty").up
    assert not Path("sdb", dm_state="failed", checker_state="ready").up
    assert MultipathDisk(WWID1).active_paths == 0


def test_summary_of_a_disk_multipath_does_not_handle():
    from sanappliance.multipath.model import MultipathDisk, Path

    assert status.summary(MultipathDisk("35000c50015ea71ac", (Path("sda", "0:0:0:0"), Path("sdb", "1:0:0:0")))) == \
        "2 paths, no map"
    assert status.summary(MultipathDisk("35000c50015ea71ac", (Path("sda"),))) == "1 path, no map"
