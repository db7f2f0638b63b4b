"""Validation of a network spec (pure): every problem, each naming its field (`links[1].addresses[0]`) and value.
Nothing is rendered or changed unless this returns no problem. Address rules are in addresses.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sanappliance.errors import SanError
from sanappliance.model.validate import Problems, duplicates

from . import addresses
from .model import SCHEMA_VERSION, Bond, BondMode, Interface, NetworkSpec, Role, Vlan

HOSTNAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")  # one label: also the cluster's and its nodes' names
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")  # IFNAMSIZ 16 with the NUL; no / : or whitespace
RESERVED_IFNAMES = frozenset((".", "..", "lo", "all", "default", "bonding_masters"))  # sysctl dirs, bonding sysfs
KERNEL_NAME_RE = re.compile(r"^eth\d+$")  # the kernel's own names: renaming to one of them races the kernel
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
TIMEZONE_RE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+){0,2}$")
MTU = (576, 9000)  # IPv4's minimum datagram; jumbo frames
MTU_IPV6 = 1280
DEFAULT_MTU = 1500
MIIMON = (10, 10000)  # ms
VLAN_ID = (1, 4094)
MAX_CLUSTER_LINKS = 2
MAX_NTP_SERVERS = 8
PRIMARY_MODES = (BondMode.ACTIVE_BACKUP, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB)
HASH_MODES = (BondMode.BALANCE_XOR, BondMode.LACP, BondMode.BALANCE_TLB)


@dataclass(frozen=True)
class Facts:
    """What validation may know of the live system (gathered by the apply layer; None: unknown, not checked)."""

    interfaces: dict[str, str] | None = None  # kernel name -> permanent MAC of the physical ports present
    timezones: frozenset[str] | None = None  # the names in /usr/share/zoneinfo


def _int(value: object, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def check_hostname(value: object, field: str, p: Problems) -> None:
    if not isinstance(value, str) or not HOSTNAME_RE.match(value):
        p.add("a host name is 1-63 of a-z 0-9 -, lowercase, no leading or trailing -", field, value)


def check_ifname(value: object, field: str, p: Problems) -> bool:
    if not isinstance(value, str) or not IFNAME_RE.match(value) or value in RESERVED_IFNAMES or value.isdigit():
        p.add("an interface name is 1-15 of A-Z a-z 0-9 _ . - (not only digits, not lo, all, default)", field, value)
        return False
    return True


def validate(spec: NetworkSpec, facts: Facts | None = None) -> list[SanError]:
    facts = facts or Facts()
    p = Problems()
    if spec.schema != SCHEMA_VERSION:
        p.add(f"schema version {SCHEMA_VERSION} expected", "schema", spec.schema)
    check_hostname(spec.hostname, "hostname", p)
    kinds = _names(spec, p)
    for i, iface in enumerate(spec.interfaces):
        _interface(iface, f"interfaces[{i}]", facts, p)
    for mac in duplicates(i.mac.lower() for i in spec.interfaces if isinstance(i.mac, str)):
        p.add("two interfaces match the same MAC address", "interfaces.mac", mac)
    owner: dict[str, str] = {}
    for i, bond in enumerate(spec.bonds):
        _bond(spec, bond, f"bonds[{i}]", kinds, owner, p)
    for i, vlan in enumerate(spec.vlans):
        _vlan(vlan, f"vlans[{i}]", kinds, owner, p)
    for (parent, vid) in duplicates((v.parent, v.id) for v in spec.vlans):
        p.add(f"VLAN id {vid} is used twice on {parent}", "vlans.id", vid)
    _mtus(spec, p)
    addresses.check_links(spec, kinds, owner, p)
    _roles(spec, p)
    _time(spec, facts, p)
    return p.items


def _names(spec: NetworkSpec, p: Problems) -> dict[str, str]:
    """name -> kind (interface, bond, vlan) of every device; each name checked once."""
    kinds: dict[str, str] = {}
    for kind, devices in (("interface", spec.interfaces), ("bond", spec.bonds), ("vlan", spec.vlans)):
        for i, device in enumerate(devices):
            field = f"{kind}s[{i}].name"
            if not check_ifname(device.name, field, p):
                continue
            if device.name in kinds:
                article = "an" if kinds[device.name] == "interface" else "a"
                p.add(f"the name is taken already ({article} {kinds[device.name]})", field, device.name)
                continue
            kinds[device.name] = kind
    return kinds


def _interface(iface: Interface, where: str, facts: Facts, p: Problems) -> None:
    if iface.mac is not None:
        mac = iface.mac
        if not isinstance(mac, str) or not MAC_RE.match(mac) or int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":
            p.add("a MAC address is six hex pairs with colons (unicast, not all zero)", f"{where}.mac", mac)
        if isinstance(iface.name, str) and KERNEL_NAME_RE.match(iface.name):
            p.add("an interface matched by MAC is renamed: pick a name outside the kernel's ethN (e.g. lan0, mgmt0)",
                  f"{where}.name", iface.name)
    if facts.interfaces is None:
        return
    if iface.mac is not None:
        if isinstance(iface.mac, str) and iface.mac.lower() not in {m.lower() for m in facts.interfaces.values()}:
            p.add("no port with this MAC address on this machine", f"{where}.mac", iface.mac)
    elif iface.name not in facts.interfaces:
        known = ", ".join(sorted(facts.interfaces)) or "none"
        p.add(f"no such port on this machine (present: {known})", f"{where}.name", iface.name)


def _bond(spec: NetworkSpec, bond: Bond, where: str, kinds: dict[str, str], owner: dict[str, str],
          p: Problems) -> None:
    if not bond.members:
        p.add("a bond needs at least one member interface", f"{where}.members", len(bond.members))
    for k, member in enumerate(bond.members):
        field = f"{where}.members[{k}]"
        kind = kinds.get(member)
        if kind is None:
            p.add("no such interface", field, member)
        elif kind != "interface":
            p.add(f"bond members are interfaces, not a {kind}", field, member)
        elif member in owner:
            p.add(f"the interface is a member of {owner[member]} already", field, member)
        else:
            owner[member] = bond.name
    if not _int(bond.miimon, *MIIMON):
        p.add(f"the link check interval (miimon) is {MIIMON[0]}-{MIIMON[1]} ms", f"{where}.miimon", bond.miimon)
    if bond.primary is not None:
        if bond.mode not in PRIMARY_MODES:
            p.add("a primary member needs mode " + ", ".join(m.value for m in PRIMARY_MODES), f"{where}.primary",
                  bond.primary)
        elif bond.primary not in bond.members:
            p.add("the primary is one of the bond's members", f"{where}.primary", bond.primary)
    if bond.lacp_rate is not None and bond.mode is not BondMode.LACP:
        p.add("the LACP rate applies to mode 802.3ad only", f"{where}.lacp_rate", bond.lacp_rate.value)
    if bond.xmit_hash_policy is not None and bond.mode not in HASH_MODES:
        p.add("a transmit hash policy applies to modes " + ", ".join(m.value for m in HASH_MODES),
              f"{where}.xmit_hash_policy", bond.xmit_hash_policy.value)


def _vlan(vlan: Vlan, where: str, kinds: dict[str, str], owner: dict[str, str], p: Problems) -> None:
    kind = kinds.get(vlan.parent)
    if kind is None:
        p.add("no such interface or bond", f"{where}.parent", vlan.parent)
    elif kind == "vlan":
        p.add("a VLAN rests on an interface or a bond, not on another VLAN", f"{where}.parent", vlan.parent)
    elif vlan.parent in owner:
        p.add(f"the interface is a member of {owner[vlan.parent]}: put the VLAN on the bond", f"{where}.parent",
              vlan.parent)
    if not _int(vlan.id, *VLAN_ID):
        p.add(f"a VLAN id is {VLAN_ID[0]}-{VLAN_ID[1]}", f"{where}.id", vlan.id)


def _mtus(spec: NetworkSpec, p: Problems) -> None:
    ipv6 = {link.name for link in spec.links if link.ipv6_ra or any(":" in str(a) for a in link.addresses)}
    effective: dict[str, int] = {}
    for kind, devices in (("interfaces", spec.interfaces), ("bonds", spec.bonds), ("vlans", spec.vlans)):
        for i, device in enumerate(devices):
            mtu = device.mtu
            effective[device.name] = mtu if _int(mtu, *MTU) else DEFAULT_MTU  # type: ignore[assignment]
            if mtu is None:
                continue
            low = MTU_IPV6 if device.name in ipv6 else MTU[0]
            if not _int(mtu, low, MTU[1]):
                p.add(f"an MTU is {low}-{MTU[1]}" + (" (IPv6 needs 1280)" if low == MTU_IPV6 else ""),
                      f"{kind}[{i}].mtu", mtu)
    for i, bond in enumerate(spec.bonds):
        for k, member in enumerate(bond.members):
            iface = next((x for x in spec.interfaces if x.name == member), None)
            if iface is not None and iface.mtu is not None and iface.mtu != effective[bond.name]:
                p.add(f"a member's MTU is its bond's ({effective[bond.name]}): leave it unset",
                      f"bonds[{i}].members[{k}]", member)
    for i, vlan in enumerate(spec.vlans):
        parent = effective.get(vlan.parent)
        if parent is not None and vlan.mtu is not None and _int(vlan.mtu, *MTU) and vlan.mtu > parent:
            p.add(f"a VLAN's MTU is at most its parent's ({parent})", f"vlans[{i}].mtu", vlan.mtu)


def _roles(spec: NetworkSpec, p: Problems) -> None:
    management = [i for i, link in enumerate(spec.links) if Role.MANAGEMENT in link.roles]
    if not management:
        p.add("exactly one link has the management role (the web page and the API listen there)", "links",
              len(spec.links))
    for i in management[1:]:
        p.add(f"the management role is on links[{management[0]}] already", f"links[{i}].roles",
              spec.links[i].name)
    cluster = [i for i, link in enumerate(spec.links) if Role.CLUSTER in link.roles]
    for i in cluster[MAX_CLUSTER_LINKS:]:
        p.add(f"corosync uses at most {MAX_CLUSTER_LINKS} cluster links", f"links[{i}].roles", spec.links[i].name)


def _time(spec: NetworkSpec, facts: Facts, p: Problems) -> None:
    tz = spec.time.timezone
    if not isinstance(tz, str) or len(tz) > 64 or not TIMEZONE_RE.match(tz):
        p.add("a time zone is a tz database name such as UTC or Europe/Berlin", "time.timezone", tz)
    elif facts.timezones is not None and tz not in facts.timezones:
        p.add("no such time zone in the tz database", "time.timezone", tz)
    servers = spec.time.ntp_servers
    if len(servers) > MAX_NTP_SERVERS:
        p.add(f"at most {MAX_NTP_SERVERS} NTP servers", "time.ntp_servers", len(servers))
    for i, server in enumerate(servers):
        if not addresses.is_host(server):
            p.add("an NTP server is a host name or an IP address", f"time.ntp_servers[{i}]", server)
    for server in duplicates(servers):
        p.add("NTP server listed twice", "time.ntp_servers", server)


def check(spec: NetworkSpec, facts: Facts | None = None) -> None:
    """Raise the first problem (all of them in the message) if the spec is not valid."""
    raise_all(validate(spec, facts))


def raise_all(problems: list[SanError]) -> None:
    if problems:
        first = problems[0]
        message = first.message if len(problems) == 1 else (
            f"{first.message} (and {len(problems) - 1} more: " + "; ".join(str(x) for x in problems[1:4]) + ")")
        raise SanError(message, field=first.field, value=first.value, kind=first.kind)
