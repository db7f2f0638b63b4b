"""Would a network change cut the management connection? (pure) The apply layer asks `assess(current, new)`
before it writes anything; when the answer cuts, it asks the admin to confirm, applies, and restores the previous
files by itself unless the change is confirmed within `confirm_within` seconds (from a session on one of
`confirm_on`, which proves the new management address answers).

What cuts (each gives a reason): the management role moving to another link; the management link losing one of its
static addresses, DHCP being switched on or off on it, or its default gateway changing; and, for the management
link's device and every device under it (a VLAN's parent, a bond's members): the device going away or becoming
another kind, a port matched by another MAC or made a bond member, an MTU change, a bond's mode, LACP rate or
members removed (networkd creates a .netdev's device once: changing its kind settings means deleting and creating
it again), a VLAN's id or parent. Optionally `session_ip`, the local address the admin's session came in on: its
disappearing cuts too, whatever link it was on.

What does not cut: new addresses, name servers, NTP, time zone, host name, other links, members added to a bond,
miimon, the transmit hash policy and the primary member (the kernel changes these on a running bond)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sanappliance.errors import INVALID, SanError

from .model import Bond, Interface, Link, NetworkSpec, Vlan, lower_devices, members

CONFIRM_WITHIN = 120  # seconds before an unconfirmed change is rolled back


@dataclass(frozen=True)
class Impact:
    cuts: bool  # the change may cut the management connection: confirm, apply, roll back unless confirmed
    reasons: tuple[str, ...] = ()  # why, for the admin ("eth0: MTU 1500 -> 9000")
    confirm_on: tuple[str, ...] = ()  # the new management addresses (IPs) a confirmation is expected from
    confirm_within: int = 0  # seconds; 0 when no confirmation is needed

    @property
    def needs_confirmation(self) -> bool:
        return self.cuts


def _ips(link: Link | None) -> set[str]:
    return {str(ipaddress.ip_interface(a).ip) for a in link.addresses} if link else set()


def _kind(device: Interface | Bond | Vlan) -> str:
    return type(device).__name__.lower()


def _mtu(value: int | None) -> str:
    return "default" if value is None else str(value)


def _device_changes(name: str, old: Interface | Bond | Vlan, new: Interface | Bond | Vlan | None,
                    new_owner: str | None, old_owner: str | None) -> list[str]:
    if new is None:
        return [f"{name}: removed (the port goes down)"]
    if _kind(old) != _kind(new):
        return [f"{name}: becomes a {_kind(new)} (was a {_kind(old)})"]
    out = []
    if old.mtu != new.mtu:
        out.append(f"{name}: MTU {_mtu(old.mtu)} -> {_mtu(new.mtu)}")
    if isinstance(old, Interface) and isinstance(new, Interface):
        if (old.mac or "").lower() != (new.mac or "").lower():
            out.append(f"{name}: matched by MAC {new.mac or 'none'} (was {old.mac or 'none'})")
        if new_owner != old_owner and new_owner is not None:
            out.append(f"{name}: becomes a member of {new_owner}")
    if isinstance(old, Bond) and isinstance(new, Bond):
        if old.mode != new.mode:
            out.append(f"{name}: bond mode {old.mode.value} -> {new.mode.value} (the bond is created again)")
        if old.lacp_rate != new.lacp_rate:
            out.append(f"{name}: LACP rate changes (the bond is created again)")
        gone = [m for m in old.members if m not in new.members]
        if gone:
            out.append(f"{name}: member(s) {', '.join(gone)} removed")
    if isinstance(old, Vlan) and isinstance(new, Vlan) and (old.id, old.parent) != (new.id, new.parent):
        out.append(f"{name}: VLAN {old.id} on {old.parent} -> VLAN {new.id} on {new.parent} (created again)")
    return out


def _find(spec: NetworkSpec, name: str) -> Interface | Bond | Vlan | None:
    return next((d for d in (*spec.interfaces, *spec.bonds, *spec.vlans) if d.name == name), None)


def assess(current: NetworkSpec | None, new: NetworkSpec, session_ip: str | None = None) -> Impact:
    """Assess two valid specs. `current` None (first boot: nothing configured yet, the admin is on the console):
    nothing to cut."""
    new_mgmt = new.management()
    confirm_on = tuple(sorted(_ips(new_mgmt)))
    if current is None:
        return Impact(False, (), confirm_on)
    reasons: list[str] = []
    old_mgmt = current.management()
    if old_mgmt is not None:
        if new_mgmt is None or new_mgmt.name != old_mgmt.name:
            reasons.append(f"the management role moves from {old_mgmt.name} to "
                           f"{new_mgmt.name if new_mgmt else 'no link'}")
        new_link = new.link(old_mgmt.name)
        gone = sorted(_ips(old_mgmt) - _ips(new_link))
        if gone:
            reasons.append(f"{old_mgmt.name}: address(es) {', '.join(gone)} removed")
        if new_link is not None and new_link.dhcp != old_mgmt.dhcp:
            reasons.append(f"{old_mgmt.name}: DHCP switched {'on' if new_link.dhcp else 'off'}")
        if new_link is not None and set(new_link.gateways) != set(old_mgmt.gateways):
            reasons.append(f"{old_mgmt.name}: default gateway {', '.join(old_mgmt.gateways) or 'none'} -> "
                           f"{', '.join(new_link.gateways) or 'none'}")
        old_owner, new_owner = members(current), members(new)
        for name in lower_devices(current, old_mgmt.name):
            old = _find(current, name)
            if old is not None:
                reasons += _device_changes(name, old, _find(new, name), new_owner.get(name), old_owner.get(name))
    if session_ip is not None:
        try:
            ip = str(ipaddress.ip_address(session_ip))
        except ValueError:
            raise SanError("not an IPv4 or IPv6 address", field="session_ip", value=session_ip, kind=INVALID) from None
        if not any(ip in _ips(link) for link in new.links) and not (new_mgmt is not None and new_mgmt.dhcp and
                                                                     old_mgmt is not None and old_mgmt.dhcp):
            reasons.append(f"this session's address {ip} is not in the new configuration")
    reasons = list(dict.fromkeys(reasons))
    if not reasons:
        return Impact(False, (), confirm_on)
    return Impact(True, tuple(reasons), confirm_on, CONFIRM_WITHIN)


def netdevs_to_delete(old: NetworkSpec | None, new: NetworkSpec | None) -> list[str]:
    """Bonds and VLANs that go, or whose kind settings change: networkd creates a netdev once and never changes
    its kind, mode or id afterwards."""
    if old is None:
        return []
    out = []
    wanted: dict[str, Bond | Vlan] = {d.name: d for d in (*new.bonds, *new.vlans)} if new is not None else {}
    for device in (*old.bonds, *old.vlans):
        other = wanted.get(device.name)
        if other is None or type(other) is not type(device):
            out.append(device.name)
        elif isinstance(device, Bond) and isinstance(other, Bond):
            if (device.mode, device.lacp_rate) != (other.mode, other.lacp_rate):
                out.append(device.name)
        elif isinstance(device, Vlan) and isinstance(other, Vlan) and (device.id, device.parent) != (other.id,
                                                                                                    other.parent):
            out.append(device.name)
    return out
