"""Service commands for access groups as the block-storage API sees them: initiator groups on the API's TPG whose
members share one LUN mapping. Removing what is not there is not an error (targetd's contract)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sanappliance.errors import CONFLICT, EXHAUSTED, NOT_FOUND, UNSUPPORTED, SanError
from sanappliance.model import values
from sanappliance.model.config import Config, InitiatorGroup, MappedLun, Tpg, replace_item

from .commit import Outcome, change
from .env import Env
from .exports import INIT_TYPE, chap_of, check_lun
from .space import (
    ExportSpace,
    api_tpg,
    drop_unmapped_lun,
    edit_api_tpg,
    ensure_lun,
    lun_of,
    mapped_volumes,
    visible,
    volume_in,
)

MAX_HOST_LUN = 255  # targetd's range for h_lun_id


@dataclass(frozen=True)
class GroupInfo:
    name: str
    initiators: tuple[str, ...]


@dataclass(frozen=True)
class GroupMapping:
    group: str
    lun: int  # the number the group's initiators see
    pool: str
    volume: str


def _check_type(init_type: str) -> None:
    if init_type != INIT_TYPE:
        raise SanError(f"only {INIT_TYPE} initiators are supported", field="init_type", value=init_type,
                       kind=UNSUPPORTED)


def _group(tpg: Tpg, name: str) -> InitiatorGroup | None:
    return next((g for g in tpg.groups if g.name == name), None)


def _check_free(tpg: Tpg, wwn: str, group: str) -> None:
    """The initiator may join `group`: it has no ACL of its own and is in no other group."""
    if any(a.initiator == wwn for a in tpg.acls):
        raise SanError("the initiator has exports or CHAP of its own (an ACL) already", field="initiator", value=wwn,
                       kind=CONFLICT)
    other = next((g.name for g in tpg.groups if wwn in g.initiators and g.name != group), None)
    if other is not None:
        raise SanError(f"the initiator belongs to access group {other} already", field="initiator", value=wwn,
                       kind=CONFLICT)


def list_groups(env: Env, space: ExportSpace) -> list[GroupInfo]:
    tpg = api_tpg(env.store.load(), space)
    return [] if tpg is None else [GroupInfo(g.name, g.initiators) for g in tpg.groups]


def create_group(env: Env, space: ExportSpace, name: str, initiator: str, init_type: str = INIT_TYPE) -> Outcome:
    values.check_name(name, "name")
    _check_type(init_type)
    wwn = values.check_initiator(initiator, "initiator")

    def fn(tpg: Tpg) -> Tpg:
        if _group(tpg, name) is not None:
            raise SanError("an access group with this name exists already", field="name", value=name,
                           kind=CONFLICT)
        _check_free(tpg, wwn, name)
        return replace(tpg, groups=tpg.groups + (InitiatorGroup(name, (wwn,)),))

    return change(env, lambda c: edit_api_tpg(c, space, fn))


def destroy_group(env: Env, space: ExportSpace, name: str) -> Outcome:
    """The group, its members' access and its mappings (LUNs nothing else maps go too)."""

    def fn(tpg: Tpg) -> Tpg:
        group = _group(tpg, name)
        if group is None:
            return tpg
        tpg = replace(tpg, groups=replace_item(tpg.groups, group, None))
        for m in group.mapped_luns:
            tpg = drop_unmapped_lun(tpg, m.tpg_lun)
        return tpg

    return change(env, lambda c: edit_api_tpg(c, space, fn, create=False))


def add_initiator(env: Env, space: ExportSpace, name: str, initiator: str, init_type: str = INIT_TYPE) -> Outcome:
    """Add a member; the group is created when it does not exist."""
    values.check_name(name, "name")
    _check_type(init_type)
    wwn = values.check_initiator(initiator, "initiator")

    def fn(tpg: Tpg) -> Tpg:
        _check_free(tpg, wwn, name)
        group = _group(tpg, name)
        if group is None:
            return replace(tpg, groups=tpg.groups + (InitiatorGroup(name, (wwn,)),))
        if wwn in group.initiators:
            return tpg
        return replace(tpg, groups=replace_item(tpg.groups, group, replace(group,
                                                                           initiators=group.initiators + (wwn,))))

    return change(env, lambda c: edit_api_tpg(c, space, fn))


