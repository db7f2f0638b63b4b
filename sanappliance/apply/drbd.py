"""A replicated pool's side effects on this node: the DRBD and LVM files, DRBD's meta data and roles, the VG on the
DRBD device (the pure parts are sanappliance.drbd: render, commands, status, lvm).

Creating a pool, in order (docs/REPLICATION.md): both nodes `write_files`, `modprobe`, `create_md`, `up`; one
node `primary(force=True)` (the initial full sync starts from it), `create_vg` (with its keeper LV `san.keep`:
LVM-activate's monitor fails on a VG without an LV), `deactivate_vg`, `secondary`; then one CIB push
(drbd.cib.merge_pools through apply.cluster.ClusterHost.push_cib) hands the pool to Pacemaker.
Each step looks first and does only what is missing: create-md skips a disk that holds DRBD meta data already,
up becomes adjust on a resource that is up, primary/secondary/down skip a resource in that state already, the VG
is made only where it is not, its keeper LV only when missing; disconnect skips a StandAlone resource, connect
(split-brain recovery, service/split_brain.py) runs only on one.

The decisions are pure functions (unit-tested); `DrbdHost` runs them, driven by service.replicated and
service.split_brain (`dry_run`: the commands and files are collected in `planned` instead).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sanappliance.agent.volumes import KEEPER_LV, KEEPER_TAG
from sanappliance.drbd import commands, lvm, render, status
from sanappliance.errors import CONFLICT, INVALID, SanError
from sanappliance.model.config import Config, Pool

from .files import write_atomic
from .runner import Result, run

LVM = "/usr/sbin/lvm"
LVM_TAG = "sanappliance"
NO_META_DATA = "No valid meta data found"  # drbdmeta's words for a disk without DRBD meta data
# drbdadm-84's warning on every call (warn_on_version_mismatch): module 8.4.11, drbd-utils 9.22
VERSION_WARNING = ("DRBD module version:", "   userland version:", "mixing different major numbers")
FILE_MODE = 0o644  # no secrets in the .res files or lvm.conf


# --- pure decisions ------------------------------------------------------------------------------------------------

def wanted_files(config: Config) -> dict[str, str]:
    """Every file this node should hold for the replicated pools, by absolute path."""
    files = render.render_files(config.pools)
    files[lvm.LVM_CONF] = lvm.render_lvm_conf(config)
    return files


def changed_files(current: dict[str, str | None], wanted: dict[str, str]) -> list[str]:
    """The paths whose content differs from the wanted one (None: the file is missing)."""
    return sorted(path for path, text in wanted.items() if current.get(path) != text)


def resource_of_file(path: str) -> str:
    """/etc/drbd.d/san-p1.res -> san-p1."""
    return Path(path).name.removesuffix(".res")


def dstate_argv(res: str) -> list[str]:
    """This node's disk state: drbdsetup's when the disk is attached, else drbdmeta's reading of the meta data,
    which says "No valid meta data found" when there is none (get-gi then exits 255 without a word; dump-md would
    print the whole bitmap)."""
    return [commands.DRBDADM, "dstate", res]


def has_meta_data(result: Result) -> bool:
    """From `drbdadm dstate RES`: True when the disk holds DRBD meta data, False when drbdmeta says it has none;
    any other failure (no such disk, a parse error of the file, unclean meta data) is an error, never "create it".
    drbdadm-84 prints a version warning on stderr every time (module 8.4, drbd-utils 9): it is ignored."""
    if result.returncode == 0 and result.stdout.strip():
        return True
    if NO_META_DATA in result.stderr or NO_META_DATA in result.stdout:
        return False
    detail = "\n".join(line for line in (result.stderr or result.stdout).strip().splitlines()
                       if not line.startswith(VERSION_WARNING))
    raise SanError(f"cannot read the DRBD meta data: {detail.strip() or f'exit code {result.returncode}'}",
                   field="replication", value=" ".join(result.argv))


def needs_create_md(device: status.Device, meta_data: Callable[[], bool]) -> bool:
    """create-md only on a disk that is not attached and holds no meta data (`meta_data` is asked only then)."""
    if device.configured and device.disk not in ("Diskless", "DUnknown"):
        return False
    return not meta_data()


def up_argv(res: str, device: status.Device) -> list[str]:
    """`up` for a resource that is down, `adjust` (idempotent: only what differs from the file) when it is up."""
    return commands.adjust_argv(res) if device.configured else commands.up_argv(res)


def primary_argv(res: str, device: status.Device, *, force: bool) -> list[str] | None:
    """None when the node is Primary already. `force` (the initial sync of a new pool) is refused when the peer
    holds data this node lacks: forcing would overwrite it."""
    if not device.configured:
        raise SanError("the DRBD resource is down: bring it up first", field="replication", value=res)
    if device.role == "Primary":
        return None
    if device.disk == "UpToDate":
        return [commands.DRBDADM, "primary", res]
    if not force:
        raise SanError(f"this node's disk is {device.disk}: it cannot become Primary without --force",
                       field="replication", value=res, kind=CONFLICT)
    if device.peer_disk in ("UpToDate", "Consistent", "Outdated"):
        raise SanError(f"the peer's disk is {device.peer_disk} and this one {device.disk}: forcing this node "
                       "Primary would overwrite the peer's data", field="replication", value=res, kind=CONFLICT)
    return commands.primary_force_argv(res)


def secondary_argv(res: str, device: status.Device) -> list[str] | None:
    return commands.secondary_argv(res) if device.configured and device.role == "Primary" else None


def down_argv(res: str, device: status.Device) -> list[str] | None:
    return commands.down_argv(res) if device.configured else None


def _require_up(res: str, device: status.Device) -> None:
    if not device.configured:
        raise SanError("the DRBD resource is down: bring it up first", field="replication", value=res)


def disconnect_argv(res: str, device: status.Device) -> list[str] | None:
    """None when StandAlone already (DRBD is after a split brain it could not resolve)."""
    _require_up(res, device)
    return None if device.standalone else commands.disconnect_argv(res)


def connect_argv(res: str, device: status.Device, *, discard_my_data: bool = False) -> list[str] | None:
    """None unless StandAlone (connecting or connected already). `discard_my_data` (the split-brain victim: its
    changes since the split are thrown away, it resyncs from the peer) is refused on a Primary: demote it first."""
    _require_up(res, device)
    if not device.standalone:
        return None
    if discard_my_data and device.role == "Primary":
        raise SanError("a Primary cannot discard its data: make it Secondary first", field="replication", value=res,
                       kind=CONFLICT)
    return commands.connect_argv(res, discard_my_data=discard_my_data)


def parse_system_id(text: str) -> str:
    """`lvm systemid` prints '  system ID: node1' (or an empty value when no system_id_source is set)."""
    for line in text.splitlines():
        if line.strip().lower().startswith("system id:"):
            return line.split(":", 1)[1].strip()
    return ""


@dataclass(frozen=True)
class VgPlan:
    pvcreate: bool
    vgcreate: bool
    keeper: bool = False  # the keeper LV was made (keeper_argv)


def vg_plan(pvs_report: str, device: str, vg: str) -> VgPlan:
    """From `lvm pvs --reportformat json -o pv_name,vg_name`: what is missing of the VG on the DRBD device."""
    for pv in json.loads(pvs_report)["report"][0]["pv"]:
        if pv["pv_name"] != device:
            continue
        if pv["vg_name"] == vg:
            return VgPlan(False, False)
        if pv["vg_name"]:
            raise SanError(f"{device} is a PV of volume group {pv['vg_name']}", field="replication", value=device,
                           kind=CONFLICT)
        return VgPlan(False, True)
    return VgPlan(True, True)


def vgcreate_argv(vg: str, device: str, system_id: str) -> list[str]:
    """Not auto-activated (udev must never activate it; LVM-activate does on the Promoted node), owned by this
    node's system ID (LVM-activate vg_access_mode=system_id hands it over on failover)."""
    return [LVM, "vgcreate", "--yes", "--addtag", LVM_TAG, "--setautoactivation", "n", "--systemid", system_id,
            vg, device]


