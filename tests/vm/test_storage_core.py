"""The storage core on one appliance node, driven only through `sanctl` one-shot commands, against the real LIO and
LVM, with an iSCSI initiator on the host (libiscsi through qemu-io, inside the lab's network namespace)."""

import json

import pytest

from sanappliance.lab import Disk, LabSpec, NodeSpec, default_networks
from sanappliance.lab.secret_file import secret_object

from .conftest import start_lab, stop_lab

TARGET = "iqn.2026-11.org.sanappliance:core"
GOOD = "iqn.1994-05.com.example:host1"
OTHER = "iqn.1994-05.com.example:stranger"
USER, SECRET = "host1user", "host1-secret-42"


@pytest.fixture(scope="module")
def lab(request, images):
    nets = default_networks("storage")
    spec = LabSpec(nodes=(NodeSpec("node1", disks=(Disk("data1", "2G"),), networks=("storage",)),), networks=nets)
    lab = start_lab(request, images, spec)
    yield lab
    stop_lab(request, lab)


def sanctl(node, *args: str, check=True):
    return node.run(["/usr/bin/sanctl", *args], check=check, timeout=300)


def qemu_io(lab, command: str, lun: int, initiator=GOOD, user=USER, secret=SECRET, target=TARGET):
    portal = lab.address("node1", "storage")
    opts = f"driver=iscsi,transport=tcp,portal={portal}:3260,target={target},lun={lun},initiator-name={initiator}"
    argv = ["/usr/bin/qemu-io", "--image-opts"]
    if user:
        argv = [*argv, "--object", secret_object(secret)]
        opts += f",user={user},password-secret=sec0"
    return lab.netns.exec([*argv, opts, "-c", command], check=False, timeout=120)


@pytest.fixture(scope="module")
def exported(lab):
    node = lab.node("node1")
    tpg = f"/iscsi/{TARGET}/tpg1"
    for command in (("/pools", "create", "p1", "/dev/disk/by-id/virtio-data1"),
                    ("/volumes", "create", "v1", "64M", "pool=p1"),
                    ("/volumes", "create", "v2", "32M", "kind=fileio"),
                    ("/iscsi", "create", TARGET),
                    (f"{tpg}/luns", "create", "v1"),
                    (f"{tpg}/luns", "create", "v2"),
                    (f"{tpg}/acls", "create", GOOD, f"userid={USER}", f"password={SECRET}")):
        sanctl(node, *command)
    return node


def test_lio_and_lvm_hold_what_was_asked(exported):
    node = exported
    lvs = node.sh("lvs --noheadings -o vg_name,lv_name,lv_size --units m --nosuffix").stdout.split()
    assert lvs == ["san-p1", "v1", "64.00"]
    tree = json.loads(node.sh("python3 -c 'import rtslib_fb, json; "
                              "print(json.dumps(rtslib_fb.RTSRoot().dump()))'").stdout)
    (target,) = tree["targets"]
    tpg = target["tpgs"][0]
    assert target["wwn"] == TARGET and tpg["enable"] in (True, 1)
    assert sorted(lun["index"] for lun in tpg["luns"]) == [0, 1]
    (acl,) = tpg["node_acls"]
    assert acl["node_wwn"] == GOOD and acl["chap_userid"] == USER
    assert {m["index"] for m in acl["mapped_luns"]} == {0, 1}
    assert tpg["attributes"]["authentication"] == 1
    dbroot = node.sh("cat /sys/kernel/config/target/dbroot").stdout.strip()
    assert {"alua", "pr"} <= set(node.sh(f"ls {dbroot}").stdout.split())
    config = node.sh("stat -c %a /etc/sanappliance/config.json; grep -c host1-secret /etc/sanappliance/config.json")
    assert config.stdout.split() == ["600", "1"]


def test_nothing_left_to_do(exported):
    assert exported.sh("sanctl system restore --dry-run").stdout.startswith("restore: generation 7, 0 change(s)")


def test_initiator_with_chap_writes_and_reads(lab, exported):
    for lun in (0, 1):
        wrote = qemu_io(lab, f"write -P 0x{0x5a + lun:02x} 0 1M", lun)
        assert wrote.returncode == 0 and "wrote 1048576/1048576" in wrote.stdout, wrote.stderr
        read = qemu_io(lab, f"read -P 0x{0x5a + lun:02x} 0 1M", lun)
        assert read.returncode == 0 and "Pattern verification failed" not in read.stdout, read.stdout


def test_wrong_chap_and_unknown_initiator_are_refused(lab, exported):
    assert qemu_io(lab, "read 0 512", 0, secret="wrong-secret-99").returncode != 0
    assert qemu_io(lab, "read 0 512", 0, user="").returncode != 0
    assert qemu_io(lab, "read 0 512", 0, initiator=OTHER).returncode != 0


