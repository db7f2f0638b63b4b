"""The sanctl tree over stand-ins of the live system: commands reach the services, errors are clear, secrets stay
hidden. The same commands run against the real LIO in tests/vm/test_sanctl.py."""

import io

import pytest
from configshell_fb import ExecutionError

from sanappliance.service.env import Env
from sanappliance.shell.root import make_shell

from .fakes import FakeSystem, MemoryStore

T = "iqn.2026-11.org.sanappliance:t1"
I1 = "iqn.1994-05.com.redhat:client1"
DISK = "/dev/disk/by-id/virtio-data1"


class FakeDisk:
    def __init__(self, path):
        self.path, self.size, self.model, self.serial, self.in_use = path, 4 * 2**30, "QEMU", "data1", ""


@pytest.fixture
def sanctl(tmp_path, monkeypatch):
    monkeypatch.setenv("SANCTL_PREFS", str(tmp_path / "prefs"))
    store, system = MemoryStore(), FakeSystem()
    system.disks = lambda config: [FakeDisk(DISK)]
    return runner(store, system)


def runner(store, system):
    """`run(cmdline)`: one sanctl command line on the stand-ins; every line written so far is returned."""
    lines: list[str] = []
    out = io.StringIO()

    def run(cmdline, dry_run=False):
        shell = make_shell(lambda dry: Env(store, system, dry), dry_run=dry_run, write=lines.append, stdout=out)
        shell.run_cmdline(cmdline)
        return lines

    run.store, run.system, run.lines, run.out = store, system, lines, out
    return run


def build(sanctl):
    sanctl(f"/pools create p1 {DISK}")
    sanctl("/volumes create v1 1G pool=p1")
    sanctl("/volumes create v2 64M kind=fileio")
    sanctl(f"/iscsi create {T}")
    sanctl(f"/iscsi/{T}/tpg1/luns create v1")
    sanctl(f"/iscsi/{T}/tpg1/luns create v2 lun=5")
    sanctl(f"/iscsi/{T}/tpg1/acls create {I1} userid=user1 password=secret-secret-1")


def test_building_through_the_tree(sanctl):
    build(sanctl)
    config = sanctl.store.load()
    tpg = config.targets[0].tpgs[0]
    assert [(x.lun, x.volume) for x in tpg.luns] == [(0, "v1"), (5, "v2")]
    assert tpg.acls[0].chap.userid == "user1"
    assert [(m.mapped_lun, m.tpg_lun) for m in tpg.acls[0].mapped_luns] == [(0, 0), (5, 5)]
    assert "Created ACL " + I1 + "." in sanctl.lines


def test_ls_shows_annotations_but_no_secret(sanctl):
    build(sanctl)
    sanctl("/ ls")
    out = sanctl.out.getvalue()
    for text in ("Pools: 1", "Volumes: 2", "1GiB lv in p1, exported 1x", "Targets: 1", "enabled, CHAP, 2 LUN(s), 1 ACL",
                 "Mapped LUNs: 2, CHAP user user1", "lun5", "0.0.0.0:3260", "single node, no cluster"):
        assert text in out, text
    sanctl(f"/iscsi/{T}/tpg1/acls/{I1} info")
    sanctl(f"/iscsi/{T}/tpg1/acls/{I1} get auth password")
    assert "secret-secret-1" not in sanctl.out.getvalue() + "\n".join(sanctl.lines)


def test_set_auth_and_attributes(sanctl):
    build(sanctl)
    sanctl(f"/iscsi/{T}/tpg1/acls/{I1} set auth password=another-secret-2")
    sanctl(f"/iscsi/{T}/tpg1 set attribute login_timeout=10")
    sanctl(f"/iscsi/{T}/tpg1 set parameter ImmediateData=No")
    sanctl("/volumes/v1 set attribute emulate_tpu=0")
    config = sanctl.store.load()
    tpg = config.targets[0].tpgs[0]
    assert tpg.acls[0].chap.password == "another-secret-2" and tpg.acls[0].chap.userid == "user1"
    assert tpg.attributes == {"login_timeout": 10} and tpg.parameters == {"ImmediateData": "No"}
    assert config.volume("v1").attributes == {"emulate_tpu": 0}


