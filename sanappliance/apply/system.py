"""Boot-time preparation of the appliance: LIO modules and dbroot, the ready marker."""

from __future__ import annotations

import socket
from pathlib import Path

from sanappliance import __version__
from sanappliance.errors import SanError

from .files import write_atomic
from .runner import run, tool

CONFIGFS_TARGET = Path("/sys/kernel/config/target")
READY_FILE = Path("/run/sanappliance/ready")
LIO_MODULES = ("target_core_mod", "iscsi_target_mod", "target_core_iblock", "target_core_file")


def prepare_lio(configfs_target: Path = CONFIGFS_TARGET) -> Path:
    """Load the LIO modules, let rtslib settle the dbroot, and create the dbroot's pr/ and alua/ directories.

    Without dbroot/pr every PERSISTENT RESERVE OUT fails with NOT READY (fence_scsi and cluster initiators need PR).
    rtslib moves the dbroot to its own directory the first time it runs on an empty target, so the directories are
    made after that. Returns the dbroot. Idempotent.
    """
    run([tool("modprobe", "kmod"), "--all", *LIO_MODULES])
    if not configfs_target.is_dir():
        raise SanError("configfs has no target/ directory after loading the LIO modules",
                       field="configfs", value=str(configfs_target))
    import rtslib_fb

    rtslib_fb.RTSRoot()
    return ensure_dbroot_dirs(configfs_target)


def ensure_dbroot_dirs(configfs_target: Path = CONFIGFS_TARGET) -> Path:
    dbroot = Path((configfs_target / "dbroot").read_text().strip() or "/etc/target")
    for sub in ("pr", "alua"):
        (dbroot / sub).mkdir(parents=True, exist_ok=True)
    return dbroot


def mark_ready(ready_file: Path = READY_FILE) -> str:
    line = f"sanappliance {__version__} ready on {socket.gethostname()}"
    write_atomic(ready_file, line + "\n", mode=0o644)
    return line
