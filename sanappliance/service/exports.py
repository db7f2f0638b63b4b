"""Service commands for exports as the block-storage API sees them: a volume exported to one initiator is a LUN of
the API's TPG plus the initiator's ACL mapping it under the LUN number the initiator sees. Each command is one
validated change: the target, the LUN, the ACL and the mapping are made (or removed) together."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sanappliance.errors import CONFLICT, INVALID, NOT_FOUND, SanError
from sanappliance.model import values
from sanappliance.model.config import Acl, Chap, Config, MappedLun, Tpg, replace_item
from sanappliance.model.validate import MAX_LUN

from .commit import Outcome, change
from .env import Env
from .space import (
    ExportSpace,
    api_tpg,
    drop_unmapped_lun,
    edit_api_tpg,
    ensure_lun,
    lun_of,
    mapped_volumes,
    member_of,
    volume_in,
)

INIT_TYPE = "iscsi"


@dataclass(frozen=True)
class ExportInfo:
    initiator: str
    lun: int  # the number the initiator sees
    volume: str
    size: int
    uuid: str
    pool: str


@dataclass(frozen=True)
class InitiatorInfo:
    initiator: str
    group: str = ""  # the access group it belongs to; empty: it has its own ACL


def check_lun(lun: int, field: str, high: int = MAX_LUN) -> int:
    if isinstance(lun, bool) or not isinstance(lun, int) or not 0 <= lun <= high:
        raise SanError(f"LUN numbers are 0-{high}", field=field, value=lun, kind=INVALID)
    return lun


def list_exports(env: Env, space: ExportSpace) -> list[ExportInfo]:
    """Every LUN mapping of an initiator's own ACL on the API's target, for volumes the API sees (mappings of access
    groups are listed by access_groups.list_mappings)."""
    return [ExportInfo(acl.initiator, m.mapped_lun, v.name, v.size, v.wwn, v.pool)  # type: ignore[union-attr]
            for acl, m, v in mapped_volumes(env.store.load(), space, "acls")]


def _acl(tpg: Tpg, wwn: str) -> Acl | None:
    return next((a for a in tpg.acls if a.initiator == wwn), None)


def _with_acl(tpg: Tpg, old: Acl | None, new: Acl | None) -> Tpg:
    if old is None:
        return tpg if new is None else replace(tpg, acls=tpg.acls + (new,))
    return replace(tpg, acls=replace_item(tpg.acls, old, new))


def create_export(env: Env, space: ExportSpace, pool: str, volume: str, initiator: str, lun: int) -> Outcome:
    """Let `initiator` see `volume` as LUN `lun`: the target, its LUN for the volume and the initiator's ACL are made
    when missing. Exporting again what is exported already, under the same number, changes nothing."""
    wwn = values.check_initiator(initiator, "initiator")
    check_lun(lun, "lun")

    def fn(tpg: Tpg, config: Config) -> Tpg:
        vol = volume_in(config, space, pool, volume)
        group = member_of(tpg, wwn)
        if group is not None:
            raise SanError(f"the initiator belongs to access group {group}: map the volume to the group",
                           field="initiator", value=wwn, kind=CONFLICT)
        tpg, number = ensure_lun(tpg, vol.name)
        acl = _acl(tpg, wwn) or Acl(wwn)
        for m in acl.mapped_luns:
            if m.tpg_lun == number and m.mapped_lun == lun:
                return tpg
            if m.tpg_lun == number:
                raise SanError(f"the volume is exported to this initiator already, as LUN {m.mapped_lun}",
                               field="volume", value=volume, kind=CONFLICT)
            if m.mapped_lun == lun:
                raise SanError("the initiator sees another volume under this LUN number", field="lun", value=lun,
                               kind=CONFLICT)
        return _with_acl(tpg, _acl(tpg, wwn), replace(acl, mapped_luns=acl.mapped_luns + (MappedLun(lun, number),)))

    return change(env, lambda c: edit_api_tpg(c, space, lambda t: fn(t, c)))


def destroy_export(env: Env, space: ExportSpace, pool: str, volume: str, initiator: str) -> Outcome:
    """Take the volume away from the initiator. An ACL left without LUNs and without CHAP goes too, and so does the
    LUN when nothing maps it any more."""
    wwn = values.normalize_wwn(initiator)

    def edit(config: Config) -> Config:
        vol = volume_in(config, space, pool, volume)
        tpg = api_tpg(config, space)
        number = lun_of(tpg, vol.name) if tpg is not None else None
        acl = _acl(tpg, wwn) if tpg is not None else None
        if tpg is None or acl is None or number is None or all(m.tpg_lun != number for m in acl.mapped_luns):
            raise SanError(f"volume {volume} is not exported to this initiator", field="export", value=initiator,
                           kind=NOT_FOUND)

        def fn(t: Tpg) -> Tpg:
            new = replace(acl, mapped_luns=tuple(m for m in acl.mapped_luns if m.tpg_lun != number))
            keep = new.mapped_luns or new.chap is not None
            return drop_unmapped_lun(_with_acl(t, acl, new if keep else None), number)

        return edit_api_tpg(config, space, fn, create=False)

    return change(env, edit)


def chap_of(user: str | None, password: str | None, out_user: str | None, out_password: str | None) -> Chap | None:
    """targetd's rule: a direction whose user or password is null (or empty) has no authentication."""
    inbound = bool(user) and bool(password)
    outbound = bool(out_user) and bool(out_password)
    if outbound and not inbound:
        raise SanError("mutual CHAP (out_user, out_pass) needs CHAP from the initiator (in_user, in_pass) too",
                       field="in_user", kind=INVALID)
    if not inbound:
        return None
    return Chap(user or "", password or "", (out_user or "") if outbound else "", (out_password or "") if outbound
                else "")


def set_initiator_auth(env: Env, space: ExportSpace, initiator: str, user: str | None, password: str | None,
                       out_user: str | None = None, out_password: str | None = None) -> Outcome:
    """CHAP for one initiator (inbound, and mutual when out_user/out_password are given); none in a direction whose
    user or password is null. The initiator gets an ACL (without LUNs) if it has none yet. LIO asks CHAP of all or
    none of a TPG's initiators: the change is refused if it would mix them."""
    wwn = values.check_initiator(initiator, "initiator")
    chap = chap_of(user, password, out_user, out_password)

    def fn(tpg: Tpg) -> Tpg:
        group = member_of(tpg, wwn)
        if group is not None:
            raise SanError(f"the initiator belongs to access group {group}, whose CHAP it uses", field="initiator",
                           value=wwn, kind=CONFLICT)
        acl = _acl(tpg, wwn)
        if acl is None:
            return tpg if chap is None else _with_acl(tpg, None, Acl(wwn, chap=chap))
        new = replace(acl, chap=chap)
        return _with_acl(tpg, acl, new if new.mapped_luns or chap is not None else None)

    return change(env, lambda c: edit_api_tpg(c, space, fn, create=chap is not None))


def list_initiators(env: Env, space: ExportSpace, standalone_only: bool = False) -> list[InitiatorInfo]:
    """The initiators the API's target knows: those with an ACL of their own, then (unless standalone_only) the
    members of access groups."""
    tpg = api_tpg(env.store.load(), space)
    if tpg is None:
        return []
    out = [InitiatorInfo(a.initiator) for a in tpg.acls]
    if not standalone_only:
        out += [InitiatorInfo(i, g.name) for g in tpg.groups for i in g.initiators]
    return out
