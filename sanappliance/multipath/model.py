"""Multipath-capable disks (pure): what is observed of them, and the names the appliance gives them.

A shared disk is known by its WWID (what multipath's uid_attribute, udev's ID_SERIAL, reports: the same on every
path and every node) and reached by its alias, `/dev/mapper/<alias>`, which multipath.conf binds to the WWID. The
kernel's path names (sda, sdb) and device-mapper minors (dm-3) change with probe order and between nodes: they are
observed facts only (`Path.device`), never written to a configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sanappliance.errors import INVALID, NOT_FOUND, SanError

MAPPER = "/dev/mapper/"
ALIAS_PREFIX = "san-mp-"
ALIAS_SUFFIX = 12  # characters of the WWID's end in a default alias (disks of one array differ at the end)
MAX_ALIAS = 63
MAX_WWID = 128
# udev's ID_SERIAL with whitespace replaced: NAA (3...), EUI-64 (2...), T10 vendor ids (1..., with _), SCSI names
WWID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")
ALIAS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
# names the kernel or multipath itself hands out: an alias like these would be mistaken for one
KERNEL_NAME_RE = re.compile(r"^(sd[a-z]+[0-9]*|dm-[0-9]+|vd[a-z]+[0-9]*|nvme[0-9].*|mpath[a-z]+|drbd[0-9]+)$")


@dataclass(frozen=True)
class Path:
    """One path to a disk as multipathd or sysfs reports it (observed, never configured)."""

    device: str  # the kernel's name of the path: sda (changes with probe order)
    hcil: str = ""  # SCSI host:channel:id:lun
    dm_state: str = ""  # the path in the map: active, failed
    checker_state: str = ""  # the path checker's verdict: ready, faulty, shaky, ghost, ...
    device_state: str = ""  # the SCSI device: running, offline, blocked, ...

    @property
    def up(self) -> bool:
        return self.dm_state == "active" and self.checker_state in ("ready", "ghost")


@dataclass(frozen=True)
class MultipathDisk:
    """A disk seen over one or more paths (observed): discovery lists these, the admin picks the shared ones."""

    wwid: str
    paths: tuple[Path, ...] = ()
    alias: str = ""  # the map's name when it has one
    vendor: str = ""
    product: str = ""
    size: str = ""  # as multipath prints it: 10G

    @property
    def active_paths(self) -> int:
        return sum(1 for p in self.paths if p.up)


@dataclass(frozen=True)
class Map:
    """A multipath map the appliance wants: the disk by WWID under the alias the appliance chose."""

    wwid: str
    alias: str

    @property
    def device(self) -> str:
        return mapper_path(self.alias)


def mapper_path(alias: str) -> str:
    return MAPPER + alias


def check_wwid(value: object, field: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_WWID or not WWID_RE.match(value):
        raise SanError(f"a WWID is 1-{MAX_WWID} characters of A-Z a-z 0-9 _ . : + - (as multipath reports it)",
                       field=field, value=value, kind=INVALID)
    return value


def check_alias(value: object, field: str) -> str:
    """An alias the admin may give: a file name in /dev/mapper that no kernel, LVM or multipath name looks like."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ALIAS or not ALIAS_RE.match(value):
        raise SanError(f"an alias is 1-{MAX_ALIAS} characters of A-Z a-z 0-9 _ . + -, starting with a letter or "
                       "digit", field=field, value=value, kind=INVALID)
    if KERNEL_NAME_RE.match(value):
        raise SanError("the alias looks like a kernel or multipath device name (sdX, dm-N, mpathX): those change "
                       "between boots and nodes", field=field, value=value, kind=INVALID)
    if "--" in value:
        raise SanError("'--' is how LVM names its volumes in /dev/mapper: the alias could clash with one",
                       field=field, value=value, kind=INVALID)
    return value


def default_alias(wwid: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The alias the appliance gives a disk: san-mp- and the end of its WWID, longer until no other alias has it."""
    clean = re.sub(r"[^a-z0-9]", "", wwid.lower())
    for size in range(min(ALIAS_SUFFIX, len(clean)), len(clean) + 1):
        alias = ALIAS_PREFIX + clean[-size:]
        if alias not in taken and len(alias) <= MAX_ALIAS:
            return alias
    raise SanError("no alias is left for this WWID: give one", field="alias", value=wwid, kind=INVALID)


def resolve(ref: str, disks: tuple[MultipathDisk, ...], field: str = "disk") -> MultipathDisk:
    """A disk the admin names by /dev/mapper/<alias> or by WWID, among the disks discovered."""
    if ref.startswith(MAPPER):
        found = [d for d in disks if d.alias and d.alias == ref[len(MAPPER):]]
    elif ref.startswith("/dev/"):
        raise SanError("name a shared disk by /dev/mapper/<alias> or by its WWID, never by a kernel name",
                       field=field, value=ref, kind=INVALID)
    else:
        found = [d for d in disks if d.wwid == ref]
    if not found:
        raise SanError("no multipath disk with this alias or WWID on this node", field=field, value=ref,
                       kind=NOT_FOUND)
    return found[0]


__all__ = ["ALIAS_PREFIX", "MAPPER", "Map", "MultipathDisk", "Path", "check_alias", "check_wwid", "default_alias",
           "mapper_path", "resolve"]
