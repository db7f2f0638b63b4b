"""The apply layer of the shared-disk pools with stand-ins for the commands and udev (the real multipathd and LVM
are exercised in the VM tests): the multipath-capable disks grouped by WWID, the local disks' blacklist,
multipath.conf written only on a change, multipathd enabled whenever maps exist, started or reconfigured, gone
maps flushed, the maps waited for; and the shared VG made (or found) and removed (under its lock while lvmlockd
runs, else made local first), every step looking first."""

from __future__ import annotations

import json
import stat
from dataclasses import replace

import pytest

from sanappliance.apply.multipath import MultipathHost, Seen, group_paths, local_wwids
from sanappliance.apply.runner import Result
from sanappliance.apply.shared_vg import LVM, SharedVgHost, lock_type
from sanappliance.errors import CONFLICT, NOT_FOUND, SanError
from sanappliance.model.config import Config, Pool, SharedDisk
from sanappliance.multipath.model import Map, Path
from tests.unit.drbd_samples import LOCAL
from tests.unit.shared_samples import ALIAS1, ALIAS2, SHOW_PATHS, WWID1, WWID2, config, shared_pool
from tests.unit.test_multipath import GOLDEN

QEMU = "0QEMU_QEMU_HARDDISK_drive-scsi0"
SYSTEMCTL = "/usr/bin/systemctl"
IS_ACTIVE = (SYSTEMCTL, "is-active", "--quiet", "multipathd.service")


class Runner:
    """Records every argv (with its check flag); answers from `answers`: the first key that prefixes the argv."""

    def __init__(self, answers: dict[tuple[str, ...], Result | object] | None = None) -> None:
        self.answers = dict(answers or {})
        self.calls: list[tuple[tuple[str, ...], bool]] = []

    def __call__(self, argv, timeout=None, check=True):
        argv = tuple(argv)
        self.calls.append((argv, check))
        for key, answer in self.answers.items():
            if argv[:len(key)] == key:
                return answer(argv) if callable(answer) else answer
        return Result(argv, 0, "", "")

    @property
    def argvs(self) -> list[tuple[str, ...]]:
        return [argv for argv, _ in self.calls]


def ok(stdout: str = "", code: int = 0) -> Result:
    return Result((), code, stdout, "")


# the node of shared_samples.SHOW_PATHS as udev sees it: s1's disk over sdb and sdc, a second disk over sdd and sde,
# the system disk, a virtio disk (no multipath), a CD-ROM (no serial) and a disk whose serial multipath could not name
SEEN = [
    Seen("sdc", WWID1, "3:0:0:0", "LIO-ORG", "shelf1", 10 * 2**30),
    Seen("sdb", WWID1, "2:0:0:0", "LIO-ORG", "shelf1", 10 * 2**30),
    Seen("sda", QEMU, "0:0:0:0", "QEMU", "QEMU HARDDISK", 8 * 2**30),
    Seen("sde", WWID2, "5:0:0:1", "QEMU", "QEMU HARDDISK", 2**30),
    Seen("sdd", WWID2, "4:0:0:1", "QEMU", "QEMU HARDDISK", 2**30),
    Seen("vda", "virtio-data1"),
    Seen("sr0", ""),
]


def host(tmp_path, runner=None, seen=None, **kw) -> MultipathHost:
    found = list(SEEN if seen is None else seen)
    asked = []

    def udev():
        asked.append(1)
        return found

    mp = MultipathHost(root=tmp_path, runner=runner or Runner(), udev=udev, **kw)
    mp.asked = asked  # type: ignore[attr-defined]
    return mp


def running(paths: str = SHOW_PATHS) -> Runner:
    return Runner({IS_ACTIVE: ok(), ("/usr/sbin/multipathd", "show", "paths"): ok(paths)})


def stopped() -> Runner:
    return Runner({IS_ACTIVE: ok(code=3)})


