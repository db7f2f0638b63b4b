"""Service commands for disks, pools and volumes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from sanappliance.errors import CONFLICT, IN_USE, INVALID, SanError
from sanappliance.model import settings, values
from sanappliance.model.config import Config, Pool, Volume, VolumeKind, replace_item
from sanappliance.storage.plan import round_to_extent

from .commit import Outcome, change
from .env import Env


def list_disks(env: Env) -> list[Any]:
    return env.system.disks(env.store.load())


def create_pool(env: Env, name: str, disks: list[str]) -> Outcome:
    values.check_name(name, "name")
    if not disks:
        raise SanError("give at least one disk", field="disks", kind=INVALID)

    def edit(config: Config) -> Config:
        if any(p.name == name for p in config.pools):
            raise SanError("a pool with this name exists already", field="name", value=name, kind=CONFLICT)
        return replace(config, pools=config.pools + (Pool(name, tuple(disks)),))

    return change(env, edit)


def delete_pool(env: Env, name: str) -> Outcome:
    def edit(config: Config) -> Config:
        pool = config.pool(name)
        users = [v.name for v in config.volumes if v.pool == name]
        if users:
            raise SanError(f"the pool still holds volumes: {', '.join(users)}", field="name", value=name,
                           kind=IN_USE)
        return replace(config, pools=replace_item(config.pools, pool, None))

    return change(env, edit)


def new_volume(name: str, size: str | int, *, pool: str = "", kind: str = "", path: str = "",
               attributes: dict[str, Any] | None = None) -> Volume:
    """A volume checked on its own, with a fresh unit serial; the size rounded up to LVM's 4 MiB extents for LVs and
    to 512 bytes otherwise."""
    values.check_name(name, "name")
    nbytes = values.parse_size(size, "size")
    try:
        volume_kind = VolumeKind(kind) if kind else (VolumeKind.LV if pool else VolumeKind.FILEIO)
    except ValueError:
        raise SanError("kind is lv, fileio or ramdisk", field="kind", value=kind, kind=INVALID) from None
    nbytes = round_to_extent(nbytes) if volume_kind is VolumeKind.LV else -(-nbytes // 512) * 512
    parsed = settings.parse_settings(settings.DEVICE_ATTRIBUTES, attributes or {}, "attributes")
    return Volume(name, volume_kind, nbytes, pool=pool, path=path, wwn=str(uuid.uuid4()), attributes=parsed)


def add_volume(config: Config, volume: Volume) -> Config:
    if any(v.name == volume.name for v in config.volumes):
        raise SanError("a volume with this name exists already", field="name", value=volume.name, kind=CONFLICT)
    return replace(config, volumes=config.volumes + (volume,))


def create_volume(env: Env, name: str, size: str | int, *, pool: str = "", kind: str = "",
                  path: str = "", attributes: dict[str, Any] | None = None) -> Outcome:
    """An LV in `pool`, or (kind fileio / ramdisk) a file or memory volume. The size is rounded up to LVM's 4 MiB
    extents for LVs and to 512 bytes otherwise."""
    volume = new_volume(name, size, pool=pool, kind=kind, path=path, attributes=attributes)
    return change(env, lambda config: add_volume(config, volume))


def resize_volume(env: Env, name: str, size: str | int) -> Outcome:
    nbytes = values.parse_size(size, "size")

    def edit(config: Config) -> Config:
        volume = config.volume(name)
        if volume.kind is not VolumeKind.LV:
            raise SanError("only volumes in a pool can be resized", field="name", value=name, kind=INVALID)
        new_size = round_to_extent(nbytes)
        if new_size < volume.size:
            raise SanError(f"volumes grow, they do not shrink (now {values.format_size(volume.size)})", field="size",
                           value=size, kind=INVALID)
        return replace(config, volumes=replace_item(config.volumes, volume, replace(volume, size=new_size)))

    return change(env, edit)


def remove_volume(config: Config, name: str) -> Config:
    volume = config.volume(name)
    exports = config.exports_of(name)
    if exports:
        where = ", ".join(f"{t} tpg{g} lun{n}" for t, g, n in exports)
        raise SanError(f"the volume is still exported ({where}); delete those LUNs first", field="name",
                       value=name, kind=IN_USE)
    return replace(config, volumes=replace_item(config.volumes, volume, None))


def delete_volume(env: Env, name: str) -> Outcome:
    return change(env, lambda config: remove_volume(config, name))


def set_volume_attribute(env: Env, name: str, attribute: str, value: Any) -> Outcome:
    parsed = settings.parse_settings(settings.DEVICE_ATTRIBUTES, {attribute: value}, "attributes")

    def edit(config: Config) -> Config:
        volume = config.volume(name)
        new = replace(volume, attributes={**volume.attributes, **parsed})
        return replace(config, volumes=replace_item(config.volumes, volume, new))

    return change(env, edit)
