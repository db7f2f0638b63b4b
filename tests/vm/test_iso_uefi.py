"""The live ISO boots under qemu with UEFI firmware (OVMF) to a running appliance."""

from pathlib import Path

import pytest

from sanappliance import __version__
from sanappliance.lab import Boot, Firmware, LabSpec, NodeSpec
from sanappliance.lab.qemu import OVMF

from .conftest import start_lab, stop_lab


@pytest.mark.skipif(not Path(OVMF).is_file(), reason="OVMF (Debian package ovmf) not installed")
def test_uefi_boot(request, images):
    spec = LabSpec(nodes=(NodeSpec("live", boot=Boot.ISO, firmware=Firmware.UEFI),))
    lab = start_lab(request, images, spec, name="iso-uefi")
    try:
        node = lab.node("live")
        print(f"\nISO (UEFI) ready {node.ready_seconds:.1f} s after qemu start")
        assert node.sh("test -d /sys/firmware/efi && echo efi").stdout.strip() == "efi"
        assert node.sh("sanctl --version").stdout.strip() == f"sanctl {__version__}"
    finally:
        stop_lab(request, lab)
