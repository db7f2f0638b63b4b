"""One appliance node booted from the lab image: what the image must contain and how the lab reaches it."""

import time
import urllib.request

import pytest

from sanappliance import __version__
from sanappliance.lab import Disk, Forward, LabSpec, NodeSpec

from .conftest import start_lab, stop_lab

CLUSTER_UNITS = ("corosync", "pacemaker", "sbd", "dlm", "lvmlockd", "multipathd", "iscsid.socket")
STACK_COMMANDS = ("corosync", "pacemakerd", "crm", "crm_mon", "sbd", "fence_sbd", "fence_scsi", "fence_mpath",
                  "drbdadm", "lvm", "lvmlockd", "dlm_controld", "multipath", "targetcli", "iscsiadm", "sanctl")


@pytest.fixture(scope="module")
def lab(request, images):
    spec = LabSpec(nodes=(NodeSpec("node1", disks=(Disk("data1", "2G"),), forwards=(Forward(8000),)),))
    lab = start_lab(request, images, spec)
    yield lab
    stop_lab(request, lab)


@pytest.fixture(scope="module")
def node(lab):
    return lab.node("node1")


def test_boots_to_running_with_no_failed_unit(node):
    assert node.sh("systemctl is-system-running").stdout.strip() == "running"
    assert node.sh("systemctl list-units --failed --plain --no-legend").stdout.strip() == ""
    assert node.sh("cat /run/sanappliance/ready").stdout.strip() == f"sanappliance {__version__} ready on node1"
    print(f"\nnode1 ready {node.ready_seconds:.1f} s after qemu start ({node.wiring.accel})")


def test_sanctl_of_this_checkout(node):
    assert node.sh("sanctl --version").stdout.strip() == f"sanctl {__version__}"
    assert "sanappliance" in node.sh("python3 -c 'import sanappliance.lab, sanappliance.targetd; print(1)'"
                                     " && cat /etc/sanappliance-release").stdout


def test_configfs_and_lio_ready(node):
    assert node.sh("findmnt -n -o FSTYPE /sys/kernel/config").stdout.strip() == "configfs"
    modules = node.sh("lsmod").stdout
    assert "target_core_mod" in modules and "iscsi_target_mod" in modules
    dbroot = node.sh("cat /sys/kernel/config/target/dbroot").stdout.strip()
    assert {"alua", "pr"} <= set(node.sh(f"ls {dbroot}").stdout.split())
    # rtslib-fb (the library the storage core drives LIO with) sees the kernel target
    out = node.sh("python3 -c 'import rtslib_fb; r = rtslib_fb.RTSRoot(); print(len(list(r.targets)))'").stdout
    assert out.strip() == "0"


def test_drbd_module_loads(node):
    assert node.sh("modprobe drbd && cat /proc/drbd").stdout.startswith("version: 8.4.")


def test_cluster_services_installed_but_inactive(node):
    for unit in CLUSTER_UNITS:
        enabled = node.run(["/usr/bin/systemctl", "is-enabled", unit]).stdout.strip()
        active = node.run(["/usr/bin/systemctl", "is-active", unit]).stdout.strip()
        assert (enabled, active) == ("disabled", "inactive"), unit
    missing = node.sh("for c in " + " ".join(STACK_COMMANDS) + "; do command -v $c >/dev/null || echo $c; done")
    assert missing.stdout.split() == []


def test_disks_watchdog_and_root_account(node):
    assert node.sh("blockdev --getsize64 /dev/disk/by-id/virtio-data1").stdout.strip() == str(2 * 2**30)
    assert node.sh("test -c /dev/watchdog && lsmod | awk '$1 == \"i6300esb\" {print $1}'").stdout.strip() == "i6300esb"
    assert node.sh("passwd -S root").stdout.split()[1] == "L"  # locked: no default password
    assert node.sh("stat -c %a /etc/sanappliance /var/lib/sanappliance").stdout.split() == ["700", "700"]


def test_loopback_forward_reaches_the_guest(lab, node):
    node.sh("systemd-run --unit=probe-http --working-directory=/usr/share/common-licenses "
            "python3 -m http.server 8000 --bind 0.0.0.0")
    url = f"http://127.0.0.1:{lab.forward('node1', 8000)}/GPL-3"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                assert b"GNU GENERAL PUBLIC LICENSE" in response.read()
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_exit_codes_and_streams_come_back(node):
    result = node.sh("echo out; echo err >&2; exit 7", check=False)
    assert (result.returncode, result.stdout, result.stderr) == (7, "out\n", "err\n")
    assert node.run(["/bin/cat"], input="piped\n").stdout == "piped\n"


def test_memory_per_node(node):
    used = int(node.sh("free -m | awk '/^Mem:/ {print $3}'").stdout)
    rss = node.rss_bytes() / 2**20
    print(f"\nguest uses {used} MiB of {node.spec.memory_mib}; qemu RSS {rss:.0f} MiB")
    assert used < 600
    assert rss < node.spec.memory_mib + 400


def test_no_timer_touches_the_exported_lvs(node):
    """e2scrub would snapshot and check every LV holding ext4: on the appliance those are initiators' disks."""
    units = ("e2scrub_all.timer", "e2scrub_reap.service", "dpkg-db-backup.timer")
    enabled = node.run(["/usr/bin/systemctl", "is-enabled", *units]).stdout.split()
    assert enabled == ["disabled"] * len(units), dict(zip(units, enabled, strict=False))