# --- pure -----------------------------------------------------------------------------------------------------------

def test_paths_are_grouped_by_wwid_scsi_only():
    seen = [*SEEN, Seen("nvme0n1", "eui.0025385b71b0e1f2", size=512 * 2**20)]
    disks = group_paths(seen)
    assert [d.wwid for d in disks] == sorted([WWID1, WWID2, QEMU])  # NVMe: multipath's WWID is ID_WWN, not read
    by = {d.wwid: d for d in disks}
    assert by[WWID1].paths == (Path("sdb", "2:0:0:0"), Path("sdc", "3:0:0:0"))  # by device name, not udev's order
    assert (by[WWID1].vendor, by[WWID1].product, by[WWID1].size, by[WWID1].alias) == ("LIO-ORG", "shelf1", "10G", "")
    assert by[QEMU].size == "8G"
    assert "virtio-data1" not in by and "" not in by  # vda: no multipath; sr0: no serial
    assert group_paths([]) == ()


def test_the_paths_states_and_the_alias_come_from_multipathd():
    from sanappliance.multipath.status import parse_show_paths

    by = {d.wwid: d for d in group_paths(SEEN, parse_show_paths(SHOW_PATHS))}
    assert by[WWID1].alias == ALIAS1 and by[WWID1].paths == (
        Path("sdb", "2:0:0:0", "active", "ready", "running"), Path("sdc", "3:0:0:0", "failed", "faulty", "offline"))
    assert by[WWID1].active_paths == 1 and by[WWID1].vendor == "LIO-ORG"  # udev's facts kept
    assert by[WWID2].alias == "" and by[WWID2].active_paths == 2  # a map named by its WWID has no alias
    assert by[QEMU].paths == (Path("sda", "0:0:0:0", "undef", "undef", "running"),)
    # a path multipathd reports that udev does not see (gone meanwhile) is not listed
    only_sdb = group_paths([SEEN[1]], parse_show_paths(SHOW_PATHS))
    assert [p.device for p in only_sdb[0].paths] == ["sdb"]


def test_local_wwids_are_every_disk_no_shared_pool_holds():
    odd = [*SEEN, Seen("sdf", "1ATA QEMU HARDDISK QM1"), Seen("sdg", "x" * 200)]
    assert local_wwids(odd, config()) == tuple(sorted((QEMU, WWID2, "virtio-data1")))
    assert local_wwids(odd, Config()) == tuple(sorted((QEMU, WWID1, WWID2, "virtio-data1")))
    two = replace(config(), pools=(*config().pools, shared_pool("s2", disks=(SharedDisk(WWID2, ALIAS2),),
                                                                floating_ips=())))
    assert local_wwids(odd, two) == tuple(sorted((QEMU, "virtio-data1")))


# --- multipath.conf -------------------------------------------------------------------------------------------------

def test_no_file_without_a_shared_pool(tmp_path):
    mp = host(tmp_path)
    assert mp.write_conf(Config(pools=(Pool("local", (LOCAL,)),))) == []
    assert not (tmp_path / "etc").exists() and mp.asked == [] and mp.runner.calls == []


def test_the_file_has_the_maps_and_the_local_disks(tmp_path):
    mp = host(tmp_path, seen=[s for s in SEEN if s.name != "vda"])
    assert mp.write_conf(config()) == ["/etc/multipath.conf"]
    path = tmp_path / "etc/multipath.conf"
    assert path.read_text() == GOLDEN  # the blacklist holds the system disk and WWID2, the exception s1's disk
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert mp.runner.calls == []  # writing the file runs nothing


