"""The node as the target resource agent sees it: the live LIO state and its changes (the same reader and executor
as every other command: LiveSystem's), plus loading LIO and telling what is missing for it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from . import system
from .live import LiveSystem
from .runner import run


class LiveTarget(LiveSystem):
    def prepare(self) -> None:
        if not system.CONFIGFS_TARGET.is_dir():
            system.prepare_lio()

    def missing(self) -> str:
        if importlib.util.find_spec("rtslib_fb") is None:
            return "rtslib-fb is not installed (python3-rtslib-fb)"
        if not Path("/sys/kernel/config").is_dir():
            return "configfs is not mounted on /sys/kernel/config"
        if not system.CONFIGFS_TARGET.is_dir():
            probe = run(["/usr/sbin/modprobe", "--dry-run", "--quiet", "iscsi_target_mod"], check=False)
            if probe.returncode != 0:
                return "the LIO modules (iscsi_target_mod) are not installed"
        return ""