def remove_initiator(env: Env, space: ExportSpace, name: str, initiator: str) -> Outcome:
    """Remove a member (the group stays, even when empty)."""
    wwn = values.normalize_wwn(initiator)

    def fn(tpg: Tpg) -> Tpg:
        group = _group(tpg, name)
        if group is None or wwn not in group.initiators:
            return tpg
        new = replace(group, initiators=tuple(i for i in group.initiators if i != wwn))
        return replace(tpg, groups=replace_item(tpg.groups, group, new))

    return change(env, lambda c: edit_api_tpg(c, space, fn, create=False))


def list_mappings(env: Env, space: ExportSpace) -> list[GroupMapping]:
    return [GroupMapping(g.name, m.mapped_lun, v.pool, v.name)  # type: ignore[union-attr]
            for g, m, v in mapped_volumes(env.store.load(), space, "groups")]


def map_volume(env: Env, space: ExportSpace, pool: str, volume: str, name: str, lun: int | None = None) -> Outcome:
    """Let the group's initiators see the volume (read-write) as LUN `lun`, or the lowest free number 0-255. Mapping
    again what is mapped already (under the same number, or with none asked for) changes nothing."""
    if lun is not None:
        check_lun(lun, "h_lun_id", MAX_HOST_LUN)

    def fn(tpg: Tpg, config: Config) -> Tpg:
        vol = volume_in(config, space, pool, volume)
        group = _group(tpg, name)
        if group is None:
            raise SanError("no such access group", field="group", value=name, kind=NOT_FOUND)
        tpg, number = ensure_lun(tpg, vol.name)
        for m in group.mapped_luns:
            if m.tpg_lun == number and (lun is None or m.mapped_lun == lun):
                return tpg
            if m.tpg_lun == number:
                raise SanError(f"the volume is mapped to this group already, as LUN {m.mapped_lun}",
                               field="volume", value=volume, kind=CONFLICT)
        used = {m.mapped_lun for m in group.mapped_luns}
        if lun is None:
            lun_id = next((n for n in range(MAX_HOST_LUN + 1) if n not in used), None)
            if lun_id is None:
                raise SanError(f"LUN ids 0-{MAX_HOST_LUN} are all in use in this group", field="h_lun_id",
                               kind=EXHAUSTED)
        elif lun in used:
            raise SanError("the group sees another volume under this LUN id", field="h_lun_id", value=lun,
                           kind=CONFLICT)
        else:
            lun_id = lun
        new = replace(group, mapped_luns=group.mapped_luns + (MappedLun(lun_id, number),))
        return replace(tpg, groups=replace_item(tpg.groups, group, new))

    def edit(config: Config) -> Config:
        if api_tpg(config, space) is None:
            raise SanError("no such access group", field="group", value=name, kind=NOT_FOUND)
        return edit_api_tpg(config, space, lambda t: fn(t, config), create=False)

    return change(env, edit)


def unmap_volume(env: Env, space: ExportSpace, pool: str, volume: str, name: str) -> Outcome:
    """Take the volume away from the group; nothing happens when it is not mapped (or either does not exist)."""

    def fn(tpg: Tpg) -> Tpg:
        group = _group(tpg, name)
        number = lun_of(tpg, volume)
        if group is None or number is None:
            return tpg
        new = replace(group, mapped_luns=tuple(m for m in group.mapped_luns if m.tpg_lun != number))
        return drop_unmapped_lun(replace(tpg, groups=replace_item(tpg.groups, group, new)), number)

    def edit(config: Config) -> Config:
        if visible(config, space, volume) is None or config.volume(volume).pool != pool:
            return config
        return edit_api_tpg(config, space, fn, create=False)

    return change(env, edit)


def set_group_auth(env: Env, space: ExportSpace, name: str, user: str | None, password: str | None,
                   out_user: str | None = None, out_password: str | None = None) -> Outcome:
    """CHAP shared by the group's initiators (rules as for one initiator's). A missing group is created empty: where
    the TPG's initiators use CHAP, a group must have it before its first member joins."""
    values.check_name(name, "name")
    chap = chap_of(user, password, out_user, out_password)

    def fn(tpg: Tpg) -> Tpg:
        group = _group(tpg, name)
        if group is None:
            return replace(tpg, groups=tpg.groups + (InitiatorGroup(name, chap=chap),))
        return replace(tpg, groups=replace_item(tpg.groups, group, replace(group, chap=chap)))

    return change(env, lambda c: edit_api_tpg(c, space, fn))