def test_the_file_is_rewritten_only_when_it_changes(tmp_path):
    mp = host(tmp_path)
    mp.write_conf(config())
    path = tmp_path / "etc/multipath.conf"
    inode = path.stat().st_ino
    assert mp.write_conf(config()) == [] and path.stat().st_ino == inode  # not even replaced by the same text
    path.write_text(path.read_text().replace(ALIAS1, "edited"))
    assert mp.write_conf(config()) == ["/etc/multipath.conf"] and f"alias {ALIAS1}" in path.read_text()
    # the last shared pool gone: the file stays, with no exception left
    assert mp.write_conf(Config(pools=(Pool("local", (LOCAL,)),))) == ["/etc/multipath.conf"]
    text = path.read_text()
    assert "alias" not in text and f'wwid "^{WWID1}$"  # local disk' in text and 'wwid ".*"' in text


def test_a_dry_run_plans_the_file_and_writes_nothing(tmp_path):
    mp = host(tmp_path, dry_run=True)
    assert mp.write_conf(config()) == ["/etc/multipath.conf"]
    assert mp.planned == ["write /etc/multipath.conf"] and not (tmp_path / "etc/multipath.conf").exists()


def test_an_alias_the_render_refuses_names_its_field_and_writes_nothing(tmp_path):
    bad = shared_pool(disks=(SharedDisk(WWID1, "sdb"),))
    with pytest.raises(SanError) as err:
        host(tmp_path).write_conf(config(pool=bad))
    assert err.value.field == f"multipath.maps[{WWID1}].alias"
    assert not (tmp_path / "etc/multipath.conf").exists()


# --- multipathd -----------------------------------------------------------------------------------------------------

def told(runner: Runner) -> list[tuple[tuple[str, ...], bool]]:
    """What multipathd and systemd were told (with the check flag), the questions left out."""
    return [(argv, check) for argv, check in runner.calls if argv != IS_ACTIVE]


ENABLE = (SYSTEMCTL, "enable", "multipathd.service")
RECONFIGURE = ("/usr/sbin/multipathd", "reconfigure")


def test_multipathd_is_enabled_and_started_for_the_first_map(tmp_path):
    runner = stopped()
    done = host(tmp_path, runner).reload(config())
    assert told(runner) == [((SYSTEMCTL, "enable", "--now", "multipathd.service"), True)]  # no reconfigure
    assert done == ["multipathd.service enabled and started"]


def test_a_running_multipathd_is_enabled_too_then_reconfigured(tmp_path):
    """Started by hand or by an earlier pool: still enabled, so that it comes back with the node."""
    runner = running()
    done = host(tmp_path, runner).reload(config())
    assert told(runner) == [(ENABLE, True), (RECONFIGURE, True)]
    assert done == ["multipathd.service enabled", "multipathd reconfigured"]


def test_without_a_shared_pool_left_multipathd_is_only_reconfigured(tmp_path):
    runner = running()  # the maps go; multipathd is neither disabled nor stopped
    assert host(tmp_path, runner).reload(Config()) == ["multipathd reconfigured"]
    assert told(runner) == [(RECONFIGURE, True)]


def test_nothing_starts_multipathd_without_a_shared_pool(tmp_path):
    runner = stopped()
    assert host(tmp_path, runner).reload(Config()) == []
    assert set(runner.argvs) == {IS_ACTIVE}


def test_gone_maps_that_exist_are_flushed(tmp_path):
    (tmp_path / "dev/mapper").mkdir(parents=True)
    (tmp_path / f"dev/mapper/{ALIAS2}").touch()
    runner = running()
    done = host(tmp_path, runner).reload(config(), gone=[ALIAS2, "san-mp-gone-already"])
    # after the reconfigure, which may have dropped it meanwhile: a flush that fails is fine
    assert told(runner) == [(ENABLE, True), (RECONFIGURE, True), (("/usr/sbin/multipath", "-f", ALIAS2), False)]
    assert done == ["multipathd.service enabled", "multipathd reconfigured", f"map {ALIAS2} flushed"]


