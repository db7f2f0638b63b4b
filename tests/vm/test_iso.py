"""The live ISO boots under qemu (BIOS) to a running appliance, checked from inside, and keeps its configuration on
the persistence disk across a reboot. (The UEFI boot is test_iso_uefi.py: its own lab, so another worker runs it.)"""

import pytest

from sanappliance import __version__
from sanappliance.lab import Boot, LabSpec, NodeSpec
from sanappliance.lab.disks import make_persistence_disk

from .conftest import RUNS, start_lab, stop_lab


@pytest.fixture(scope="module")
def persist_disk():
    path = RUNS / "iso-persist.img"
    path.parent.mkdir(parents=True, exist_ok=True)
    make_persistence_disk(path)
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def bios(request, images, persist_disk):
    spec = LabSpec(nodes=(NodeSpec("live", boot=Boot.ISO, attach=(persist_disk,)),))
    lab = start_lab(request, images, spec, name="iso-bios")
    yield lab
    stop_lab(request, lab)


def test_bios_boot_to_a_running_live_appliance(bios):
    node = bios.node("live")
    print(f"\nISO (BIOS) ready {node.ready_seconds:.1f} s after qemu start")
    state = node.sh("systemctl is-system-running", check=False).stdout.strip()
    failed = node.sh("systemctl --failed --no-legend --plain; journalctl -b -p warning --no-pager | tail -40",
                     check=False).stdout
    assert state == "running", f"system {state}:\n{failed}"
    assert "boot=live" in node.sh("cat /proc/cmdline").stdout
    assert node.sh("findmnt -n -o FSTYPE /").stdout.strip() == "overlay"
    assert node.sh("sanctl --version").stdout.strip() == f"sanctl {__version__}"
    assert node.sh("cat /run/sanappliance/ready").stdout.startswith(f"sanappliance {__version__} ready")
    assert not node.sh("test -d /sys/firmware/efi", check=False).ok


def test_configuration_survives_a_reboot_on_the_persistence_disk(bios):
    node = bios.node("live")
    assert "/run/live/persistence" in node.sh("findmnt -rn -o TARGET").stdout
    node.sh("echo kept > /etc/sanappliance/marker && sync")
    assert node.power_off(timeout=120), "the live appliance did not power off cleanly"
    seconds = bios.restart("live")
    print(f"\nISO (BIOS) booted again in {seconds:.1f} s")
    assert node.sh("cat /etc/sanappliance/marker").stdout.strip() == "kept"
