"""LVM and backing files on the live system: read what exists, carry out storage plan actions (argv lists only)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from sanappliance.errors import SanError
from sanappliance.model.config import FILEIO_DIR
from sanappliance.storage import plan as S

from .runner import run, tool

LVM_TAG = "sanappliance"

def _lvm(*args: str, check: bool = True) -> str:
    return run([tool("lvm", "lvm2"), *args], check=check, timeout=300).stdout

def by_id_names(paths: Iterable[str]) -> dict[str, str]:
    """Kernel device path -> stable by-id path, for the given by-id paths that exist."""
    return {os.path.realpath(p): p for p in paths if os.path.exists(p)}

def read_state(known_disks: Iterable[str] = (), file_dir: str = FILEIO_DIR) -> S.LvmState:
    """VGs and LVs (only when pools are in play: `known_disks` not empty) and the fileio backing files."""
    known_disks = list(known_disks)
    files = tuple(sorted(str(p) for p in Path(file_dir).glob("*.img"))) if Path(file_dir).is_dir() else ()
    if not known_disks:
        return S.LvmState(files=files)
    aliases = by_id_names(known_disks)
    vgs: dict[str, list[str]] = {}
    for pv in json.loads(_lvm("pvs", "--reportformat", "json", "-o", "pv_name,vg_name"))["report"][0]["pv"]:
        if pv["vg_name"]:
            vgs.setdefault(pv["vg_name"], []).append(aliases.get(os.path.realpath(pv["pv_name"]), pv["pv_name"]))
    lvs, inactive = {}, []
    report = json.loads(_lvm("lvs", "--reportformat", "json", "--units", "b", "--nosuffix",
                             "-o", "vg_name,lv_name,lv_size,lv_active"))
    for lv in report["report"][0]["lv"]:
        lvs[(lv["vg_name"], lv["lv_name"])] = int(lv["lv_size"])
        if lv["lv_active"] != "active":
            inactive.append((lv["vg_name"], lv["lv_name"]))
    return S.LvmState({vg: tuple(sorted(d)) for vg, d in vgs.items()}, lvs, files, tuple(inactive))

def vg_sizes() -> dict[str, int]:
    report = json.loads(_lvm("vgs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "vg_name,vg_size"))
    return {vg["vg_name"]: int(vg["vg_size"]) for vg in report["report"][0]["vg"]}

def vg_usage() -> dict[str, tuple[int, int]]:
    """VG name -> (size, free bytes)."""
    report = json.loads(_lvm("vgs", "--reportformat", "json", "--units", "b", "--nosuffix",
                             "-o", "vg_name,vg_size,vg_free"))
    return {vg["vg_name"]: (int(vg["vg_size"]), int(vg["vg_free"])) for vg in report["report"][0]["vg"]}

def copy_lv(source: str, target: str) -> None:
    """Every byte of one LV device onto another (at least as large). Not sparse: a new thick LV may hold old data,
    so zero blocks of the source are written too."""
    try:
        run([tool("dd", "coreutils"), f"if={source}", f"of={target}", "bs=1M", "conv=fsync", "status=none"])
    except SanError as exc:
        raise SanError(f"could not copy {source} to {target}: {exc.message}", field="storage", value=target) from exc

def execute(actions: Iterable[S.Action]) -> None:
    for action in actions:
        try:
            _do(action)
        except SanError as exc:
            raise SanError(f"could not {action.describe()}: {exc.message}", field="storage",
                           value=type(action).__name__) from exc

def _do(a: S.Action) -> None:
    if isinstance(a, S.CreateVg):
        _lvm("pvcreate", "--yes", *a.disks)
        _lvm("vgcreate", "--yes", "--addtag", LVM_TAG, a.vg, *a.disks)
    elif isinstance(a, S.ExtendVg):
        _lvm("pvcreate", "--yes", a.disk)
        _lvm("vgextend", a.vg, a.disk)
    elif isinstance(a, S.RemoveVg):
        _lvm("vgremove", "--yes", "--force", a.vg)
        _lvm("pvremove", "--yes", *a.disks, check=False)
    elif isinstance(a, S.CreateLv):
        _lvm("lvcreate", "--yes", "--wipesignatures", "y", "-n", a.lv, "-L", f"{a.size}b", a.vg)
    elif isinstance(a, S.ActivateLv):
        _lvm("lvchange", "--activate", "y", f"{a.vg}/{a.lv}")
    elif isinstance(a, S.ResizeLv):
        _lvm("lvextend", "-L", f"{a.size}b", f"{a.vg}/{a.lv}")
    elif isinstance(a, S.RemoveLv):
        _lvm("lvremove", "--yes", f"{a.vg}/{a.lv}")
    elif isinstance(a, S.RemoveFile):
        Path(a.path).unlink(missing_ok=True)
    else:  # pragma: no cover
        raise SanError("unknown storage action", field="action", value=type(a).__name__)

def ensure_file_dir(path: str = FILEIO_DIR) -> None:
    Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