def test_a_dry_run_reload_plans_and_changes_nothing(tmp_path):
    runner = stopped()
    mp = host(tmp_path, runner, dry_run=True)
    mp.reload(config(), gone=[ALIAS2])
    assert mp.planned == ["/usr/bin/systemctl enable --now multipathd.service", f"/usr/sbin/multipath -f {ALIAS2}"]
    assert set(runner.argvs) == {IS_ACTIVE}  # only looked
    runner = running()
    mp = host(tmp_path, runner, dry_run=True)
    mp.reload(config())
    assert mp.planned == ["/usr/bin/systemctl enable multipathd.service", "/usr/sbin/multipathd reconfigure"]
    assert set(runner.argvs) == {IS_ACTIVE}


def test_the_disks_with_multipathd_s_states_only_while_it_runs(tmp_path):
    runner = running()
    disks = {d.wwid: d for d in host(tmp_path, runner).disks()}
    assert disks[WWID1].alias == ALIAS1 and disks[WWID1].active_paths == 1
    runner = stopped()
    disks = {d.wwid: d for d in host(tmp_path, runner).disks()}
    assert disks[WWID1].alias == "" and disks[WWID1].paths[0].dm_state == ""
    assert runner.argvs == [IS_ACTIVE]  # never asked a multipathd that does not run
    failing = Runner({IS_ACTIVE: ok(), ("/usr/sbin/multipathd",): ok("", 1)})
    assert {d.wwid: d for d in host(tmp_path, failing).disks()}[WWID1].alias == ""


def test_wait_maps_returns_once_the_maps_are_there(tmp_path):
    (tmp_path / "dev/mapper").mkdir(parents=True)
    (tmp_path / f"dev/mapper/{ALIAS1}").touch()
    host(tmp_path).wait_maps([Map(WWID1, ALIAS1)], timeout=0)
    host(tmp_path).wait_maps([], timeout=0)


def test_wait_maps_times_out_naming_the_missing_maps(tmp_path):
    (tmp_path / "dev/mapper").mkdir(parents=True)
    (tmp_path / f"dev/mapper/{ALIAS1}").touch()
    with pytest.raises(SanError) as err:
        host(tmp_path).wait_maps([Map(WWID1, ALIAS1), Map(WWID2, ALIAS2)], timeout=0.01)
    assert (err.value.field, err.value.value, err.value.kind) == ("shared.disks", [WWID2], NOT_FOUND)
    assert ALIAS2 in err.value.message and ALIAS1 not in err.value.message
    host(tmp_path, dry_run=True).wait_maps([Map(WWID2, ALIAS2)], timeout=0)  # a dry run waits for nothing


# --- the shared VG --------------------------------------------------------------------------------------------------

def vgs(*rows: tuple[str, str]) -> str:
    return json.dumps({"report": [{"vg": [{"vg_name": n, "vg_lock_type": t} for n, t in rows]}]})


def lvs(*names: str) -> str:
    return json.dumps({"report": [{"lv": [{"lv_name": n} for n in names]}]})


VGS = (LVM, "vgs")
LVS = (LVM, "lvs")
PGREP = ("/usr/bin/pgrep", "-x", "lvmlockd")
LOCAL_VG = ("san-local", "")


def lvm(vg_report: str, lv_report: str = "", vgs_code: int = 0, lvmlockd: bool = True) -> Runner:
    return Runner({VGS: ok(vg_report, vgs_code), LVS: ok(lv_report or lvs()), PGREP: ok(code=0 if lvmlockd else 1)})


def changes(runner: Runner) -> list[tuple[str, ...]]:
    """The argvs that change something (LVM's reports and pgrep left out)."""
    return [argv for argv in runner.argvs if argv[:2] not in (VGS, LVS) and argv != PGREP]


def test_lock_type_of_a_vg():
    report = vgs(LOCAL_VG, ("san-s1", "dlm"), ("other", "sanlock"))
    assert lock_type(report, "san-s1") == "dlm"
    assert lock_type(report, "san-local") == ""
    assert lock_type(report, "other") == "sanlock"
    assert lock_type(report, "san-s2") is None
    assert lock_type(vgs(), "san-s1") is None
    no_column = json.dumps({"report": [{"vg": [{"vg_name": "san-s1"}]}]})
    assert lock_type(no_column, "san-s1") == ""


