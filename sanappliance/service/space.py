"""Where the block-storage API (targetd's model) lives in the appliance's model: the pools it may use and the one
target (TPG 1) that carries every export and access group. Look-ups and edits shared by its service commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from sanappliance.errors import EXHAUSTED, NOT_FOUND, SanError
from sanappliance.model import values
from sanappliance.model.apiconfig import ApiConfig
from sanappliance.model.config import (
    Acl,
    Config,
    InitiatorGroup,
    Lun,
    MappedLun,
    Pool,
    Portal,
    Target,
    Tpg,
    Volume,
    VolumeKind,
    replace_item,
)
from sanappliance.model.validate import MAX_LUN


@dataclass(frozen=True)
class ExportSpace:
    target: str  # the IQN every export lives on (created with TPG `tag` on the first export)
    portals: tuple[Portal, ...] = (Portal(),)
    pools: tuple[str, ...] | None = None  # the pools the API may use; None: every pool
    tag: int = 1


def space_of(api: ApiConfig, hostname: str) -> ExportSpace:
    return ExportSpace(values.check_iqn(api.target(hostname), "target_name"),
                       tuple(Portal(values.check_address(a, "portal_addresses")) for a in api.portal_addresses),
                       api.block_pools)


def pools_in(config: Config, space: ExportSpace) -> list[Pool]:
    return [p for p in config.pools if space.pools is None or p.name in space.pools]


def pool_in(config: Config, space: ExportSpace, name: str) -> Pool:
    if space.pools is not None and name not in space.pools:
        raise SanError("no such pool (or not one the API may use)", field="pool", value=name, kind=NOT_FOUND)
    return config.pool(name)


def volume_in(config: Config, space: ExportSpace, pool: str, name: str) -> Volume:
    """A volume of `pool` (an LV)."""
    pool_in(config, space, pool)
    volume = config.volume(name)
    if volume.kind is not VolumeKind.LV or volume.pool != pool:
        raise SanError(f"no such volume in pool {pool}", field="volume", value=name, kind=NOT_FOUND)
    return volume


def visible(config: Config, space: ExportSpace, name: str | None) -> Volume | None:
    """The volume if the API sees it (an LV in one of its pools), else None."""
    try:
        volume = config.volume(name or "")
    except SanError:
        return None
    if volume.kind is not VolumeKind.LV or (space.pools is not None and volume.pool not in space.pools):
        return None
    return volume


def api_tpg(config: Config, space: ExportSpace) -> Tpg | None:
    for target in config.targets:
        if target.iqn == space.target:
            for tpg in target.tpgs:
                if tpg.tag == space.tag:
                    return tpg
    return None


def mapped_volumes(config: Config, space: ExportSpace, holders: str) -> Iterator[tuple[Acl | InitiatorGroup,
                                                                                     MappedLun, Volume]]:
    """(holder, mapping, volume) for every LUN mapping of the API TPG's `holders` ("acls" or "groups") whose volume
    the API sees."""
    tpg = api_tpg(config, space)
    if tpg is None:
        return
    luns = {x.lun: x.volume for x in tpg.luns}
    for holder in getattr(tpg, holders):
        for m in holder.mapped_luns:
            volume = visible(config, space, luns.get(m.tpg_lun))
            if volume is not None:
                yield holder, m, volume


def edit_api_tpg(config: Config, space: ExportSpace, fn: Callable[[Tpg], Tpg], *, create: bool = True) -> Config:
    """The config with fn applied to the API's TPG. With `create`, a missing target or TPG is made first (portals
    from the space); without it, a missing one leaves the config as it is."""
    target = next((t for t in config.targets if t.iqn == space.target), None)
    if target is None:
        if not create:
            return config
        target = Target(space.target, ())
        config = replace(config, targets=config.targets + (target,))
    tpg = next((g for g in target.tpgs if g.tag == space.tag), None)
    if tpg is None:
        if not create:
            return config
        tpg = Tpg(space.tag, portals=space.portals)
        new_target = replace(target, tpgs=target.tpgs + (tpg,))
        config = replace(config, targets=replace_item(config.targets, target, new_target))
        target = new_target
    new_target = replace(target, tpgs=replace_item(target.tpgs, tpg, fn(tpg)))
    return replace(config, targets=replace_item(config.targets, target, new_target))


def lun_of(tpg: Tpg, volume: str) -> int | None:
    return next((x.lun for x in tpg.luns if x.volume == volume), None)


def ensure_lun(tpg: Tpg, volume: str) -> tuple[Tpg, int]:
    """The TPG with a LUN for the volume (the one it has, or the lowest free number) and that LUN's number."""
    number = lun_of(tpg, volume)
    if number is not None:
        return tpg, number
    used = {x.lun for x in tpg.luns}
    number = next((n for n in range(MAX_LUN + 1) if n not in used), None)
    if number is None:
        raise SanError("the target has no free LUN number left", field="lun", kind=EXHAUSTED)
    return replace(tpg, luns=tpg.luns + (Lun(number, volume),)), number


def drop_unmapped_lun(tpg: Tpg, number: int | None) -> Tpg:
    """The TPG without LUN `number` if no ACL or group maps it any more (a LUN the API made for an export)."""
    if number is None:
        return tpg
    holders = (*tpg.acls, *tpg.groups)
    if any(m.tpg_lun == number for h in holders for m in h.mapped_luns):
        return tpg
    return replace(tpg, luns=tuple(x for x in tpg.luns if x.lun != number))


def member_of(tpg: Tpg, initiator: str) -> str | None:
    """The name of the initiator group the initiator belongs to, if any."""
    return next((g.name for g in tpg.groups if initiator in g.initiators), None)
