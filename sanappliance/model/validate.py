"""Validation of a whole desired state (pure): every problem, each naming its field and value. Nothing is changed
unless this returns no problem."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sanappliance.errors import SanError

from . import settings, values
from .config import SCHEMA_VERSION, Acl, Chap, Config, InitiatorGroup, MappedLun, Tpg, VolumeKind

MAX_LUN = 65535
MAX_TAG = 65535


@dataclass(frozen=True)
class Facts:
    """What validation needs to know of the live system (gathered by the apply layer; empty in pure tests)."""

    disk_sizes: dict[str, int] = field(default_factory=dict)  # by-id path -> bytes, disks present
    disks_in_use: dict[str, str] = field(default_factory=dict)  # by-id path -> what uses it (not our pools)
    pool_sizes: dict[str, int] = field(default_factory=dict)  # pool name -> usable bytes (VG size)


class Problems:
    def __init__(self) -> None:
        self.items: list[SanError] = []

    def add(self, message: str, field: str, value: object = None) -> None:
        self.items.append(SanError(message, field=field, value=value))

    def check(self, fn, *args) -> object:  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except SanError as exc:
            self.items.append(exc)
            return None


def duplicates(items: Iterable[object]) -> list[object]:
    """The items that occur more than once (each repeat once more), in order."""
    seen: set[object] = set()
    dups = []
    for item in items:
        if item in seen:
            dups.append(item)
        seen.add(item)
    return dups


def validate(config: Config, facts: Facts | None = None) -> list[SanError]:
    facts = facts or Facts()
    p = Problems()
    if config.schema != SCHEMA_VERSION:
        p.add(f"schema version {SCHEMA_VERSION} expected (upgrade the file first)", "schema", config.schema)
    if config.generation < 0:
        p.add("must not be negative", "generation", config.generation)
    _pools(config, facts, p)
    _volumes(config, facts, p)
    for name in duplicates(t.iqn for t in config.targets):
        p.add("a target with this name exists already", "targets.iqn", name)
    for target in config.targets:
        where = f"targets[{target.iqn}]"
        if target.iqn != values.normalize_wwn(target.iqn):
            p.add("target names are stored lowercase", f"{where}.iqn", target.iqn)
        p.check(values.check_iqn, target.iqn, f"{where}.iqn")
        for tag in duplicates(g.tag for g in target.tpgs):
            p.add("TPG tags must be unique in a target", f"{where}.tpgs", tag)
        for tpg in target.tpgs:
            _tpg(config, tpg, f"{where}.tpg{tpg.tag}", p)
    if config.discovery.chap is not None:
        _chap(config.discovery.chap, "discovery.chap", p)
    return p.items


def _pools(config: Config, facts: Facts, p: Problems) -> None:
    for name in duplicates(pool.name for pool in config.pools):
        p.add("a pool with this name exists already", "pools.name", name)
    owners: dict[str, str] = {}
    for pool in config.pools:
        where = f"pools[{pool.name}]"
        p.check(values.check_name, pool.name, f"{where}.name")
        if not pool.disks:
            p.add("a pool needs at least one disk", f"{where}.disks")
        for disk in pool.disks:
            if not disk.startswith("/dev/disk/by-id/"):
                p.add("disks are named by their stable /dev/disk/by-id/ path", f"{where}.disks", disk)
            elif facts.disk_sizes and disk not in facts.disk_sizes:
                p.add("no such disk on this node", f"{where}.disks", disk)
            if disk in owners:
                p.add(f"disk already in pool {owners[disk]}", f"{where}.disks", disk)
            elif disk in facts.disks_in_use:
                p.add(f"disk in use ({facts.disks_in_use[disk]})", f"{where}.disks", disk)
            owners.setdefault(disk, pool.name)


def _volumes(config: Config, facts: Facts, p: Problems) -> None:
    for name in duplicates(v.name for v in config.volumes):
        p.add("a volume with this name exists already", "volumes.name", name)
    for path in duplicates(v.file_path for v in config.volumes if v.kind is VolumeKind.FILEIO):
        p.add("two volumes on the same file", "volumes.path", path)
    pool_names = {pool.name for pool in config.pools}
    used: dict[str, int] = {}
    for vol in config.volumes:
        where = f"volumes[{vol.name}]"
        p.check(values.check_name, vol.name, f"{where}.name")
        if isinstance(vol.size, bool) or not isinstance(vol.size, int) or vol.size <= 0:
            p.add("a size must be larger than zero", f"{where}.size", vol.size)
        elif vol.size % 512:
            p.add("a size must be a multiple of 512 bytes", f"{where}.size", vol.size)
        if vol.kind is VolumeKind.LV:
            if vol.pool not in pool_names:
                p.add("no such pool", f"{where}.pool", vol.pool)
            else:
                used[vol.pool] = used.get(vol.pool, 0) + vol.size
        elif vol.pool:
            p.add(f"{vol.kind.value} volumes are not in a pool", f"{where}.pool", vol.pool)
        if vol.kind is VolumeKind.FILEIO and vol.path and not vol.path.startswith("/"):
            p.add("the file path must be absolute", f"{where}.path", vol.path)
        if vol.kind is not VolumeKind.FILEIO and vol.path:
            p.add("only fileio volumes have a path", f"{where}.path", vol.path)
        if vol.wwn:
            try:
                uuid.UUID(vol.wwn)
            except ValueError:
                p.add("the unit serial is a UUID", f"{where}.wwn", vol.wwn)
        p.check(settings.parse_settings, settings.DEVICE_ATTRIBUTES, vol.attributes, f"{where}.attributes")
    for pool, total in used.items():
        size = facts.pool_sizes.get(pool)
        if size is not None and total > size:
            p.add(f"the pool's volumes need {values.format_size(total)} but it holds {values.format_size(size)}",
                  f"pools[{pool}].size", total)


def _chap(chap: Chap, where: str, p: Problems) -> None:
    p.check(values.check_chap_user, chap.userid, f"{where}.userid")
    p.check(values.check_chap_secret, chap.password, f"{where}.password")
    if chap.mutual_userid or chap.mutual_password:
        p.check(values.check_chap_user, chap.mutual_userid, f"{where}.mutual_userid")
        p.check(values.check_chap_secret, chap.mutual_password, f"{where}.mutual_password")
        if chap.mutual_password == chap.password:
            p.add("the mutual secret must differ from the initiator's secret", f"{where}.mutual_password",
                  "(hidden)")


def _mapped(mapped: tuple[MappedLun, ...], tpg_luns: set[int], where: str, p: Problems) -> None:
    for number in duplicates(m.mapped_lun for m in mapped):
        p.add("this mapped LUN number is used twice", f"{where}.mapped_luns", number)
    for m in mapped:
        if not 0 <= m.mapped_lun <= MAX_LUN:
            p.add(f"LUN numbers are 0-{MAX_LUN}", f"{where}.mapped_luns", m.mapped_lun)
        if m.tpg_lun not in tpg_luns:
            p.add("no such LUN in this TPG", f"{where}.mapped_luns.tpg_lun", m.tpg_lun)


def _tpg(config: Config, tpg: Tpg, where: str, p: Problems) -> None:
    if not 1 <= tpg.tag <= MAX_TAG:
        p.add(f"TPG tags are 1-{MAX_TAG}", f"{where}.tag", tpg.tag)
    for i, portal in enumerate(tpg.portals):
        p.check(values.check_address, portal.address, f"{where}.portals[{i}].address")
        p.check(values.check_port, portal.port, f"{where}.portals[{i}].port")
    for portal in duplicates((x.address, x.port) for x in tpg.portals):
        p.add("portal listed twice", f"{where}.portals", f"{portal[0]}:{portal[1]}")
    volumes = {v.name for v in config.volumes}
    for number in duplicates(lun.lun for lun in tpg.luns):
        p.add("a LUN with this number exists already", f"{where}.luns", number)
    for name in duplicates(lun.volume for lun in tpg.luns):
        p.add("the volume is exported twice in this TPG", f"{where}.luns", name)
    for lun in tpg.luns:
        if not 0 <= lun.lun <= MAX_LUN:
            p.add(f"LUN numbers are 0-{MAX_LUN}", f"{where}.luns", lun.lun)
        if lun.volume not in volumes:
            p.add("no such volume", f"{where}.lun{lun.lun}.volume", lun.volume)
    tpg_luns = {lun.lun for lun in tpg.luns}
    members: list[str] = [acl.initiator for acl in tpg.acls] + [i for g in tpg.groups for i in g.initiators]
    for wwn in duplicates(values.normalize_wwn(m) for m in members):
        p.add("the initiator has an ACL or group membership already", f"{where}.acls", wwn)
    for name in duplicates(g.name for g in tpg.groups):
        p.add("a group with this name exists already", f"{where}.groups", name)
    holders: list[Acl | InitiatorGroup] = [*tpg.acls, *tpg.groups]
    for acl in tpg.acls:
        at = f"{where}.acls[{acl.initiator}]"
        p.check(values.check_initiator, acl.initiator, f"{at}.initiator")
        if acl.initiator != values.normalize_wwn(acl.initiator):
            p.add("initiator names are stored lowercase", f"{at}.initiator", acl.initiator)
        _mapped(acl.mapped_luns, tpg_luns, at, p)
    for group in tpg.groups:
        at = f"{where}.groups[{group.name}]"
        p.check(values.check_name, group.name, f"{at}.name")
        for initiator in group.initiators:
            p.check(values.check_initiator, initiator, f"{at}.initiators")
        _mapped(group.mapped_luns, tpg_luns, at, p)
    for holder in holders:
        if holder.chap is not None:
            name = holder.initiator if isinstance(holder, Acl) else holder.name
            _chap(holder.chap, f"{where}.{'acls' if isinstance(holder, Acl) else 'groups'}[{name}].chap", p)
    if tpg.chap is not None:
        _chap(tpg.chap, f"{where}.chap", p)
    with_chap = [h for h in holders if h.chap is not None]
    if (with_chap or tpg.chap is not None) and len(with_chap) != len(holders):
        without = [h.initiator if isinstance(h, Acl) else h.name for h in holders if h.chap is None]
        p.add("LIO requires CHAP for all or none of a TPG's initiators; these have none", f"{where}.acls",
              ", ".join(without))
    p.check(settings.parse_settings, settings.TPG_ATTRIBUTES, tpg.attributes, f"{where}.attributes")
    p.check(settings.parse_settings, settings.TPG_PARAMETERS, tpg.parameters, f"{where}.parameters")
    if str(tpg.attributes.get("generate_node_acls")) in ("1", "True", "true", "yes") and \
            str(tpg.attributes.get("cache_dynamic_acls", "1")) in ("0", "False", "false", "no"):
        p.add("LIO keeps cache_dynamic_acls on while generate_node_acls (demo mode) is on",
              f"{where}.attributes.cache_dynamic_acls", tpg.attributes["cache_dynamic_acls"])
    if "authentication" in tpg.attributes:
        p.add("set by the appliance from the CHAP settings", f"{where}.attributes.authentication",
              tpg.attributes["authentication"])


def check(config: Config, facts: Facts | None = None) -> None:
    """Raise the first problem (all of them in the message) if the config is not valid."""
    problems = validate(config, facts)
    if problems:
        first = problems[0]
        message = first.message if len(problems) == 1 else (
            f"{first.message} (and {len(problems) - 1} more: " + "; ".join(str(x) for x in problems[1:4]) + ")")
        raise SanError(message, field=first.field, value=first.value, kind=first.kind)
