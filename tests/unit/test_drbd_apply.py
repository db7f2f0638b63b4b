"""The apply layer's decisions for a replicated pool (pure): which files change, create-md only where no meta data
is, up or adjust, when primary --force is allowed, the VG steps still missing, the argvs; and DrbdHost's order of
commands on a fake runner and a temporary root (no DRBD, no LVM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sanappliance.apply import drbd as A
from sanappliance.apply.runner import Result
from sanappliance.drbd import commands, lvm, render
from sanappliance.drbd.status import Device
from sanappliance.errors import SanError
from tests.unit.drbd_samples import config, two_pools

RES = "san-p1"
DOWN = Device(0, "Unconfigured")
FRESH = Device(0, "Connected", "Secondary", "Secondary", "Inconsistent", "Inconsistent", "C")
WAITING = Device(0, "WFConnection", "Secondary", "Unknown", "Inconsistent", "DUnknown", "C")
SYNCED = Device(0, "Connected", "Secondary", "Secondary", "UpToDate", "UpToDate", "C")
PRIMARY = Device(0, "SyncSource", "Primary", "Secondary", "UpToDate", "Inconsistent", "C")
BEHIND = Device(0, "Connected", "Secondary", "Secondary", "Inconsistent", "UpToDate", "C")
PROC = "version: 8.4.11 (api:1/proto:86-101)\n"


def result(rc: int = 0, out: str = "", err: str = "", argv: tuple[str, ...] = ("/x",)) -> Result:
    return Result(argv, rc, out, err)


def test_the_files_are_the_drbd_renders_and_lvm_conf():
    files = A.wanted_files(config())
    assert set(files) == {render.GLOBAL_COMMON, "/etc/drbd.d/san-p1.res", lvm.LVM_CONF}
    assert 'system_id_source = "uname"' in files[lvm.LVM_CONF]
    assert A.changed_files({p: t for p, t in files.items()}, files) == []
    current = {**files, render.GLOBAL_COMMON: "old", "/etc/drbd.d/san-p1.res": None}
    assert A.changed_files(current, files) == [render.GLOBAL_COMMON, "/etc/drbd.d/san-p1.res"]
    assert A.resource_of_file("/etc/drbd.d/san-p2.res") == "san-p2"


WARNING = "DRBD module version: 8.4.11\n   userland version: 9.22.0\nmixing different major numbers will not work!\n"


def test_meta_data_read_from_dstate():
    assert A.dstate_argv(RES) == [commands.DRBDADM, "dstate", RES]
    assert A.has_meta_data(result(0, "Inconsistent\n", WARNING))
    assert not A.has_meta_data(result(255, "", WARNING + "No valid meta data found\n"))
    with pytest.raises(SanError, match="cannot read the DRBD meta data: 'san-p1' not defined") as err:
        A.has_meta_data(result(10, "", WARNING + "'san-p1' not defined in your config (for this host).\n"))
    assert "userland" not in str(err.value)
    with pytest.raises(SanError, match="exit code 255"):
        A.has_meta_data(result(255, "", WARNING))  # silent: not taken for "no meta data"


def test_create_md_only_on_a_detached_disk_without_meta_data():
    asked = []

    def meta(value: bool):
        return lambda: asked.append(value) or value

    assert A.needs_create_md(DOWN, meta(False))
    assert not A.needs_create_md(DOWN, meta(True))
    assert not A.needs_create_md(FRESH, meta(False))  # attached: its meta data is in use
    assert asked == [False, True]  # an attached disk is not probed
    assert A.needs_create_md(Device(0, "StandAlone", disk="Diskless"), meta(False))


def test_up_on_a_down_resource_adjust_on_a_running_one():
    assert A.up_argv(RES, DOWN) == [commands.DRBDADM, "up", RES]
    assert A.up_argv(RES, WAITING) == [commands.DRBDADM, "adjust", RES]


def test_primary_force_only_where_no_peer_holds_newer_data():
    assert A.primary_argv(RES, FRESH, force=True) == [commands.DRBDADM, "primary", "--force", RES]
    assert A.primary_argv(RES, WAITING, force=True) == [commands.DRBDADM, "primary", "--force", RES]
    assert A.primary_argv(RES, PRIMARY, force=True) is None
    assert A.primary_argv(RES, SYNCED, force=False) == [commands.DRBDADM, "primary", RES]
    with pytest.raises(SanError, match="overwrite the peer"):
        A.primary_argv(RES, BEHIND, force=True)
    with pytest.raises(SanError, match="without --force"):
        A.primary_argv(RES, FRESH, force=False)
    with pytest.raises(SanError, match="down"):
        A.primary_argv(RES, DOWN, force=True)


def test_secondary_and_down_skip_what_is_done():
    assert A.secondary_argv(RES, PRIMARY) == [commands.DRBDADM, "secondary", RES]
    assert A.secondary_argv(RES, SYNCED) is None and A.secondary_argv(RES, DOWN) is None
    assert A.down_argv(RES, SYNCED) == [commands.DRBDADM, "down", RES]
    assert A.down_argv(RES, DOWN) is None


def pvs(*rows: tuple[str, str]) -> str:
    return json.dumps({"report": [{"pv": [{"pv_name": n, "vg_name": v} for n, v in rows]}]})


def test_vg_steps_still_missing():
    assert A.vg_plan(pvs(), "/dev/drbd0", "san-p1") == A.VgPlan(True, True)
    assert A.vg_plan(pvs(("/dev/drbd0", "")), "/dev/drbd0", "san-p1") == A.VgPlan(False, True)
    assert A.vg_plan(pvs(("/dev/drbd0", "san-p1"), ("/dev/vdc", "x")), "/dev/drbd0", "san-p1") == \
        A.VgPlan(False, False)
    with pytest.raises(SanError, match="PV of volume group other"):
        A.vg_plan(pvs(("/dev/drbd0", "other")), "/dev/drbd0", "san-p1")


def lvs(*names: str) -> str:
    return json.dumps({"report": [{"lv": [{"lv_name": n} for n in names]}]})


def test_the_keeper_lv_is_made_only_where_missing():
    assert A.needs_keeper(None)  # the VG is made only now
    assert A.needs_keeper(lvs()) and A.needs_keeper(lvs("vol1", "san-keep", "keep"))
    assert not A.needs_keeper(lvs("san.keep")) and not A.needs_keeper(lvs("vol1", "san.keep"))
    argv = A.keeper_argv("san-p1")
    assert argv[0].startswith("/") and argv[1] == "lvcreate" and argv[-1] == "san-p1"
    assert argv[argv.index("-n") + 1] == "san.keep" and argv[argv.index("-l") + 1] == "1"
    assert argv[argv.index("--addtag") + 1] == "sanappliance-keep"  # not the volumes' tag: the agent leaves it
    assert "sanappliance" not in argv


def test_vgcreate_is_not_autoactivated_and_owned_by_the_system_id():
    argv = A.vgcreate_argv("san-p1", "/dev/drbd0", "node1")
    assert argv[0].startswith("/") and argv[1] == "vgcreate" and argv[-2:] == ["san-p1", "/dev/drbd0"]
    assert argv[argv.index("--setautoactivation") + 1] == "n" and argv[argv.index("--systemid") + 1] == "node1"
    assert A.parse_system_id("  system ID: node1\n") == "node1"
    assert A.parse_system_id("  system ID: \n") == "" and A.parse_system_id("") == ""


class FakeRunner:
    def __init__(self, answers: dict[str, Result] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.answers = answers or {}

    def __call__(self, argv, check=True, timeout=None, **_):
        self.calls.append(list(argv))
        for key, answer in self.answers.items():
            if key in " ".join(argv):
                return answer
        return result(0, "", "", tuple(argv))


def host(tmp_path: Path, proc: str | None, runner: FakeRunner) -> A.DrbdHost:
    if proc is not None:
        (tmp_path / "proc").mkdir(exist_ok=True)
        (tmp_path / "proc/drbd").write_text(proc)
    return A.DrbdHost(root=tmp_path, runner=runner)


def test_write_files_writes_what_differs_and_takes_obsolete_resources_down(tmp_path):
    runner = FakeRunner()
    h = host(tmp_path, PROC + " 0: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----\n"
             " 1: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----\n", runner)
    changed = h.write_files(two_pools())
    assert set(changed) == {render.GLOBAL_COMMON, "/etc/drbd.d/san-p1.res", "/etc/drbd.d/san-p2.res", lvm.LVM_CONF}
    assert (tmp_path / "etc/drbd.d/san-p1.res").stat().st_mode & 0o777 == 0o644
    assert h.write_files(two_pools()) == [] and runner.calls == []
    changed = h.write_files(config())  # p2 is gone: down, then its file removed
    assert runner.calls == [[commands.DRBDADM, "down", "san-p2"]]
    assert not (tmp_path / "etc/drbd.d/san-p2.res").exists() and "removed /etc/drbd.d/san-p2.res" in changed
    assert lvm.LVM_CONF in changed  # its filter no longer names p2's disks


def test_dry_run_changes_nothing(tmp_path):
    runner = FakeRunner({"dstate": result(255, "", "No valid meta data found")})
    h = A.DrbdHost(root=tmp_path, runner=runner, dry_run=True)
    h.write_files(config())
    h.modprobe()
    assert not (tmp_path / "etc").exists()
    pool = config().pools[1]
    assert h.create_md(pool)
    assert h.planned[-2:] == [" ".join(commands.modprobe_argv()), " ".join(commands.create_md_argv("san-p1"))]
    assert [c[1] for c in runner.calls] == ["dstate"]  # reads only


def test_create_sequence_on_one_node(tmp_path):
    pool = config().pools[1]
    runner = FakeRunner({"dstate": result(255, "", "No valid meta data found"),
                         "systemid": result(0, "  system ID: node1"), "pvs": result(0, pvs()),
                         "lvs": result(0, lvs())})
    h = host(tmp_path, PROC + " 0: cs:Unconfigured\n", runner)
    assert h.create_md(pool) and h.up(pool) == "up"
    (tmp_path / "proc/drbd").write_text(PROC + " 0: cs:Connected ro:Secondary/Secondary "
                                        "ds:Inconsistent/Inconsistent C r-----\n")
    assert not h.create_md(pool) and h.up(pool) == "adjust"
    assert h.primary(pool, force=True)
    with pytest.raises(SanError, match="on the Primary"):
        h.create_vg(pool)
    (tmp_path / "proc/drbd").write_text(PROC + " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C\n")
    assert h.create_vg(pool) == A.VgPlan(True, True, keeper=True)
    h.deactivate_vg(pool)
    assert h.secondary(pool)
    ran = [c[1:] for c in runner.calls]
    assert ran == [["dstate", "san-p1"], ["create-md", "--force", "san-p1"], ["up", "san-p1"], ["adjust", "san-p1"],
                   ["primary", "--force", "san-p1"], ["pvs", "--reportformat", "json", "-o", "pv_name,vg_name"],
                   ["pvcreate", "--yes", "/dev/drbd0"], ["systemid"],
                   A.vgcreate_argv("san-p1", "/dev/drbd0", "node1")[1:], A.lvs_names_argv("san-p1")[1:],
                   A.keeper_argv("san-p1")[1:], ["vgchange", "--activate", "n", "san-p1"],
                   ["secondary", "san-p1"]]
    assert all(c[0].startswith("/") for c in runner.calls)


def test_no_system_id_is_an_error_before_vgcreate(tmp_path):
    pool = config().pools[1]
    runner = FakeRunner({"systemid": result(0, "  system ID: \n"), "pvs": result(0, pvs())})
    h = host(tmp_path, PROC + " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C\n", runner)
    with pytest.raises(SanError, match="no system ID"):
        h.create_vg(pool)
    assert not any("vgcreate" in c for c in runner.calls)


def test_without_the_module_there_is_no_proc_drbd(tmp_path):
    h = host(tmp_path, None, FakeRunner())
    with pytest.raises(SanError, match="not loaded"):
        h.device(config().pools[1])
    h.modprobe()
    assert h.runner.calls == [commands.modprobe_argv()]


def test_a_local_pool_is_refused(tmp_path):
    with pytest.raises(SanError, match="not replicated"):
        host(tmp_path, PROC, FakeRunner()).device(config().pools[0])


def test_a_vg_made_before_gets_its_keeper_once(tmp_path):
    """vg again on a VG that exists (one made before the keeper was, or a re-run): the keeper only if missing."""
    pool = config().pools[1]
    primary = PROC + " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C\n"
    runner = FakeRunner({"pvs": result(0, pvs(("/dev/drbd0", "san-p1"))), "lvs": result(0, lvs("vol1"))})
    assert host(tmp_path, primary, runner).create_vg(pool) == A.VgPlan(False, False, keeper=True)
    assert runner.calls[-1] == A.keeper_argv("san-p1")
    runner = FakeRunner({"pvs": result(0, pvs(("/dev/drbd0", "san-p1"))), "lvs": result(0, lvs("vol1", "san.keep"))})
    assert host(tmp_path, primary, runner).create_vg(pool) == A.VgPlan(False, False)
    assert not any("lvcreate" in c for c in runner.calls)


def test_a_dry_run_plans_the_keeper_of_a_vg_it_would_make(tmp_path):
    pool = config().pools[1]
    runner = FakeRunner({"systemid": result(0, "  system ID: node1"), "pvs": result(0, pvs())})
    h = host(tmp_path, PROC + " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C\n", runner)
    h.dry_run = True
    assert h.create_vg(pool) == A.VgPlan(True, True, keeper=True)
    assert h.planned[-1] == " ".join(A.keeper_argv("san-p1"))
    assert [c[1] for c in runner.calls] == ["pvs", "systemid"]  # reads only, and no lvs of a VG not there
