"""The LVM volume groups, logical volumes and backing files the model asks for, and the actions that get there (pure).

Only volume groups named san-<pool> are ever touched. Logical volumes grow; they are never shrunk in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sanappliance.model.config import Config, VolumeKind

EXTENT = 4 * 1024**2  # LVM's default extent: LV sizes are rounded up to it
VG_PREFIX = "san-"


@dataclass(frozen=True)
class LvmState:
    vgs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # vg -> its disks (by-id paths where known)
    lvs: dict[tuple[str, str], int] = field(default_factory=dict)  # (vg, lv) -> bytes
    files: tuple[str, ...] = ()  # existing backing files of fileio volumes
    inactive: tuple[tuple[str, str], ...] = ()  # (vg, lv) present but not active (no /dev node)


@dataclass(frozen=True)
class Action:
    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class CreateVg(Action):
    vg: str
    disks: tuple[str, ...]

    def describe(self) -> str:
        return f"create volume group {self.vg} on {', '.join(self.disks)} (pvcreate, vgcreate)"


@dataclass(frozen=True)
class ExtendVg(Action):
    vg: str
    disk: str

    def describe(self) -> str:
        return f"add {self.disk} to volume group {self.vg}"


@dataclass(frozen=True)
class RemoveVg(Action):
    vg: str
    disks: tuple[str, ...]

    def describe(self) -> str:
        return f"remove volume group {self.vg} and release {', '.join(self.disks)}"


@dataclass(frozen=True)
class CreateLv(Action):
    vg: str
    lv: str
    size: int

    def describe(self) -> str:
        return f"create logical volume {self.vg}/{self.lv} of {self.size} bytes"


@dataclass(frozen=True)
class ActivateLv(Action):
    vg: str
    lv: str

    def describe(self) -> str:
        return f"activate logical volume {self.vg}/{self.lv}"


@dataclass(frozen=True)
class ResizeLv(Action):
    vg: str
    lv: str
    size: int

    def describe(self) -> str:
        return f"grow logical volume {self.vg}/{self.lv} to {self.size} bytes"


@dataclass(frozen=True)
class RemoveLv(Action):
    vg: str
    lv: str

    def describe(self) -> str:
        return f"remove logical volume {self.vg}/{self.lv} (its data is lost)"


@dataclass(frozen=True)
class RemoveFile(Action):
    path: str

    def describe(self) -> str:
        return f"remove backing file {self.path} (its data is lost)"


def round_to_extent(size: int) -> int:
    return -(-size // EXTENT) * EXTENT


def desired(config: Config) -> LvmState:
    vgs = {pool.vg: pool.disks for pool in config.pools}
    lvs = {(config.pool(v.pool).vg, v.name): round_to_extent(v.size) for v in config.volumes
           if v.kind is VolumeKind.LV}
    files = tuple(sorted(v.file_path for v in config.volumes if v.kind is VolumeKind.FILEIO))
    return LvmState(vgs, lvs, files)


def plan_removals(observed: LvmState, want: LvmState, previous: LvmState) -> list[Action]:
    """What goes away, run after LIO has let go of it. Only what the previous desired state had is removed: data the
    appliance never managed is never deleted."""
    out: list[Action] = []
    for key in sorted(observed.lvs):
        if key in previous.lvs and key not in want.lvs and key[0] in want.vgs:
            out.append(RemoveLv(*key))
    for vg, disks in sorted(observed.vgs.items()):
        if vg in previous.vgs and vg not in want.vgs:
            out.append(RemoveVg(vg, disks))
    out += [RemoveFile(f) for f in previous.files if f not in want.files and f in observed.files]
    return out


def plan_creations(observed: LvmState, want: LvmState) -> list[Action]:
    """What must exist before LIO can use it."""
    out: list[Action] = []
    for vg, disks in sorted(want.vgs.items()):
        have = observed.vgs.get(vg)
        if have is None:
            out.append(CreateVg(vg, disks))
        else:
            out += [ExtendVg(vg, d) for d in disks if d not in have]
    for (vg, lv), size in sorted(want.lvs.items()):
        current = observed.lvs.get((vg, lv))
        if current is None:
            out.append(CreateLv(vg, lv, size))
        else:
            if (vg, lv) in observed.inactive:
                out.append(ActivateLv(vg, lv))
            if current < size:
                out.append(ResizeLv(vg, lv, size))
    return out