def test_create_makes_the_shared_vg_with_its_keeper_then_lets_go():
    runner = lvm(vgs(LOCAL_VG))
    pool = config().pool("s1")
    done = SharedVgHost(runner=runner).create(pool)
    assert changes(runner) == [
        (LVM, "vgcreate", "--shared", "--yes", "--addtag", "sanappliance", "--setautoactivation", "n", "san-s1",
         f"/dev/mapper/{ALIAS1}"),
        (LVM, "vgchange", "--lockstart", "san-s1"),
        (LVM, "lvcreate", "--yes", "--wipesignatures", "y", "-n", "san.keep", "-l", "1", "--addtag",
         "sanappliance-keep", "san-s1"),
        (LVM, "vgchange", "--activate", "n", "san-s1"),
        (LVM, "vgchange", "--lockstop", "san-s1"),
    ]
    assert done[0] == f"shared VG san-s1 made on /dev/mapper/{ALIAS1}" and done[1] == "keeper LV san.keep"
    assert runner.argvs[0] == (LVM, "vgs", "--reportformat", "json", "-o", "vg_name,vg_lock_type")


def test_create_on_two_disks_names_both_maps():
    runner = lvm(vgs())
    pool = shared_pool(disks=(SharedDisk(WWID1, ALIAS1), SharedDisk(WWID2, ALIAS2)))
    SharedVgHost(runner=runner).create(pool)
    assert changes(runner)[0][-2:] == (f"/dev/mapper/{ALIAS1}", f"/dev/mapper/{ALIAS2}")


def test_create_again_finds_the_vg_and_its_keeper():
    runner = lvm(vgs(("san-s1", "dlm")), lvs("san.keep"))
    done = SharedVgHost(runner=runner).create(config().pool("s1"))
    assert changes(runner) == [(LVM, "vgchange", "--lockstart", "san-s1"), (LVM, "vgchange", "--activate", "n",
                                                                            "san-s1"),
                               (LVM, "vgchange", "--lockstop", "san-s1")]
    assert not any("made" in line or "keeper" in line for line in done)


def test_create_again_makes_a_missing_keeper():
    runner = lvm(vgs(("san-s1", "dlm")), lvs("other"))
    SharedVgHost(runner=runner).create(config().pool("s1"))
    assert [argv[1] for argv in changes(runner)] == ["vgchange", "lvcreate", "vgchange", "vgchange"]


@pytest.mark.parametrize("found", ["", "sanlock"])
def test_a_vg_of_that_name_that_is_not_shared_is_left_alone(found):
    runner = lvm(vgs(("san-s1", found)))
    with pytest.raises(SanError) as err:
        SharedVgHost(runner=runner).create(config().pool("s1"))
    assert (err.value.field, err.value.value, err.value.kind) == ("name", "s1", CONFLICT)
    assert (found or "none") in err.value.message
    assert changes(runner) == [] and runner.argvs == [VGS + ("--reportformat", "json", "-o",
                                                             "vg_name,vg_lock_type")]


def test_a_dry_run_create_plans_every_step_and_changes_nothing():
    runner = lvm(vgs())
    vg = SharedVgHost(dry_run=True, runner=runner)
    vg.create(config().pool("s1"))
    assert [line.split()[1] for line in vg.planned] == ["vgcreate", "vgchange", "lvcreate", "vgchange", "vgchange"]
    assert runner.argvs == [VGS + ("--reportformat", "json", "-o", "vg_name,vg_lock_type")]