def lvs_names_argv(vg: str) -> list[str]:
    return [LVM, "lvs", "--reportformat", "json", "-o", "lv_name", vg]


def needs_keeper(lvs_report: str | None) -> bool:
    """From `lvs_names_argv`'s report (None: the VG is made only now): whether the keeper LV is still missing.
    LVM-activate's monitor fails on a VG without any LV, so a pool's VG is never without one, even before its
    first volume; no user volume can be named like it (their names have no '.'), so the volumes agent never
    touches it."""
    if lvs_report is None:
        return True
    return KEEPER_LV not in {lv["lv_name"] for lv in json.loads(lvs_report)["report"][0]["lv"]}


def keeper_argv(vg: str) -> list[str]:
    """One extent, tagged apart from the appliance's volumes (the volumes agent removes only LVs tagged
    `sanappliance`)."""
    return [LVM, "lvcreate", "--yes", "--wipesignatures", "y", "-n", KEEPER_LV, "-l", "1", "--addtag", KEEPER_TAG,
            vg]


# --- side effects ----------------------------------------------------------------------------------------------------

@dataclass
class DrbdHost:
    """This node's DRBD resources and the VGs on them. `root` prefixes every file path (tests); with `dry_run`
    nothing is changed: the commands and files that would be are collected in `planned`."""

    root: Path = Path("/")
    dry_run: bool = False
    runner: Callable[..., Result] = run
    planned: list[str] = field(default_factory=list)

    def _path(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def _change(self, argv: list[str], timeout: float = 120.0) -> None:
        if self.dry_run:
            self.planned.append(" ".join(argv))
        else:
            self.runner(argv, timeout=timeout)

    # files

    def existing_res_files(self) -> list[str]:
        folder = self._path(render.DRBD_D)
        return sorted(f"{render.DRBD_D}/{p.name}" for p in folder.glob("san-*.res")) if folder.is_dir() else []

    def write_files(self, config: Config) -> list[str]:
        """The .res files, global_common.conf and lvm.conf as the config renders them (only those that differ);
        resources no pool renders any more are taken down, then their files removed. Returns what changed."""
        wanted = wanted_files(config)
        current: dict[str, str | None] = {}
        for path in wanted:
            try:
                current[path] = self._path(path).read_text()
            except FileNotFoundError:
                current[path] = None
        changed = changed_files(current, wanted)
        for path in changed:
            if self.dry_run:
                self.planned.append(f"write {path}")
            else:
                write_atomic(self._path(path), wanted[path], mode=FILE_MODE)
        gone = render.obsolete_files(self.existing_res_files(), config.pools)
        if gone and not self.dry_run:
            proc = self.proc_drbd()
        for path in gone:
            res = resource_of_file(path)
            if self.dry_run:
                self.planned += [" ".join(commands.down_argv(res)), f"remove {path}"]
                continue
            minor = _minor_in_file(self._path(path).read_text())
            if minor is not None and (argv := down_argv(res, proc.device(minor))):
                self.runner(argv, timeout=120)
            self._path(path).unlink(missing_ok=True)
        return changed + [f"removed {p}" for p in gone]

    # state

    def proc_text(self) -> str:
        """/proc/drbd as DRBD prints it."""
        try:
            return self._path(commands.PROC_DRBD).read_text()
        except FileNotFoundError:
            raise SanError("the DRBD module is not loaded (no /proc/drbd)", field="replication") from None

    def proc_drbd(self) -> status.ProcDrbd:
        return status.parse_proc_drbd(self.proc_text(), str(self._path(commands.PROC_DRBD)))

    def device(self, pool: Pool) -> status.Device:
        return self.proc_drbd().device(_rep(pool).minor)

    def get_gi(self, pool: Pool) -> str:
        """`drbdadm get-gi` as it prints it (status.parse_gi reads it)."""
        return self.runner(commands.get_gi_argv(render.resource_name(pool)), timeout=60).stdout

    def generations(self, pool: Pool) -> status.Generations:
        return status.parse_gi(self.get_gi(pool))

    # DRBD

    def modprobe(self) -> None:
        if not self._path(commands.PROC_DRBD).exists():
            self._change(commands.modprobe_argv())

    def create_md(self, pool: Pool) -> bool:
        """Write the meta data unless the disk holds some (or is attached); True when it was written."""
        res = render.resource_name(pool)
        device = self.device(pool) if self._path(commands.PROC_DRBD).exists() else status.Device(0, "Unconfigured")

        def meta_data() -> bool:
            return has_meta_data(self.runner(dstate_argv(res), check=False, timeout=60))

        if not needs_create_md(device, meta_data):
            return False
        self._change(commands.create_md_argv(res), timeout=300)
        return True

    def up(self, pool: Pool) -> str:
        """`up`, or `adjust` when the resource is up already; returns which."""
        argv = up_argv(render.resource_name(pool), self.device(pool))
        self._change(argv)
        return argv[-2]

    def primary(self, pool: Pool, *, force: bool = False) -> bool:
        argv = primary_argv(render.resource_name(pool), self.device(pool), force=force)
        if argv is not None:
            self._change(argv)
        return argv is not None

    def secondary(self, pool: Pool) -> bool:
        argv = secondary_argv(render.resource_name(pool), self.device(pool))
        if argv is not None:
            self._change(argv)
        return argv is not None

    def down(self, pool: Pool) -> bool:
        argv = down_argv(render.resource_name(pool), self.device(pool))
        if argv is not None:
            self._change(argv)
        return argv is not None

    def disconnect(self, pool: Pool) -> bool:
        argv = disconnect_argv(render.resource_name(pool), self.device(pool))
        if argv is not None:
            self._change(argv)
        return argv is not None

    def connect(self, pool: Pool, *, discard_my_data: bool = False) -> bool:
        """Reconnect a StandAlone resource (split-brain recovery: the victim with discard_my_data, after
        `disconnect` and `secondary`; then the survivor without)."""
        argv = connect_argv(render.resource_name(pool), self.device(pool), discard_my_data=discard_my_data)
        if argv is not None:
            self._change(argv)
        return argv is not None

    # LVM on the DRBD device

    def system_id(self) -> str:
        found = parse_system_id(self.runner([LVM, "systemid"], timeout=60).stdout)
        if not found:
            raise SanError("LVM has no system ID on this node: /etc/lvm/lvm.conf lacks system_id_source (write the "
                           "files first)", field="lvm", value=lvm.LVM_CONF)
        return found

    def create_vg(self, pool: Pool) -> VgPlan:
        """pvcreate + vgcreate on /dev/drbdN and the keeper LV in it, as far as they are missing (on the Primary:
        a Secondary's device cannot be opened)."""
        rep = _rep(pool)
        device = self.device(pool)
        if device.role != "Primary":
            raise SanError(f"the VG is made on the Primary; this node is {device.role}", field="replication",
                           value=pool.name, kind=CONFLICT)
        report = self.runner([LVM, "pvs", "--reportformat", "json", "-o", "pv_name,vg_name"], timeout=120).stdout
        plan = vg_plan(report, rep.device, pool.vg)
        if plan.pvcreate:
            self._change([LVM, "pvcreate", "--yes", rep.device])
        if plan.vgcreate:
            self._change(vgcreate_argv(pool.vg, rep.device, self.system_id()))
        if self.dry_run and plan.vgcreate:
            report = None  # the VG is not there to ask
        else:
            report = self.runner(lvs_names_argv(pool.vg), timeout=120).stdout
        if needs_keeper(report):
            self._change(keeper_argv(pool.vg))
            plan = replace(plan, keeper=True)
        return plan

    def deactivate_vg(self, pool: Pool) -> None:
        """Every LV of the VG inactive here: Pacemaker's LVM-activate activates it where the pool is Promoted."""
        self._change([LVM, "vgchange", "--activate", "n", pool.vg])


def _rep(pool: Pool):  # noqa: ANN202 - model.config.Replication
    if pool.replication is None:
        raise SanError("the pool is not replicated", field=f"pools[{pool.name}].replication", kind=INVALID)
    return pool.replication


def _minor_in_file(text: str) -> int | None:
    """The minor of a .res file the appliance wrote (its `device /dev/drbdN;` lines)."""
    for line in text.splitlines():
        words = line.strip().rstrip(";").split()
        if len(words) == 2 and words[0] == "device" and words[1].startswith("/dev/drbd") and words[1][9:].isdigit():
            return int(words[1][9:])
    return None
