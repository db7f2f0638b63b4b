"""A shared-disk pool's VG on this node: made shared (lvmlockd, lock type dlm) on the pool's multipath maps, with
its keeper LV, and removed again once Pacemaker has stopped the pool everywhere (docs/SHARED.md).

Create, on the node that runs `sanctl /pools create_shared` (lvmlockd must run here: the lock managers' clones are
pushed first): `vgcreate --shared` where the VG is missing, `vgchange --lockstart`, the keeper LV `san.keep`
(LVM-activate's monitor needs an LV), every LV inactive, `vgchange --lockstop`: from then on the VG lock is
started only where LVM-activate starts the pool.

Remove, after the pool's group is stopped on every node: with lvmlockd running here the VG lock is started here
and the VG removed under it; without (the lock managers already gone) it is made local first (`vgchange
--locktype none --lockopt force`, the documented way without lvmlockd), then removed; the maps' PV labels are
wiped. Every step looks first, so both are finished
by running them again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sanappliance.agent.volumes import KEEPER_LV, KEEPER_TAG
from sanappliance.errors import CONFLICT, SanError
from sanappliance.model.config import Pool

from .runner import Result, run

LVM = "/usr/sbin/lvm"


def devices(pool: Pool) -> list[str]:
    if pool.shared is None:
        raise SanError("not a shared pool", field="name", value=pool.name)
    return [d.device for d in pool.shared.disks]


def lock_type(vgs_report: str, vg: str) -> str | None:
    """The VG's lock type in `vgs -o vg_name,vg_lock_type` JSON ("" for a local VG), None when it is not there."""
    for row in json.loads(vgs_report)["report"][0]["vg"]:
        if row["vg_name"] == vg:
            return str(row.get("vg_lock_type", ""))
    return None


def vgcreate_argv(pool: Pool) -> list[str]:
    """Never auto-activated (udev must not activate it anywhere; LVM-activate does where the pool runs)."""
    return [LVM, "vgcreate", "--shared", "--yes", "--addtag", "sanappliance", "--setautoactivation", "n", pool.vg,
            *devices(pool)]


def keeper_argv(vg: str) -> list[str]:
    """One extent, tagged apart from the appliance's volumes (the volumes agent removes only LVs tagged
    `sanappliance`); made active exclusively (a shared VG's default), deactivated right after."""
    return [LVM, "lvcreate", "--yes", "--wipesignatures", "y", "-n", KEEPER_LV, "-l", "1", "--addtag", KEEPER_TAG,
            vg]


@dataclass
class SharedVgHost:
    dry_run: bool = False
    runner: Callable[..., Result] = run
    planned: list[str] = field(default_factory=list)

    def _change(self, argv: list[str], timeout: float = 300.0, check: bool = True) -> None:
        if self.dry_run:
            self.planned.append(" ".join(argv))
        else:
            self.runner(argv, timeout=timeout, check=check)

    def lock_type(self, pool: Pool) -> str | None:
        """The VG's lock type from LVM's report, read whatever vgs exits with (it exits non-zero when it could not
        read some VG, perhaps another one, and still reports the others). No report at all is an error, never an
        absent VG: create would make it again, remove would skip it and call the pool removed."""
        report = self.runner([LVM, "vgs", "--reportformat", "json", "-o", "vg_name,vg_lock_type"], timeout=120,
                             check=False)
        try:
            return lock_type(report.stdout, pool.vg)
        except (ValueError, LookupError, TypeError, AttributeError):
            detail = report.stderr.strip() or f"exit code {report.returncode}"
            raise SanError(f"cannot read LVM's volume groups ({detail})", field="name", value=pool.name) from None

    def create(self, pool: Pool) -> list[str]:
        done = []
        found = self.lock_type(pool)
        if found is None:
            self._change(vgcreate_argv(pool))
            done.append(f"shared VG {pool.vg} made on {', '.join(devices(pool))}")
        elif found != "dlm":
            raise SanError(f"VG {pool.vg} exists already and is not a shared (dlm) VG (lock type "
                           f"{found or 'none'}): remove it first", field="name", value=pool.name, kind=CONFLICT)
        self._change([LVM, "vgchange", "--lockstart", pool.vg])
        lvs = "" if self.dry_run and found is None else self.runner(
            [LVM, "lvs", "--reportformat", "json", "-o", "lv_name", pool.vg], timeout=120).stdout
        if not lvs or KEEPER_LV not in {lv["lv_name"] for lv in json.loads(lvs)["report"][0]["lv"]}:
            self._change(keeper_argv(pool.vg))
            done.append(f"keeper LV {KEEPER_LV}")
        self._change([LVM, "vgchange", "--activate", "n", pool.vg])
        self._change([LVM, "vgchange", "--lockstop", pool.vg])
        return done + ["every LV inactive, VG lock stopped here (Pacemaker starts it where the pool runs)"]

    def lvmlockd_running(self) -> bool:
        return self.runner(["/usr/bin/pgrep", "-x", "lvmlockd"], timeout=30, check=False).returncode == 0

    def remove(self, pool: Pool) -> list[str]:
        """The VG gone (the pool's group stopped everywhere first): under its lock where lvmlockd runs here (the VG
        lock started here, stopped on the other nodes by LVM-activate's stop), else made local first."""
        found = self.lock_type(pool)
        done = []
        if found is not None:
            if found and self.lvmlockd_running():
                self._change([LVM, "vgchange", "--lockstart", pool.vg])
            elif found:
                self._change([LVM, "vgchange", "--locktype", "none", "--lockopt", "force", pool.vg])
            self._change([LVM, "vgremove", "--yes", "--force", pool.vg])
            done.append(f"VG {pool.vg} removed")
        for device in devices(pool):
            self._change([LVM, "pvremove", "--yes", device], check=False)  # a label vgremove left, if any
        return done
