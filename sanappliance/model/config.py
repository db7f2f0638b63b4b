"""The appliance's desired state: pools, volumes, iSCSI targets. Frozen dataclasses; change them with `replace`."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from sanappliance.errors import NOT_FOUND, SanError

from .serialize import from_dict, to_dict

SCHEMA_VERSION = 3  # 2: pools may be replicated (Pool.replication) and carry floating portal addresses;
# 3: pools may be on shared storage (Pool.shared: multipathed disks both nodes reach, a VG under lvmlockd)
FILEIO_DIR = "/var/lib/sanappliance/fileio"


class VolumeKind(Enum):
    LV = "lv"  # a logical volume in a pool (LVM volume group): LIO block backstore
    FILEIO = "fileio"  # a (sparse) file: LIO fileio backstore
    RAMDISK = "ramdisk"  # memory, lost at reboot: LIO rd_mcp backstore (for tests)


@dataclass(frozen=True)
class ReplicaNode:
    """One node's half of a replicated pool: its backing disk and the address DRBD replicates over."""

    name: str  # the cluster node's name (uname -n): DRBD's `on NAME` section and Pacemaker's node
    disk: str  # the backing disk on that node, by its stable /dev/disk/by-id/ path
    address: str  # the node's replication address (IPv4 or IPv6, no prefix): on the replication link if it has one


@dataclass(frozen=True)
class Replication:
    """A DRBD resource under the pool's VG: network RAID 1 of one disk on each of two nodes (DRBD 8.4: two nodes)."""

    nodes: tuple[ReplicaNode, ...]
    minor: int  # /dev/drbd<minor>, unique across pools (model.replication.allocate picks the next free one)
    port: int  # TCP port on both nodes' replication addresses, unique across pools
    protocol: str = "C"  # synchronous: a write is acknowledged once it is on both disks (the only one allowed)

    @property
    def device(self) -> str:
        return f"/dev/drbd{self.minor}"

    def node(self, name: str) -> ReplicaNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise SanError("this node holds no replica of the pool", field="node", value=name, kind=NOT_FOUND)


@dataclass(frozen=True)
class SharedDisk:
    """A disk every node reaches (a SAN shelf or JBOD, over one or more paths each): by its WWID, under the
    multipath alias the appliance gave it, so it is /dev/mapper/<alias> on every node."""

    wwid: str  # as multipath reports it (udev's ID_SERIAL): the same on every path and node
    alias: str  # the map's name in multipath.conf (multipath.model.default_alias, or the admin's)

    @property
    def device(self) -> str:
        return f"/dev/mapper/{self.alias}"


@dataclass(frozen=True)
class SharedStorage:
    """A pool on shared disks: a shared VG (lvmlockd with dlm) that every node sees; its LVs are active on the one
    node that serves the pool (exclusive activation), and move with it."""

    disks: tuple[SharedDisk, ...]


@dataclass(frozen=True)
class FloatingIp:
    """A portal address that moves with the pool: where initiators reach the pool's targets, on whichever node
    serves them (one per storage network, so initiators can use one path per network with dm-multipath)."""

    address: str  # with its prefix: "10.0.3.100/24", "fd00:3::100/64"
    link: str = ""  # the storage link (interface, bond or VLAN) it goes on; "": the one whose subnet holds it

    @property
    def ip(self) -> str:
        return self.address.split("/", 1)[0]

    @property
    def prefix(self) -> str:
        return self.address.split("/", 1)[1] if "/" in self.address else ""


@dataclass(frozen=True)
class Pool:
    """An LVM volume group on whole disks, named by their stable /dev/disk/by-id paths; or, replicated, on the DRBD
    device over one backing disk per node (`disks` is then empty: the disks are in `replication.nodes`); or, shared,
    on multipathed disks every node reaches (`disks` empty: they are in `shared.disks`). One of the three, never two.
    """

    name: str
    disks: tuple[str, ...]
    thin: bool = False  # a thin pool LV fills the VG; volumes are thin LVs in it
    replication: Replication | None = None
    floating_ips: tuple[FloatingIp, ...] = ()  # replicated and shared pools only: the portals of its targets
    portblock: bool = False  # drop iSCSI SYNs to the floating addresses while the targets start or stop (iptables)
    shared: SharedStorage | None = None

    @property
    def vg(self) -> str:
        return f"san-{self.name}"

    @property
    def replicated(self) -> bool:
        return self.replication is not None

    @property
    def clustered(self) -> bool:
        """Served by the cluster (on one node at a time, moving on failover): replicated or shared."""
        return self.replication is not None or self.shared is not None

    @property
    def kind(self) -> str:
        return "replicated" if self.replication is not None else "shared" if self.shared is not None else "local"

    @property
    def physical_volumes(self) -> tuple[str, ...]:
        """What the VG is made of: the disks, the DRBD device of a replicated pool, the multipath maps of a shared
        one."""
        if self.replication is not None:
            return (self.replication.device,)
        if self.shared is not None:
            return tuple(d.device for d in self.shared.disks)
        return self.disks


@dataclass(frozen=True)
class Volume:
    name: str
    kind: VolumeKind
    size: int  # bytes
    pool: str = ""  # LV only
    path: str = ""  # FILEIO only; empty: FILEIO_DIR/<name>.img
    wwn: str = ""  # the LUN's unit serial (a UUID), fixed at creation so initiators and multipath see one device
    attributes: dict[str, Any] = field(default_factory=dict)  # device attributes (settings.DEVICE_ATTRIBUTES)

    @property
    def file_path(self) -> str:
        return self.path or f"{FILEIO_DIR}/{self.name}.img"


