"""Whether KVM really runs a Debian kernel here, or the lab must use TCG (never hang on a broken /dev/kvm)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

PROBE_MARKERS = ("Kernel panic", "VFS: Unable to mount root", "end Kernel panic")
CACHE = Path("/run/sanappliance-lab-accel")


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def probe_kvm(qemu: str, kernel: Path, timeout: float = 20.0) -> bool:
    """Boot the appliance kernel with no root under KVM: a working KVM reaches the 'no root' panic in seconds;
    a software hypervisor that cannot run the kernel fails or stalls. Either way the probe ends within `timeout`."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    argv = [qemu, "-accel", "kvm", "-cpu", "host", "-m", "256", "-display", "none", "-nodefaults",
            "-serial", "stdio", "-no-reboot", "-kernel", str(kernel), "-append", "console=ttyS0 panic=-1"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            chunk = proc.stdout.read() or b""  # type: ignore[union-attr]
            seen += chunk
            if any(m.encode() in seen for m in PROBE_MARKERS):
                return True
            if proc.poll() is not None and not chunk:
                return False
            time.sleep(0.2)
        return False
    finally:
        proc.kill()
        proc.wait()


def choose_accel(qemu: str, kernel: Path) -> str:
    """'kvm' or 'tcg'. SANAPPLIANCE_LAB_ACCEL forces one; the probe's answer is kept until the host reboots."""
    forced = os.environ.get("SANAPPLIANCE_LAB_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced
    current = boot_id()
    try:
        cached_boot, cached = CACHE.read_text().split()
        if cached_boot == current and cached in ("kvm", "tcg"):
            return cached
    except (OSError, ValueError):
        pass
    accel = "kvm" if probe_kvm(qemu, kernel) else "tcg"
    try:
        CACHE.write_text(f"{current} {accel}\n")
    except OSError:
        pass
    return accel