def test_bad_changes_leave_lio_and_config_unchanged(exported):
    node = exported
    snapshot = "python3 -c 'import rtslib_fb, json; print(json.dumps(rtslib_fb.RTSRoot().dump(), sort_keys=True))'"
    before = (node.sh(snapshot).stdout, node.sh("cat /etc/sanappliance/config.json").stdout)
    for command, expected in ((("/iscsi", "create", "iqn.bad_name"), "iqn: not an iSCSI qualified name"),
                              ((f"/iscsi/{TARGET}/tpg1/luns", "create", "v1", "lun=0"),
                               "lun: this LUN number is taken"),
                              (("/volumes", "create", "huge", "50G", "pool=p1"), "pools[p1].size"),
                              (("/volumes", "delete", "v1"), "still exported")):
        result = sanctl(node, *command, check=False)
        assert result.returncode == 1 and expected in result.stderr, (command, result.stderr)
        assert "Traceback" not in result.stderr
    assert (node.sh(snapshot).stdout, node.sh("cat /etc/sanappliance/config.json").stdout) == before


def test_demo_mode_with_tpg_chap(lab, exported):
    """A second target in demo mode: any initiator gets in with the TPG-wide CHAP credentials, and only with them."""
    demo = "iqn.2026-11.org.sanappliance:demo"
    tpg = f"/iscsi/{demo}/tpg1"
    for command in (("/volumes", "create", "d1", "16M", "kind=ramdisk"), ("/iscsi", "create", demo),
                    (f"{tpg}/luns", "create", "d1"), (tpg, "set", "attribute", "generate_node_acls=1",
                                                      "demo_mode_write_protect=0"),
                    (tpg, "auth", "userid=demo", "password=demo-secret-77")):
        sanctl(exported, *command)
    ok = qemu_io(lab, "write -P 0x33 0 64k", 0, initiator=OTHER, user="demo", secret="demo-secret-77", target=demo)
    assert ok.returncode == 0 and "wrote 65536/65536" in ok.stdout, ok.stdout + ok.stderr
    bad = qemu_io(lab, "read 0 512", 0, initiator=OTHER, user="demo", secret="wrong-secret-77", target=demo)
    assert bad.returncode != 0


def test_ls_and_dry_run(exported):
    out = sanctl(exported, "ls").stdout
    for text in ("Pools: 1", "64MiB lv in p1, exported 1x", "enabled, CHAP, 2 LUN(s), 1 ACL(s)", USER):
        assert text in out, out
    assert SECRET not in out and SECRET not in sanctl(exported, f"/iscsi/{TARGET}/tpg1/acls/{GOOD}", "info").stdout
    dry = sanctl(exported, "--dry-run", "/iscsi", "delete", TARGET)
    assert f"  delete target {TARGET}" in dry.stdout
    assert TARGET in sanctl(exported, "/iscsi", "ls").stdout


def test_everything_is_back_after_a_reboot(lab, exported):
    assert exported.power_off(timeout=120)
    lab.restart("node1")
    node = lab.node("node1")
    assert node.sh("systemctl is-active sanappliance-restore.service").stdout.strip() == "active"
    assert "0 change(s)" in node.sh("sanctl system restore --dry-run").stdout
    for lun in (0, 1):
        read = qemu_io(lab, f"read -P 0x{0x5a + lun:02x} 0 1M", lun)
        assert read.returncode == 0 and "Pattern verification failed" not in read.stdout, read.stdout


def test_settings_tables_match_the_kernel(exported):
    from sanappliance.model import settings

    tpg = f"/sys/kernel/config/target/iscsi/{TARGET}/tpgt_1"
    attrib = set(exported.sh(f"ls {tpg}/attrib").stdout.split())
    params = set(exported.sh(f"ls {tpg}/param").stdout.split())
    device = set(exported.sh("ls /sys/kernel/config/target/core/iblock_*/v1/attrib").stdout.split())
    assert set(settings.TPG_ATTRIBUTES) <= attrib
    assert set(settings.TPG_PARAMETERS) <= params
    assert set(settings.DEVICE_ATTRIBUTES) <= device


def test_fast_configfs_reader_agrees_with_rtslib(exported):
    """The direct configfs reader the commands use sees exactly what rtslib-fb sees."""
    same = exported.sh("python3 -c 'from sanappliance.apply import configfs, lio; "
                       "a, b = configfs.read_state(), lio.read_state(); print(a == b); print(a); print(b)'")
    assert same.stdout.splitlines()[0] == "True", same.stdout
