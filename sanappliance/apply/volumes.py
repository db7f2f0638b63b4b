"""The node as the pool volumes agent (agent/volumes.py) sees it: the VG's LVs read and changed through
/usr/sbin/lvm, and the agent's state file (/run/sanappliance/volumes-VG.state: started here, as
ocf:heartbeat:Dummy keeps it)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sanappliance.agent.volumes import LVM, Lv, parse_lvs

from .runner import Result, run

STATE_DIR = Path("/run/sanappliance")
LVS_FIELDS = "lv_name,lv_size,lv_attr,lv_tags"


@dataclass
class LiveVolumes:
    state_dir: Path = STATE_DIR
    runner: Callable[..., Result] = run

    def state_file(self, vg: str) -> Path:
        return self.state_dir / f"volumes-{vg}.state"

    def read_lvs(self, vg: str) -> tuple[Lv, ...] | None:
        report = self.runner([LVM, "vgs", "--reportformat", "json", "-o", "vg_name"], timeout=60).stdout
        if vg not in {row["vg_name"] for row in json.loads(report)["report"][0]["vg"]}:
            return None
        return parse_lvs(self.runner([LVM, "lvs", "--reportformat", "json", "--units", "b", "--nosuffix",
                                      "-o", LVS_FIELDS, vg], timeout=60).stdout)

    def run_lvm(self, argv: Sequence[str]) -> None:
        self.runner(list(argv), timeout=120)

    def started(self, vg: str) -> bool:
        return self.state_file(vg).exists()

    def set_started(self, vg: str, started: bool) -> None:
        path = self.state_file(vg)
        if not started:
            path.unlink(missing_ok=True)
            return
        self.state_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        path.write_text(f"{os.getpid()}\n")

    def missing(self) -> str:
        return "" if os.access(LVM, os.X_OK) else f"{LVM} is not installed (lvm2)"
