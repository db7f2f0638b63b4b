"""Service commands for pools and volumes as the block-storage API sees them: LVs in the pools it may use, each
command one validated change. Listings read the saved state without waiting for the operation lock."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sanappliance.errors import INVALID, SanError
from sanappliance.model import values
from sanappliance.model.config import Config, VolumeKind, replace_item
from sanappliance.storage.plan import round_to_extent

from . import storage
from .commit import Outcome, change, commit
from .env import Env
from .space import ExportSpace, pool_in, pools_in, volume_in


@dataclass(frozen=True)
class PoolInfo:
    name: str
    size: int  # bytes; 0 while the volume group does not exist (yet)
    free: int


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    size: int
    uuid: str  # the unit serial (Volume.wwn)
    pool: str


def list_pools(env: Env, space: ExportSpace) -> list[PoolInfo]:
    config = env.store.load()
    usage = env.system.pool_usage(config)
    return [PoolInfo(p.name, *usage.get(p.name, (0, 0))) for p in pools_in(config, space)]


def list_volumes(env: Env, space: ExportSpace, pool: str) -> list[VolumeInfo]:
    config = env.store.load()
    pool_in(config, space, pool)
    return [VolumeInfo(v.name, v.size, v.wwn, v.pool) for v in config.volumes
            if v.kind is VolumeKind.LV and v.pool == pool]


def create_volume(env: Env, space: ExportSpace, pool: str, name: str, size: int) -> Outcome:
    volume = storage.new_volume(name, size, pool=pool, kind=VolumeKind.LV.value)

    def edit(config: Config) -> Config:
        pool_in(config, space, pool)
        return storage.add_volume(config, volume)

    return change(env, edit)


def destroy_volume(env: Env, space: ExportSpace, pool: str, name: str) -> Outcome:
    """Its data is lost. Refused while the volume is exported anywhere."""

    def edit(config: Config) -> Config:
        volume_in(config, space, pool, name)
        return storage.remove_volume(config, name)

    return change(env, edit)


def resize_volume(env: Env, space: ExportSpace, pool: str, name: str, size: int) -> Outcome:
    """Grow a volume: `size` must be larger than its size now (it is rounded up to LVM's extents)."""
    nbytes = values.parse_size(size, "size")

    def edit(config: Config) -> Config:
        volume = volume_in(config, space, pool, name)
        if nbytes <= volume.size:
            raise SanError(f"the new size must be larger than the volume's {volume.size} bytes (volumes grow)",
                           field="size", value=size, kind=INVALID)
        new = replace(volume, size=round_to_extent(nbytes))
        return replace(config, volumes=replace_item(config.volumes, volume, new))

    return change(env, edit)


def copy_volume(env: Env, space: ExportSpace, pool: str, source: str, name: str, size: int | None = None) -> Outcome:
    """A new volume `name` in `pool` holding a copy of `source` (same pool): as large as the source, or `size` if
    given (not smaller than the source). Both the new volume and the copy happen under the operation lock, so no other
    change can touch either volume meanwhile; if the copy fails, the new volume is removed again."""
    nbytes = None if size is None else values.parse_size(size, "size")
    with env.store.lock():
        before = env.store.load()
        original = volume_in(before, space, pool, source)
        if nbytes is not None and nbytes < original.size:
            raise SanError(f"the copy cannot be smaller than the source's {original.size} bytes", field="size",
                           value=size, kind=INVALID)
        volume = storage.new_volume(name, max(nbytes or 0, original.size), pool=pool, kind=VolumeKind.LV.value,
                                    attributes=original.attributes)
        outcome = commit(env, before, storage.add_volume(before, volume))
        step = f"copy the data of {pool}/{source} to {pool}/{name}"
        if outcome.dry_run:
            return replace(outcome, plan=outcome.plan + (step,))
        try:
            env.system.copy_volume(outcome.config, source, name)
        except SanError:
            commit(env, outcome.config, storage.remove_volume(outcome.config, name))
            raise
    return replace(outcome, plan=outcome.plan + (step,))
