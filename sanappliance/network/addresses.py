"""Address rules of a network spec (pure), part of validate.validate: each link's device, static addresses,
gateways and name servers; duplicate addresses and overlapping subnets across links; a role without an address."""

from __future__ import annotations

import ipaddress
import re

from sanappliance.model.validate import Problems

from .model import Link, NetworkSpec, Role

Iface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def is_host(value: object) -> bool:
    """An IP address or a DNS name (labels of 1-63 letters, digits, hyphens; 253 characters at most)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    return len(name) <= 253 and all(LABEL_RE.match(label) for label in labels) and not labels[-1].isdigit()


def parse_address(value: object, field: str, p: Problems) -> Iface | None:
    """A static address of this machine: unicast, with its prefix, not a subnet's network or broadcast address."""
    if not isinstance(value, str) or "/" not in value:
        p.add("an address is written with its prefix: 10.0.0.1/24, fd00::1/64", field, value)
        return None
    try:
        iface = ipaddress.ip_interface(value)
    except ValueError:
        p.add("not an IPv4 or IPv6 address with prefix", field, value)
        return None
    ip, net = iface.ip, iface.network
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast or ip.is_link_local:
        p.add("not a usable unicast address (loopback, multicast and link-local ones are not configured)", field,
              value)
        return None
    if ip.version == 4 and net.prefixlen <= 30 and ip in (net.network_address, net.broadcast_address):
        p.add(f"that is the network or broadcast address of {net}", field, value)
        return None
    return iface


def _ip(value: object, field: str, what: str, p: Problems) -> Address | None:
    try:
        return ipaddress.ip_address(value)  # type: ignore[arg-type]
    except ValueError:
        p.add(f"{what} is an IPv4 or IPv6 address", field, value)
        return None


def check_links(spec: NetworkSpec, kinds: dict[str, str], owner: dict[str, str], p: Problems) -> None:
    seen_links: dict[str, int] = {}
    seen_ips: dict[Address, str] = {}
    subnets: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str, str]] = []  # net, link, field
    gateway_links: dict[int, str] = {}  # family -> the field of the first default gateway
    for i, link in enumerate(spec.links):
        where = f"links[{i}]"
        if link.name in seen_links:
            p.add(f"links[{seen_links[link.name]}] configures this device already", f"{where}.name", link.name)
        seen_links.setdefault(link.name, i)
        if link.name not in kinds:
            p.add("no such interface, bond or VLAN", f"{where}.name", link.name)
        elif link.name in owner:
            p.add(f"a member of {owner[link.name]} has no addresses or roles of its own: give them to the bond",
                  f"{where}.name", link.name)
        ifaces = []
        for k, text in enumerate(link.addresses):
            field = f"{where}.addresses[{k}]"
            iface = parse_address(text, field, p)
            if iface is None:
                continue
            ifaces.append(iface)
            if iface.ip in seen_ips:
                p.add(f"address used already ({seen_ips[iface.ip]})", field, text)
                continue
            seen_ips[iface.ip] = field
            clash = next((s for s in subnets if s[1] != link.name and s[0].version == iface.version
                          and s[0].overlaps(iface.network)), None)
            if clash:
                p.add(f"the subnet overlaps {clash[0]} of {clash[1]} ({clash[2]}): each link needs its own subnet",
                      field, text)
            subnets.append((iface.network, link.name, field))
        _gateways(link, where, ifaces, gateway_links, p)
        for k, server in enumerate(link.dns):
            _ip(server, f"{where}.dns[{k}]", "a name server", p)
        if len(set(link.dns)) != len(link.dns):
            p.add("name server listed twice", f"{where}.dns", list(link.dns))
        _link_roles(link, where, p)


def _gateways(link: Link, where: str, ifaces: list[Iface], first: dict[int, str], p: Problems) -> None:
    families: set[int] = set()
    for k, text in enumerate(link.gateways):
        field = f"{where}.gateways[{k}]"
        gw = _ip(text, field, "a gateway", p)
        if gw is None:
            continue
        if gw.version in families:
            p.add("one default gateway per address family", field, text)
            continue
        families.add(gw.version)
        if gw.version in first:
            p.add(f"a default gateway is set already ({first[gw.version]}): one per address family", field, text)
            continue
        first[gw.version] = field
        same = [i for i in ifaces if i.version == gw.version]
        if any(gw == i.ip for i in same):
            p.add("the gateway is this machine's own address", field, text)
        elif not (any(gw in i.network for i in same) or (gw.version == 6 and gw.is_link_local)):
            nets = ", ".join(str(i.network) for i in same) or "none"
            p.add(f"the gateway is outside the link's subnets ({nets})", field, text)


def _link_roles(link: Link, where: str, p: Problems) -> None:
    if len(set(link.roles)) != len(link.roles):
        p.add("role listed twice", f"{where}.roles", [r.value for r in link.roles])
    if link.addresses:
        return
    for role in dict.fromkeys(link.roles):
        if role is Role.MANAGEMENT:
            if not link.dhcp:
                p.add("the management link needs a static address or DHCP", f"{where}.addresses", link.name)
        else:
            p.add(f"the {role.value} role needs a static address (DHCP addresses can move)", f"{where}.addresses",
                  link.name)
