"""What `ls` shows under /network (pure): the annotations of the network nodes and their plain listing entries, for
the configshell tree (shell/network.py) and the one-shot `ls` (shell/listing.py) alike."""

from __future__ import annotations

from collections.abc import Callable

from sanappliance.network.model import Bond, Interface, NetworkSpec, Vlan

from .listing import Entry, Summary

NOT_CONFIGURED = "not configured: DHCP on every port"


def network(spec: NetworkSpec | None) -> Summary:
    if spec is None:
        return NOT_CONFIGURED, None
    management = spec.management()
    where = f"management on {management.name}" if management else "no management link"
    return f"{spec.hostname}, {where}, {spec.time.timezone}", None


def interfaces(spec: NetworkSpec | None) -> Summary:
    return f"Interfaces: {len(spec.interfaces) if spec else 0}", None


def bonds(spec: NetworkSpec | None) -> Summary:
    return f"Bonds: {len(spec.bonds) if spec else 0}", None


def vlans(spec: NetworkSpec | None) -> Summary:
    return f"VLANs: {len(spec.vlans) if spec else 0}", None


def _link_text(spec: NetworkSpec, name: str) -> str:
    owner = next((b.name for b in spec.bonds if name in b.members), None)
    if owner is not None:
        return f"member of {owner}"
    link = spec.link(name)
    if link is None:
        return "no address"
    roles = ",".join(r.value for r in link.roles)
    addresses = list(link.addresses) + (["DHCP"] if link.dhcp else [])
    text = " ".join(addresses) or "no address"
    return f"{roles}: {text}" if roles else text


def device(spec: NetworkSpec, name: str) -> Summary:
    found = spec.device(name)
    parts = []
    if isinstance(found, Bond):
        parts.append(f"{found.mode.value} of {','.join(found.members)}")
    elif isinstance(found, Vlan):
        parts.append(f"VLAN {found.id} on {found.parent}")
    elif isinstance(found, Interface) and found.mac:
        parts.append(found.mac.lower())
    if found.mtu is not None:
        parts.append(f"MTU {found.mtu}")
    parts.append(_link_text(spec, name))
    return ", ".join(parts), True


def network_entry(spec_of: Callable[[], NetworkSpec | None]) -> Entry:
    """The /network entry; `spec_of` is called only when shown."""
    cache: list[NetworkSpec | None] = []

    def spec() -> NetworkSpec | None:
        if not cache:
            cache.append(spec_of())
        return cache[0]

    def of(kind: str) -> tuple[Entry, ...]:
        found = spec()
        if found is None:
            return ()
        return tuple(Entry(d.name, lambda d=d: device(found, d.name)) for d in getattr(found, kind))

    return Entry("network", lambda: network(spec()), lambda: (
        Entry("bonds", lambda: bonds(spec()), lambda: of("bonds")),
        Entry("interfaces", lambda: interfaces(spec()), lambda: of("interfaces")),
        Entry("vlans", lambda: vlans(spec()), lambda: of("vlans")),
    ))