def test_remove_with_lvmlockd_running_takes_the_vg_lock_then_removes_it_and_the_labels():
    runner = lvm(vgs(LOCAL_VG, ("san-s1", "dlm")))
    done = SharedVgHost(runner=runner).remove(config().pool("s1"))
    assert [(argv, check) for argv, check in runner.calls if argv[:2] != VGS] == [
        (PGREP, False),
        ((LVM, "vgchange", "--lockstart", "san-s1"), True),
        ((LVM, "vgremove", "--yes", "--force", "san-s1"), True),
        ((LVM, "pvremove", "--yes", f"/dev/mapper/{ALIAS1}"), False),
    ]
    assert done == ["VG san-s1 removed"]


def test_remove_without_lvmlockd_makes_the_vg_local_then_removes_it_and_the_labels():
    runner = lvm(vgs(LOCAL_VG, ("san-s1", "dlm")), lvmlockd=False)
    done = SharedVgHost(runner=runner).remove(config().pool("s1"))
    assert [(argv, check) for argv, check in runner.calls if argv[:2] != VGS] == [
        (PGREP, False),
        ((LVM, "vgchange", "--locktype", "none", "--lockopt", "force", "san-s1"), True),
        ((LVM, "vgremove", "--yes", "--force", "san-s1"), True),
        ((LVM, "pvremove", "--yes", f"/dev/mapper/{ALIAS1}"), False),
    ]
    assert done == ["VG san-s1 removed"]


def test_a_dry_run_remove_looks_for_lvmlockd_and_changes_nothing():
    for lvmlockd, lock_step in ((True, "--lockstart"), (False, "--locktype")):
        runner = lvm(vgs(("san-s1", "dlm")), lvmlockd=lvmlockd)
        vg = SharedVgHost(dry_run=True, runner=runner)
        vg.remove(config().pool("s1"))
        assert [line.split()[1:3] for line in vg.planned] == [["vgchange", lock_step], ["vgremove", "--yes"],
                                                                ["pvremove", "--yes"]]
        assert changes(runner) == [] and PGREP in runner.argvs


def test_remove_of_a_local_vg_needs_no_lock_change():
    runner = lvm(vgs(("san-s1", "")))
    SharedVgHost(runner=runner).remove(config().pool("s1"))
    assert [argv[1] for argv in changes(runner)] == ["vgremove", "pvremove"] and PGREP not in runner.argvs


def test_remove_again_only_wipes_the_labels():
    runner = lvm(vgs(LOCAL_VG))
    assert SharedVgHost(runner=runner).remove(config().pool("s1")) == []
    assert [(argv, check) for argv, check in runner.calls if argv[:2] != VGS] == [
        ((LVM, "pvremove", "--yes", f"/dev/mapper/{ALIAS1}"), False)]


def test_an_unreadable_vg_report_is_an_error_not_an_absent_vg():
    """vgs failing without a report says nothing of the VG: neither made again nor taken as removed."""
    for action in ("create", "remove"):
        runner = lvm("", vgs_code=5)
        with pytest.raises(SanError) as err:
            getattr(SharedVgHost(runner=runner), action)(config().pool("s1"))
        assert err.value.field == "name" and changes(runner) == [], action


def test_a_failing_vgs_that_still_reports_is_read():
    """vgs exits non-zero when it could not read some VG (perhaps another one): the VGs it reports count."""
    runner = lvm(vgs(("san-s1", "dlm")), vgs_code=5)
    SharedVgHost(runner=runner).remove(config().pool("s1"))
    assert changes(runner) == [(LVM, "vgchange", "--lockstart", "san-s1"), (LVM, "vgremove", "--yes", "--force",
                                                                           "san-s1"),
                               (LVM, "pvremove", "--yes", f"/dev/mapper/{ALIAS1}")]


def test_a_local_pool_has_no_shared_devices():
    with pytest.raises(SanError) as err:
        SharedVgHost(runner=lvm(vgs())).create(Pool("local", (LOCAL,)))
    assert err.value.field == "name"