@dataclass(frozen=True)
class Chap:
    userid: str
    password: str
    mutual_userid: str = ""
    mutual_password: str = ""

    def masked(self) -> dict[str, str]:
        """What listings show: user names, never secrets."""
        return {"userid": self.userid, "password": "(set)", "mutual_userid": self.mutual_userid,
                "mutual_password": "(set)" if self.mutual_password else ""}


@dataclass(frozen=True)
class Portal:
    address: str = "0.0.0.0"
    port: int = 3260

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


@dataclass(frozen=True)
class Lun:
    lun: int
    volume: str


@dataclass(frozen=True)
class MappedLun:
    mapped_lun: int  # the LUN number the initiator sees
    tpg_lun: int  # the TPG's LUN it points to
    write_protect: bool = False


@dataclass(frozen=True)
class Acl:
    initiator: str  # IQN, EUI or NAA name
    mapped_luns: tuple[MappedLun, ...] = ()
    chap: Chap | None = None


@dataclass(frozen=True)
class InitiatorGroup:
    """A named set of initiators sharing one LUN mapping (and CHAP, if set): one LIO ACL each, tagged with the name."""

    name: str
    initiators: tuple[str, ...] = ()
    mapped_luns: tuple[MappedLun, ...] = ()
    chap: Chap | None = None


@dataclass(frozen=True)
class Tpg:
    tag: int = 1
    enabled: bool = True
    portals: tuple[Portal, ...] = (Portal(),)
    luns: tuple[Lun, ...] = ()
    acls: tuple[Acl, ...] = ()
    groups: tuple[InitiatorGroup, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)  # settings.TPG_ATTRIBUTES overrides
    parameters: dict[str, Any] = field(default_factory=dict)  # settings.TPG_PARAMETERS overrides
    chap: Chap | None = None  # TPG-wide CHAP: what initiators without an ACL use in demo mode (generate_node_acls)


@dataclass(frozen=True)
class Target:
    iqn: str
    tpgs: tuple[Tpg, ...] = (Tpg(),)


@dataclass(frozen=True)
class DiscoveryAuth:
    """CHAP for SendTargets discovery sessions (fabric-wide in LIO)."""

    chap: Chap | None = None


@dataclass(frozen=True)
class Config:
    schema: int = SCHEMA_VERSION
    generation: int = 0  # counts saved changes; a write based on an older generation is refused
    pools: tuple[Pool, ...] = ()
    volumes: tuple[Volume, ...] = ()
    targets: tuple[Target, ...] = ()
    discovery: DiscoveryAuth = DiscoveryAuth()

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Config:
        return from_dict(cls, data, "config")

    def to_json(self, *, pretty: bool = False) -> str:
        """One line (json's C encoder: several times faster than its indenting one) unless `pretty`."""
        if pretty:
            return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "config") -> Config:
        """Parse a saved configuration, upgrading older schemas; errors name the source and the field."""
        from .upgrade import upgrade

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SanError(f"not valid JSON: {exc.msg} at line {exc.lineno}", field=source) from None
        if not isinstance(data, dict):
            raise SanError("expected a JSON object", field=source)
        return cls.from_dict(upgrade(data))

    # --- look-ups ---------------------------------------------------------------------------------------------------

    def pool(self, name: str) -> Pool:
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise SanError("no such pool", field="pool", value=name, kind=NOT_FOUND)

    @functools.cached_property
    def _volumes_by_name(self) -> dict[str, Volume]:
        return {v.name: v for v in self.volumes}

    @functools.cached_property
    def _exports(self) -> dict[str, list[tuple[str, int, int]]]:
        exports: dict[str, list[tuple[str, int, int]]] = {}
        for t in self.targets:
            for g in t.tpgs:
                for lun in g.luns:
                    exports.setdefault(lun.volume, []).append((t.iqn, g.tag, lun.lun))
        return exports

    def volume(self, name: str) -> Volume:
        try:
            return self._volumes_by_name[name]
        except KeyError:
            raise SanError("no such volume", field="volume", value=name, kind=NOT_FOUND) from None

    def target(self, iqn: str) -> Target:
        for target in self.targets:
            if target.iqn == iqn.lower():
                return target
        raise SanError("no such target", field="target", value=iqn, kind=NOT_FOUND)

    def exports_of(self, volume: str) -> list[tuple[str, int, int]]:
        """(target, tpg tag, lun) of every LUN that serves the volume."""
        return list(self._exports.get(volume, ()))


def tpg_of(target: Target, tag: int) -> Tpg:
    for tpg in target.tpgs:
        if tpg.tag == tag:
            return tpg
    raise SanError("no such TPG", field="tpg", value=tag, kind=NOT_FOUND)


def replace_item(items: tuple[Any, ...], old: Any, new: Any | None) -> tuple[Any, ...]:
    """items with `old` replaced by `new` (or removed when new is None), order kept."""
    return tuple(new if item is old else item for item in items if not (item is old and new is None))


__all__ = ["Acl", "Chap", "Config", "DiscoveryAuth", "FloatingIp", "InitiatorGroup", "Lun", "MappedLun", "Pool",
           "Portal", "ReplicaNode", "Replication", "SharedDisk", "SharedStorage", "Target", "Tpg", "Volume",
           "VolumeKind", "replace", "replace_item", "tpg_of"]
