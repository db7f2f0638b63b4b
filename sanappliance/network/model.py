"""The appliance's network, host name and time (pure): interfaces, bonds and VLANs, the addresses on each of them
with their roles, and the first-boot settings. Frozen dataclasses with a JSON round trip (model.serialize); change
them with `replace`. Validate with validate.validate before rendering or applying."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sanappliance.errors import INVALID, NOT_FOUND, SanError
from sanappliance.model.serialize import from_dict, to_dict
from sanappliance.model.values import normal_ip

SCHEMA_VERSION = 1
DEFAULT_MIIMON = 100  # ms: the usual bonding link check interval


class Role(Enum):
    """What a link carries. Management: the web page, the API, ssh (exactly one link). Cluster: corosync knet (one or
    two links, in spec order: the first is knet link 0). Replication: DRBD. Storage: iSCSI portals (several links:
    one per path for dm-multipath)."""

    MANAGEMENT = "management"
    CLUSTER = "cluster"
    REPLICATION = "replication"
    STORAGE = "storage"


class BondMode(Enum):
    """The Linux bonding modes (Documentation/networking/bonding.rst), by their kernel names."""

    BALANCE_RR = "balance-rr"
    ACTIVE_BACKUP = "active-backup"
    BALANCE_XOR = "balance-xor"
    BROADCAST = "broadcast"
    LACP = "802.3ad"
    BALANCE_TLB = "balance-tlb"
    BALANCE_ALB = "balance-alb"


class LacpRate(Enum):
    SLOW = "slow"  # LACPDU every 30 s
    FAST = "fast"  # every second


class HashPolicy(Enum):
    """xmit_hash_policy: which headers pick the member a packet leaves on (balance-xor, 802.3ad, balance-tlb)."""

    LAYER2 = "layer2"
    LAYER2_3 = "layer2+3"
    LAYER3_4 = "layer3+4"
    ENCAP2_3 = "encap2+3"
    ENCAP3_4 = "encap3+4"
    VLAN_SRCMAC = "vlan+srcmac"


@dataclass(frozen=True)
class Interface:
    """A physical port. With `mac` it is matched by its permanent MAC address and renamed to `name` (udev .link
    file); without, `name` is the kernel's name for it."""

    name: str
    mac: str | None = None
    mtu: int | None = None  # None: the kernel's (1500)


@dataclass(frozen=True)
class Bond:
    name: str
    members: tuple[str, ...]  # interface names
    mode: BondMode = BondMode.ACTIVE_BACKUP
    miimon: int = DEFAULT_MIIMON  # ms between link checks of the members
    primary: str | None = None  # the member preferred while it is up (active-backup, balance-tlb, balance-alb)
    lacp_rate: LacpRate | None = None  # 802.3ad only
    xmit_hash_policy: HashPolicy | None = None  # balance-xor, 802.3ad, balance-tlb
    mtu: int | None = None  # the members follow the bond's MTU


@dataclass(frozen=True)
class Vlan:
    name: str  # e.g. bond0.100 (at most 15 characters, as every interface name)
    parent: str  # an interface or a bond
    id: int  # 802.1Q VLAN id, 1-4094
    mtu: int | None = None  # at most the parent's


@dataclass(frozen=True)
class Link:
    """The addresses and roles of one interface, bond or VLAN (by name). The MTU belongs to the device
    (Interface/Bond/Vlan), so that one place says it."""

    name: str
    roles: tuple[Role, ...] = ()
    dhcp: bool = False  # DHCPv4 (management only: the other roles need an address that does not move)
    addresses: tuple[str, ...] = ()  # static, with prefix: "10.0.0.1/24", "fd00::1/64"
    gateways: tuple[str, ...] = ()  # default gateway, at most one per address family
    dns: tuple[str, ...] = ()  # name server addresses
    ipv6_ra: bool = False  # accept IPv6 router advertisements (SLAAC); off: only the static addresses


@dataclass(frozen=True)
class TimeSpec:
    timezone: str = "UTC"  # a tz database name: Europe/Berlin, America/Argentina/Buenos_Aires, UTC
    ntp_servers: tuple[str, ...] = ()  # host names or addresses; empty: Debian's pool (and DHCP's servers)