@pytest.mark.parametrize("cmdline, expected", [
    ("/iscsi create iqn.bad_name", "iqn: not an iSCSI qualified name"),
    (f"/iscsi/{T}/tpg1/luns create v1 lun=0", "lun: this LUN number is taken"),
    ("/volumes create huge 100G pool=p1", "pools[p1].size"),
    ("/volumes delete v1", "still exported"),
    ("/volumes create v3 12Q pool=p1", "size"),
    (f"/iscsi/{T}/tpg1 set attribute login_timeout=99", "login_timeout must be 2-30"),
])
def test_bad_input_is_an_error_and_changes_nothing(sanctl, cmdline, expected):
    build(sanctl)
    before = (sanctl.store.load(), sanctl.system.lio)
    with pytest.raises(ExecutionError) as err:
        sanctl(cmdline)
    assert expected in str(err.value)
    assert (sanctl.store.load(), sanctl.system.lio) == before


def test_dry_run_prints_the_plan(sanctl):
    build(sanctl)
    before = sanctl.store.load()
    lines = sanctl(f"/iscsi delete {T}", dry_run=True)
    assert "Dry run, nothing changed. Plan:" in lines and f"  delete target {T}" in lines
    assert sanctl.store.load() == before


def test_export_and_import(sanctl, tmp_path):
    build(sanctl)
    path = tmp_path / "saved.json"
    sanctl(f"/ saveconfig {path}")
    sanctl(f"/iscsi delete {T}")
    assert sanctl.store.load().targets == ()
    sanctl(f"/ restoreconfig {path}")
    assert sanctl.store.load().targets[0].iqn == T
    path.write_text('{"schema": 1, "volumes": "many"}')
    with pytest.raises(ExecutionError) as err:
        sanctl(f"/ restoreconfig {path}")
    assert "config.volumes" in str(err.value)


def test_groups_and_portals(sanctl):
    build(sanctl)
    sanctl(f"/iscsi/{T}/tpg1/groups create esx iqn.1998-01.com.vmware:esx1 userid=esx0 password=esx-secret-000")
    sanctl(f"/iscsi/{T}/tpg1/groups/esx add iqn.1998-01.com.vmware:esx2")
    sanctl(f"/iscsi/{T}/tpg1/groups/esx auth userid=esx password=esx-secret-123")
    sanctl(f"/iscsi/{T}/tpg1/groups/esx map 0 0 write_protect=yes")
    sanctl(f"/iscsi/{T}/tpg1/portals create 192.0.2.10 3261")
    tpg = sanctl.store.load().targets[0].tpgs[0]
    (group,) = tpg.groups
    assert group.initiators == ("iqn.1998-01.com.vmware:esx1", "iqn.1998-01.com.vmware:esx2")
    assert group.mapped_luns[0].write_protect and group.chap.userid == "esx"
    assert [str(p) for p in tpg.portals] == ["0.0.0.0:3260", "192.0.2.10:3261"]


def test_tpg_auth_is_set_and_never_shown(sanctl):
    sanctl("/volumes create r1 4M kind=ramdisk")
    sanctl(f"/iscsi create {T}")
    sanctl(f"/iscsi/{T}/tpg1/luns create r1")
    sanctl(f"/iscsi/{T}/tpg1 set attribute generate_node_acls=1")
    with pytest.raises(ExecutionError) as err:  # a userid without a secret is not valid CHAP: nothing changes
        sanctl(f"/iscsi/{T}/tpg1 set auth userid=demo")
    assert "chap.password" in str(err.value)
    sanctl(f"/iscsi/{T}/tpg1 auth userid=demo password=demo-secret-123")
    sanctl(f"/iscsi/{T}/tpg1 get auth password")
    sanctl("/ ls")
    assert sanctl.store.load().targets[0].tpgs[0].chap.userid == "demo"
    assert "demo-secret-123" not in sanctl.out.getvalue() + "\n".join(sanctl.lines)
    assert "enabled, CHAP" in sanctl.out.getvalue()
