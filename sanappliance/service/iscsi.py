"""Service commands for iSCSI targets, TPGs, portals, LUNs, ACLs, initiator groups and CHAP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sanappliance.errors import CONFLICT, INVALID, NOT_FOUND, SanError
from sanappliance.model import settings, values
from sanappliance.model.config import (
    Acl,
    Chap,
    Config,
    DiscoveryAuth,
    InitiatorGroup,
    Lun,
    MappedLun,
    Portal,
    Target,
    Tpg,
    replace_item,
    tpg_of,
)
from sanappliance.model.validate import MAX_LUN

from .commit import Outcome, change
from .env import Env


def edit_tpg(config: Config, iqn: str, tag: int, fn: Callable[[Tpg], Tpg]) -> Config:
    target = config.target(iqn)
    tpg = tpg_of(target, tag)
    new_target = replace(target, tpgs=replace_item(target.tpgs, tpg, fn(tpg)))
    return replace(config, targets=replace_item(config.targets, target, new_target))


def _chap(userid: str, password: str, mutual_userid: str = "", mutual_password: str = "") -> Chap | None:
    return Chap(userid, password, mutual_userid, mutual_password) if userid else None


def _free_number(used: set[int], wanted: int | None, field: str) -> int:
    if wanted is not None:
        if wanted in used:
            raise SanError("this LUN number is taken", field=field, value=wanted, kind=CONFLICT)
        if isinstance(wanted, bool) or not isinstance(wanted, int) or not 0 <= wanted <= MAX_LUN:
            raise SanError(f"LUN numbers are 0-{MAX_LUN}", field=field, value=wanted, kind=INVALID)
        return wanted
    return next(n for n in range(MAX_LUN + 1) if n not in used)


def create_target(env: Env, iqn: str | None = None) -> Outcome:
    """A target with one TPG (tag 1) listening on 0.0.0.0:3260; the name is generated when not given."""
    wwn = values.check_iqn(iqn, "iqn") if iqn else values.generate_iqn()

    def edit(config: Config) -> Config:
        if any(t.iqn == wwn for t in config.targets):
            raise SanError("a target with this name exists already", field="iqn", value=wwn, kind=CONFLICT)
        return replace(config, targets=config.targets + (Target(wwn),))

    return change(env, edit)


def delete_target(env: Env, iqn: str) -> Outcome:
    return change(env, lambda c: replace(c, targets=replace_item(c.targets, c.target(iqn), None)))


def create_tpg(env: Env, iqn: str, tag: int | None = None) -> Outcome:
    def edit(config: Config) -> Config:
        target = config.target(iqn)
        used = {g.tag for g in target.tpgs}
        new_tag = tag if tag is not None else next(n for n in range(1, 65536) if n not in used)
        if new_tag in used:
            raise SanError("a TPG with this tag exists already", field="tag", value=new_tag, kind=CONFLICT)
        new = replace(target, tpgs=target.tpgs + (Tpg(tag=new_tag),))
        return replace(config, targets=replace_item(config.targets, target, new))

    return change(env, edit)


def delete_tpg(env: Env, iqn: str, tag: int) -> Outcome:
    def edit(config: Config) -> Config:
        target = config.target(iqn)
        new = replace(target, tpgs=replace_item(target.tpgs, tpg_of(target, tag), None))
        return replace(config, targets=replace_item(config.targets, target, new))

    return change(env, edit)


def create_portal(env: Env, iqn: str, address: str, port: int = 3260, tag: int = 1) -> Outcome:
    portal = Portal(values.check_address(address, "address"), values.check_port(port, "port"))

    def fn(tpg: Tpg) -> Tpg:
        if portal in tpg.portals:
            raise SanError("this portal exists already", field="portal", value=str(portal), kind=CONFLICT)
        return replace(tpg, portals=tpg.portals + (portal,))

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def delete_portal(env: Env, iqn: str, address: str, port: int = 3260, tag: int = 1) -> Outcome:
    portal = Portal(values.check_address(address, "address"), port)

    def fn(tpg: Tpg) -> Tpg:
        if portal not in tpg.portals:
            raise SanError("no such portal", field="portal", value=str(portal), kind=NOT_FOUND)
        return replace(tpg, portals=tuple(p for p in tpg.portals if p != portal))

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def create_lun(env: Env, iqn: str, volume: str, lun: int | None = None, tag: int = 1,
               map_to_acls: bool = True) -> Outcome:
    """Export a volume as a LUN (lowest free number unless given); like targetcli, it is mapped to every ACL of the
    TPG under the same number unless map_to_acls is False."""

    def fn(tpg: Tpg, config: Config) -> Tpg:
        config.volume(volume)
        number = _free_number({x.lun for x in tpg.luns}, lun, "lun")
        acls = tpg.acls
        if map_to_acls:
            acls = tuple(a if number in {m.mapped_lun for m in a.mapped_luns}
                         else replace(a, mapped_luns=a.mapped_luns + (MappedLun(number, number),)) for a in acls)
        return replace(tpg, luns=tpg.luns + (Lun(number, volume),), acls=acls)

    return change(env, lambda c: edit_tpg(c, iqn, tag, lambda t: fn(t, c)))


def delete_lun(env: Env, iqn: str, lun: int, tag: int = 1) -> Outcome:
    """Remove a LUN and every mapping of it (ACLs and groups)."""

    def fn(tpg: Tpg) -> Tpg:
        if lun not in {x.lun for x in tpg.luns}:
            raise SanError("no such LUN", field="lun", value=lun, kind=NOT_FOUND)
        acls = tuple(replace(a, mapped_luns=tuple(m for m in a.mapped_luns if m.tpg_lun != lun)) for a in tpg.acls)
        groups = tuple(replace(g, mapped_luns=tuple(m for m in g.mapped_luns if m.tpg_lun != lun))
                       for g in tpg.groups)
        return replace(tpg, luns=tuple(x for x in tpg.luns if x.lun != lun), acls=acls, groups=groups)

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def create_acl(env: Env, iqn: str, initiator: str, tag: int = 1, map_all: bool = True, userid: str = "",
               password: str = "", mutual_userid: str = "", mutual_password: str = "") -> Outcome:
    """Let an initiator in, with CHAP when a userid is given; like targetcli, it sees every LUN of the TPG under the
    same number unless map_all is False."""
    wwn = values.check_initiator(initiator, "initiator")
    chap = _chap(userid, password, mutual_userid, mutual_password)

    def fn(tpg: Tpg) -> Tpg:
        if any(a.initiator == wwn for a in tpg.acls) or any(wwn in g.initiators for g in tpg.groups):
            raise SanError("this initiator has an ACL or group membership already", field="initiator", value=wwn,
                           kind=CONFLICT)
        mapped = tuple(MappedLun(x.lun, x.lun) for x in tpg.luns) if map_all else ()
        return replace(tpg, acls=tpg.acls + (Acl(wwn, mapped, chap),))

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def _acl(tpg: Tpg, wwn: str) -> Acl:
    for acl in tpg.acls:
        if acl.initiator == wwn.lower():
            return acl
    raise SanError("no such ACL", field="initiator", value=wwn, kind=NOT_FOUND)


def delete_acl(env: Env, iqn: str, initiator: str, tag: int = 1) -> Outcome:
    return change(env, lambda c: edit_tpg(c, iqn, tag, lambda t: replace(
        t, acls=replace_item(t.acls, _acl(t, initiator), None))))


def map_lun(env: Env, iqn: str, initiator: str, tpg_lun: int, mapped_lun: int | None = None,
            write_protect: bool = False, tag: int = 1) -> Outcome:
    def fn(tpg: Tpg) -> Tpg:
        acl = _acl(tpg, initiator)
        number = _free_number({m.mapped_lun for m in acl.mapped_luns}, mapped_lun, "mapped_lun")
        new = replace(acl, mapped_luns=acl.mapped_luns + (MappedLun(number, tpg_lun, write_protect),))
        return replace(tpg, acls=replace_item(tpg.acls, acl, new))

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def unmap_lun(env: Env, iqn: str, initiator: str, mapped_lun: int, tag: int = 1) -> Outcome:
    def fn(tpg: Tpg) -> Tpg:
        acl = _acl(tpg, initiator)
        if mapped_lun not in {m.mapped_lun for m in acl.mapped_luns}:
            raise SanError("no such mapped LUN", field="mapped_lun", value=mapped_lun, kind=NOT_FOUND)
        new = replace(acl, mapped_luns=tuple(m for m in acl.mapped_luns if m.mapped_lun != mapped_lun))
        return replace(tpg, acls=replace_item(tpg.acls, acl, new))

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def set_acl_auth(env: Env, iqn: str, initiator: str, userid: str, password: str, mutual_userid: str = "",
                 mutual_password: str = "", tag: int = 1) -> Outcome:
    """CHAP (and mutual CHAP) for one initiator; an empty userid removes it. Secrets are never returned."""

    def fn(tpg: Tpg) -> Tpg:
        acl = _acl(tpg, initiator)
        return replace(tpg, acls=replace_item(tpg.acls, acl, replace(acl, chap=_chap(
            userid, password, mutual_userid, mutual_password))))

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def set_tpg_setting(env: Env, iqn: str, name: str, value: Any, tag: int = 1) -> Outcome:
    """A TPG attribute (settings.TPG_ATTRIBUTES) or iSCSI parameter (settings.TPG_PARAMETERS)."""
    if name in settings.TPG_ATTRIBUTES:
        parsed = settings.parse_settings(settings.TPG_ATTRIBUTES, {name: value}, "attribute")
        return change(env, lambda c: edit_tpg(c, iqn, tag, lambda t: replace(
            t, attributes={**t.attributes, **parsed})))
    parsed = settings.parse_settings(settings.TPG_PARAMETERS, {name: value}, "parameter")
    return change(env, lambda c: edit_tpg(c, iqn, tag, lambda t: replace(t, parameters={**t.parameters, **parsed})))


def set_tpg_auth(env: Env, iqn: str, userid: str, password: str = "", mutual_userid: str = "",
                 mutual_password: str = "", tag: int = 1) -> Outcome:
    """TPG-wide CHAP, for initiators that log in without an ACL (demo mode); an empty userid removes it."""
    chap = _chap(userid, password, mutual_userid, mutual_password)
    return change(env, lambda c: edit_tpg(c, iqn, tag, lambda t: replace(t, chap=chap)))


def set_tpg_enabled(env: Env, iqn: str, enabled: bool, tag: int = 1) -> Outcome:
    return change(env, lambda c: edit_tpg(c, iqn, tag, lambda t: replace(t, enabled=enabled)))


def set_discovery_auth(env: Env, userid: str, password: str = "", mutual_userid: str = "",
                       mutual_password: str = "") -> Outcome:
    chap = _chap(userid, password, mutual_userid, mutual_password)
    return change(env, lambda c: replace(c, discovery=DiscoveryAuth(chap)))


def create_group(env: Env, iqn: str, name: str, initiators: list[str], tag: int = 1, userid: str = "",
                 password: str = "", mutual_userid: str = "", mutual_password: str = "") -> Outcome:
    values.check_name(name, "name")
    members = tuple(values.check_initiator(i, "initiators") for i in initiators)
    chap = _chap(userid, password, mutual_userid, mutual_password)

    def fn(tpg: Tpg) -> Tpg:
        if any(g.name == name for g in tpg.groups):
            raise SanError("a group with this name exists already", field="name", value=name, kind=CONFLICT)
        return replace(tpg, groups=tpg.groups + (InitiatorGroup(name, members, chap=chap),))

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def _group(tpg: Tpg, name: str) -> InitiatorGroup:
    for group in tpg.groups:
        if group.name == name:
            return group
    raise SanError("no such initiator group", field="group", value=name, kind=NOT_FOUND)


def edit_group(env: Env, iqn: str, name: str, tag: int = 1, **changes: Any) -> Outcome:
    """Replace fields of a group: initiators (list), mapped_luns (list of (mapped, tpg_lun[, write_protect])), chap
    ((userid, password[, mutual_userid, mutual_password]) or None)."""
    if "initiators" in changes:
        changes["initiators"] = tuple(values.check_initiator(i, "initiators") for i in changes["initiators"])
    if "mapped_luns" in changes:
        changes["mapped_luns"] = tuple(MappedLun(*m) for m in changes["mapped_luns"])
    if "chap" in changes:
        changes["chap"] = _chap(*changes["chap"]) if changes["chap"] else None

    def fn(tpg: Tpg) -> Tpg:
        group = _group(tpg, name)
        return replace(tpg, groups=replace_item(tpg.groups, group, replace(group, **changes)))

    return change(env, lambda c: edit_tpg(c, iqn, tag, fn))


def delete_group(env: Env, iqn: str, name: str, tag: int = 1) -> Outcome:
    return change(env, lambda c: edit_tpg(c, iqn, tag, lambda t: replace(
        t, groups=replace_item(t.groups, _group(t, name), None))))