@dataclass(frozen=True)
class RoleAddress:
    """One address a role uses: the link it is on and the address with its prefix."""

    link: str
    address: str  # "10.0.0.1/24"

    @property
    def ip(self) -> str:
        return str(ipaddress.ip_interface(self.address).ip)


@dataclass(frozen=True)
class NetworkSpec:
    hostname: str
    interfaces: tuple[Interface, ...] = ()
    bonds: tuple[Bond, ...] = ()
    vlans: tuple[Vlan, ...] = ()
    links: tuple[Link, ...] = ()
    time: TimeSpec = TimeSpec()
    schema: int = SCHEMA_VERSION

    def device(self, name: str) -> Interface | Bond | Vlan:
        for device in (*self.interfaces, *self.bonds, *self.vlans):
            if device.name == name:
                return device
        raise SanError("no such interface, bond or VLAN", field="network", value=name, kind=NOT_FOUND)

    def link(self, name: str) -> Link | None:
        return next((link for link in self.links if link.name == name), None)

    def management(self) -> Link | None:
        return next((link for link in self.links if Role.MANAGEMENT in link.roles), None)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: Any, source: str = "network") -> NetworkSpec:
        return from_dict(cls, data, source)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "network") -> NetworkSpec:
        return cls.from_dict(_json(text, source), source)


@dataclass(frozen=True)
class FirstBoot:
    """What the first-boot dialog (or a seed file) sets: the network spec and the admin password's hash. The hash
    is kept apart from the network spec: the spec is shown and exported, the hash never is."""

    network: NetworkSpec
    admin_password_hash: str = ""  # apiconfig.hash_password's scrypt$...; the clear password is never kept

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: Any, source: str = "firstboot") -> FirstBoot:
        return from_dict(cls, data, source)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "firstboot") -> FirstBoot:
        return cls.from_dict(_json(text, source), source)


def _json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SanError(f"not valid JSON: {exc}", field=source, kind=INVALID) from None


def addresses_for(spec: NetworkSpec, role: Role) -> list[RoleAddress]:
    """The static addresses of `role`, in link order, then address order: what the cluster (knet link 0 is the first
    cluster link), DRBD and the iSCSI portals are given. A DHCP management address is not in the spec: the apply
    layer reads it from the live system."""
    return [RoleAddress(link.name, address) for link in spec.links if role in link.roles
            for address in link.addresses]


def portal_addresses(spec: NetworkSpec | None, live: dict[str, list[str]]) -> tuple[str, ...]:
    """Where a target asked to listen on all addresses listens on a cluster node (addresses without prefix): the
    storage links' static addresses; without a storage link, the management link's, static and leased (`live`:
    interface -> its global addresses now); without a saved network (or either link), every live address. The
    cluster and replication links carry no iSCSI."""
    def ips(addresses: Iterable[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(ip for a in addresses if (ip := normal_ip(a)) is not None))

    everything = ips(a for found in live.values() for a in found)
    if spec is None:
        return everything
    management = spec.management()
    managed = ips((*management.addresses, *live.get(management.name, ()))) if management is not None else ()
    return ips(a.address for a in addresses_for(spec, Role.STORAGE)) or managed or everything


def links_for(spec: NetworkSpec, role: Role) -> list[Link]:
    return [link for link in spec.links if role in link.roles]


def members(spec: NetworkSpec) -> dict[str, str]:
    """Interface name -> the bond it belongs to."""
    return {member: bond.name for bond in spec.bonds for member in bond.members}


def lower_devices(spec: NetworkSpec, name: str) -> list[str]:
    """`name` and every device it rests on (a VLAN's parent, a bond's members), top first; unknown names are kept
    (validation reports them)."""
    out: list[str] = []
    todo = [name]
    while todo:
        current = todo.pop(0)
        if current in out:
            continue
        out.append(current)
        for vlan in spec.vlans:
            if vlan.name == current:
                todo.append(vlan.parent)
        for bond in spec.bonds:
            if bond.name == current:
                todo.extend(bond.members)
    return out
