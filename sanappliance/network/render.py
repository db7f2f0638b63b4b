"""The files a network spec becomes (pure): systemd-networkd .netdev/.network files and udev .link files,
/etc/chrony/chrony.conf, /etc/hostname. Render only a spec that validates (validate.check). The console banner is in
banner.py.

File names are fixed by the device name (`10-sanappliance-<name>.<kind>`), so a re-render replaces exactly the files
of the same devices; `70-sanappliance-unused.network` keeps every other Ethernet port down (before the image's
80-sanappliance-dhcp.network, which asks DHCP on every port until a spec is applied)."""

from __future__ import annotations

import ipaddress

from .model import Bond, Interface, Link, NetworkSpec, Vlan, members

NETWORK_DIR = "/etc/systemd/network"
CHRONY_CONF = "/etc/chrony/chrony.conf"
HOSTNAME = "/etc/hostname"
PREFIX = "10-sanappliance-"
UNUSED = "70-sanappliance-unused.network"
HEADER = "# Written by sanappliance from the network spec: changes made here are overwritten.\n"
DEBIAN_POOL = "pool 2.debian.pool.ntp.org iburst"


def _file(sections: list[tuple[str, list[tuple[str, object]]]]) -> str:
    """An INI-style systemd file; keys with value None are left out, and so are sections left empty."""
    blocks = []
    for name, pairs in sections:
        lines = [f"{key}={value}" for key, value in pairs if value is not None]
        if lines:
            blocks.append(f"[{name}]\n" + "\n".join(lines) + "\n")
    return HEADER + "\n".join(blocks)


def networkd_files(spec: NetworkSpec) -> dict[str, str]:
    """File name (in NETWORK_DIR) -> text, sorted by name."""
    files: dict[str, str] = {}
    for iface in spec.interfaces:
        if iface.mac:
            files[f"{PREFIX}{iface.name}.link"] = render_link_file(iface)
    for bond in spec.bonds:
        files[f"{PREFIX}{bond.name}.netdev"] = render_bond_netdev(bond)
    for vlan in spec.vlans:
        files[f"{PREFIX}{vlan.name}.netdev"] = render_vlan_netdev(vlan)
    for device in (*spec.interfaces, *spec.bonds, *spec.vlans):
        files[f"{PREFIX}{device.name}.network"] = render_network(spec, device.name)
    files[UNUSED] = render_unused()
    return dict(sorted(files.items()))


def render_link_file(iface: Interface) -> str:
    """udev: the port with this permanent MAC address gets the spec's name (at its next add event or boot)."""
    return _file([("Match", [("PermanentMACAddress", iface.mac.lower() if iface.mac else None)]),
                  ("Link", [("Name", iface.name)])])


def render_bond_netdev(bond: Bond) -> str:
    return _file([
        ("NetDev", [("Name", bond.name), ("Kind", "bond")]),
        ("Bond", [("Mode", bond.mode.value),
                  ("MIIMonitorSec", f"{bond.miimon}ms"),
                  ("PrimaryReselectPolicy", "always" if bond.primary else None),
                  ("LACPTransmitRate", bond.lacp_rate.value if bond.lacp_rate else None),
                  ("TransmitHashPolicy", bond.xmit_hash_policy.value if bond.xmit_hash_policy else None)]),
    ])


def render_vlan_netdev(vlan: Vlan) -> str:
    return _file([("NetDev", [("Name", vlan.name), ("Kind", "vlan")]), ("VLAN", [("Id", vlan.id)])])


def _match(spec: NetworkSpec, name: str) -> list[tuple[str, object]]:
    iface = next((i for i in spec.interfaces if i.name == name), None)
    if iface is not None and iface.mac:
        return [("PermanentMACAddress", iface.mac.lower())]  # keeps matching after the bond changes its MAC
    return [("Name", name)]


def render_network(spec: NetworkSpec, name: str) -> str:
    """The .network of one device: a bond member (Bond=), a link with addresses, or a device without addresses of
    its own (a VLAN parent, or a port kept up unused)."""
    device = spec.device(name)
    bond = members(spec).get(name)
    link = spec.link(name) or Link(name)
    network: list[tuple[str, object]] = []
    if bond is not None:
        primary = next(b.primary for b in spec.bonds if b.name == bond) == name
        network += [("Bond", bond), ("PrimarySlave", "yes" if primary else None)]
    ipv6 = link.ipv6_ra or any(ipaddress.ip_interface(a).version == 6 for a in link.addresses)
    if bond is None:
        network += [("DHCP", "ipv4" if link.dhcp else "no"),
                    ("LinkLocalAddressing", "ipv6" if ipv6 else "no"),
                    ("IPv6AcceptRA", "yes" if link.ipv6_ra else "no")]
        network += [("Address", a) for a in link.addresses]
        network += [("Gateway", g) for g in link.gateways]
        network += [("DNS", d) for d in link.dns]
    else:
        network += [("LinkLocalAddressing", "no"), ("IPv6AcceptRA", "no")]
    network += [("VLAN", v.name) for v in spec.vlans if v.parent == name]
    role_note = ", ".join(r.value for r in link.roles)
    text = _file([("Match", _match(spec, name)),
                  ("Link", [("MTUBytes", device.mtu)]),
                  ("Network", network)])
    return text.replace(HEADER, HEADER + f"# roles: {role_note}\n", 1) if role_note else text


def render_unused() -> str:
    """Every other Ethernet port: down, without addresses (no DHCP default route beside the management one)."""
    return _file([("Match", [("Type", "ether")]),
                  ("Link", [("ActivationPolicy", "down"), ("RequiredForOnline", "no")]),
                  ("Network", [("DHCP", "no"), ("LinkLocalAddressing", "no"), ("IPv6AcceptRA", "no")])])


def render_chrony(spec: NetworkSpec) -> str:
    """chrony.conf: Debian's, with the spec's servers instead of Debian's pool when there are any. DHCP's servers
    (/run/chrony-dhcp) are used when the management link asks DHCP."""
    servers = [f"server {s} iburst" for s in spec.time.ntp_servers] or [DEBIAN_POOL]
    management = spec.management()
    lines = [HEADER.rstrip("\n"), *servers]
    if management is not None and management.dhcp:
        lines.append("sourcedir /run/chrony-dhcp")
    lines += ["sourcedir /etc/chrony/sources.d", "keyfile /etc/chrony/chrony.keys",
              "driftfile /var/lib/chrony/chrony.drift", "ntsdumpdir /var/lib/chrony", "logdir /var/log/chrony",
              "maxupdateskew 100.0", "rtcsync", "makestep 1 3",
              "leapseclist /usr/share/zoneinfo/leap-seconds.list", "confdir /etc/chrony/conf.d"]
    return "\n".join(lines) + "\n"


def render_hostname(spec: NetworkSpec) -> str:
    return spec.hostname + "\n"


def zoneinfo_path(spec: NetworkSpec) -> str:
    """Where /etc/localtime points (timedatectl set-timezone does the same)."""
    return f"/usr/share/zoneinfo/{spec.time.timezone}"


def render_files(spec: NetworkSpec) -> dict[str, str]:
    """Absolute path -> text of every file the spec writes."""
    files = {f"{NETWORK_DIR}/{name}": text for name, text in networkd_files(spec).items()}
    files[CHRONY_CONF] = render_chrony(spec)
    files[HOSTNAME] = render_hostname(spec)
    return files
