"""First boot on the live system: the marker that it ran, the kernel command line, finding a seed file (in
/etc/sanappliance or on a file system labelled SANSEED), the admin account's password hash (the API's and the web
page's, /etc/sanappliance/targetd.json) and the console banner file agetty shows before each login."""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from sanappliance.errors import SanError
from sanappliance.model.apiconfig import ApiConfig

from .apifiles import API_CONFIG, read_api_config, write_api_config
from .files import write_atomic
from .runner import run, tool

DONE = Path("/etc/sanappliance/firstboot.done")
SEED_FILE = Path("/etc/sanappliance/seed.conf")
SEED_LABEL = "SANSEED"  # a file system (USB stick, virtual disk) with seed.conf at its root
SEED_NAME = "seed.conf"
ISSUE = Path("/run/sanappliance/issue")
CMDLINE = Path("/proc/cmdline")
API_UNITS = ("sanappliance-targetd.service", "sanappliance-ui.service")


def cmdline(path: Path = CMDLINE) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def done(path: Path = DONE) -> bool:
    return path.exists()


def mark_done(how: str, path: Path = DONE) -> None:
    write_atomic(path, f"{how}\n", mode=0o600)


def find_seed(udev_wait: float = 10.0) -> tuple[str, str] | None:
    """(text, where) of the seed: /etc/sanappliance/seed.conf, else seed.conf on the file system labelled SANSEED
    (mounted read-only for the time it is read); None when there is none."""
    if SEED_FILE.is_file():
        return SEED_FILE.read_text(), str(SEED_FILE)
    device = Path(f"/dev/disk/by-label/{SEED_LABEL}")
    if not device.exists():
        run([tool("udevadm", "udev"), "settle", f"--timeout={int(udev_wait)}"], check=False, timeout=udev_wait + 5)
    if not device.exists():
        return None
    with tempfile.TemporaryDirectory(prefix="sanseed-") as mnt:
        run([tool("mount", "mount"), "-o", "ro", str(device), mnt], timeout=60)
        try:
            seed = Path(mnt) / SEED_NAME
            if not seed.is_file():
                raise SanError(f"the file system labelled {SEED_LABEL} has no {SEED_NAME} at its root",
                               field="seed", value=str(device))
            return seed.read_text(), f"{SEED_LABEL}:/{SEED_NAME}"
        finally:
            run([tool("umount", "mount"), mnt], check=False, timeout=60)


def retire_seed() -> None:
    """The clear password must not stay on the appliance: /etc's seed file is kept without its password lines."""
    if not SEED_FILE.is_file():
        return
    kept = [line for line in SEED_FILE.read_text().splitlines() if not line.strip().startswith("admin_password")]
    write_atomic(SEED_FILE.with_name("seed.conf.applied"), "\n".join(kept) + "\n", mode=0o600)
    SEED_FILE.unlink()


class AdminAccount:
    """The appliance's admin account: the API's and the web page's one user."""

    def __init__(self, path: Path = API_CONFIG) -> None:
        self.path = path

    def set_password_hash(self, password_hash: str) -> None:
        config = read_api_config(self.path) or ApiConfig()
        write_api_config(replace(config, password_hash=password_hash), self.path)
        from .systemd import Systemd

        try:
            systemd = Systemd()
        except SanError:
            return  # no system bus (first boot before D-Bus, a chroot): the daemons read it when they start
        for unit in API_UNITS:  # running daemons keep the old hash until restarted
            try:
                if systemd.state(unit) == "active":
                    systemd.restart(unit, timeout=120)
            except SanError:
                pass


def write_issue(text: str, path: Path = ISSUE) -> Path:
    write_atomic(path, text, mode=0o644)
    return path


def ports() -> list[str]:
    """Physical Ethernet ports by kernel name (for the dialog's choice)."""
    top = Path("/sys/class/net")
    return sorted(p.name for p in top.iterdir() if (p / "device").exists()) if top.is_dir() else []


def hostname() -> str:
    return os.uname().nodename
