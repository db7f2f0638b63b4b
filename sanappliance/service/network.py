"""Service commands of the appliance's network: show it, change it (ports, bonds, VLANs, their roles, addresses and
MTU; host name, time zone, NTP), first boot, and the safety rule: a change that may cut the management connection
(network.change.assess) is made only when confirmed, and rolls back by itself unless `confirm` follows within the
time. Every change is validated as a whole first (nothing changes on a problem), then written and applied without a
reboot, then the spec is kept (/etc/sanappliance/network.json)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sanappliance.errors import CONFLICT, INVALID, NOT_FOUND, SanError
from sanappliance.network import render
from sanappliance.network.change import Impact, assess, netdevs_to_delete
from sanappliance.network.model import (
    Bond,
    BondMode,
    FirstBoot,
    HashPolicy,
    Interface,
    LacpRate,
    Link,
    NetworkSpec,
    Role,
    RoleAddress,
    TimeSpec,
    Vlan,
    addresses_for,
)
from sanappliance.network.validate import Facts, validate

from .env import Env
from .system import relisten

MIN_ROLLBACK = 10  # seconds: the shortest confirmation window an admin may ask for


class NetworkHost(Protocol):
    def read_spec(self) -> NetworkSpec | None: ...
    def save_spec(self, spec: NetworkSpec) -> None: ...
    def lock(self, timeout: float = ...) -> AbstractContextManager[Any]: ...
    def facts(self) -> Facts: ...
    def snapshot(self, paths: Iterable[str]) -> Any: ...
    def write_files(self, files: dict[str, str], timezone: str) -> None: ...
    def restore(self, snap: Any) -> None: ...
    def activate(self, old: NetworkSpec | None, new: NetworkSpec | None, hostname: str) -> None: ...
    def live_addresses(self) -> dict[str, list[str]]: ...
    def pending(self) -> dict[str, Any] | None: ...
    def schedule_rollback(self, snap: Any, seconds: int, confirm_on: tuple[str, ...], devices: list[str]) -> float: ...
    def cancel_rollback(self) -> None: ...
    def roll_back(self) -> bool: ...


def live_host() -> NetworkHost:
    from sanappliance.apply.network import NetworkHost as Live

    return Live()


@dataclass(frozen=True)
class NetOutcome:
    spec: NetworkSpec  # the spec in force after the command (the current one on a dry run or a refusal)
    plan: tuple[str, ...]
    dry_run: bool = False
    impact: Impact = field(default_factory=lambda: Impact(False))
    rollback_at: float | None = None  # epoch seconds: rolled back then unless confirmed


def current(host: NetworkHost) -> NetworkSpec | None:
    return host.read_spec()


def _require(host: NetworkHost) -> NetworkSpec:
    spec = host.read_spec()
    if spec is None:
        raise SanError("the network is not configured yet (first boot: `python3 -m sanappliance.shell.firstboot`, "
                       "or `sanctl /network init`)", field="network", kind=NOT_FOUND)
    return spec


def check(spec: NetworkSpec, facts: Facts) -> None:
    """Every problem of the spec, the first one raised naming its field (the others counted in the message)."""
    from sanappliance.network.validate import raise_all

    raise_all(validate(spec, facts))


def plan_for(old: NetworkSpec | None, new: NetworkSpec, existing: Iterable[str] = ()) -> tuple[str, ...]:
    """What applying `new` does, in order (files and commands)."""
    files = render.render_files(new)
    steps = []
    wanted = set(files)
    for path in sorted(set(existing) - wanted):
        steps.append(f"remove {path}")
    steps += [f"write {path}" for path in files]
    steps.append(f"point /etc/localtime at {render.zoneinfo_path(new)}")
    steps += [f"ip link delete {name}" for name in netdevs_to_delete(old, new)]
    steps += ["networkctl reload", "networkctl reconfigure (every port, bond and VLAN present)",
              f"host name {new.hostname}", "restart chrony"]
    return tuple(steps)


def apply_spec(env: Env, host: NetworkHost, new: NetworkSpec, *, confirm: bool = False,
               rollback_seconds: int | None = None, session_ip: str | None = None) -> NetOutcome:
    """Validate `new`, assess it against the spec in force, then write, apply and keep it. A change that may cut
    the management connection needs `confirm`; it is rolled back after `rollback_seconds` (default 120) unless
    `confirm_change` follows."""
    with host.lock():
        return _apply(env, host, host.read_spec(), new, confirm=confirm, rollback_seconds=rollback_seconds,
                      session_ip=session_ip)


def _apply(env: Env, host: NetworkHost, old: NetworkSpec | None, new: NetworkSpec, *, confirm: bool,
           rollback_seconds: int | None, session_ip: str | None) -> NetOutcome:
    check(new, host.facts())
    impact = assess(old, new, session_ip)
    seconds = impact.confirm_within if rollback_seconds is None else rollback_seconds
    if impact.cuts and not MIN_ROLLBACK <= seconds <= 3600:
        raise SanError(f"the confirmation time is {MIN_ROLLBACK}-3600 seconds", field="rollback", value=seconds,
                       kind=INVALID)
    files = render.render_files(new)
    snap = host.snapshot(files)
    plan = plan_for(old, new, [p for p, t in snap.files.items() if t is not None and p.startswith(
        render.NETWORK_DIR)])
    if impact.cuts:
        plan += (f"roll back by itself after {seconds} s unless `sanctl /network confirm` follows",)
    if env.dry_run:
        return NetOutcome(old or new, plan, True, impact)
    pending = host.pending()
    if pending is not None:
        left = max(0, int(float(pending["deadline"]) - time.time()))
        raise SanError(f"a network change waits for confirmation (rolled back in {left} s): `sanctl /network "
                       "confirm` it first, or wait for the rollback", field="network", kind=CONFLICT)
    if old == new:
        return NetOutcome(new, (), False, impact)
    if impact.cuts and not confirm:
        raise SanError("this change may cut the management connection (" + "; ".join(impact.reasons) + "): give "
                       f"confirm=yes to make it anyway; it is rolled back after {seconds} s unless `sanctl /network "
                       "confirm` follows (from " + (", ".join(impact.confirm_on) or "the new DHCP address") + ")",
                       field="network", value="confirm", kind=INVALID)
    devices = sorted({d.name for s in (old, new) if s is not None for d in (*s.interfaces, *s.bonds, *s.vlans)})
    deadline = host.schedule_rollback(snap, seconds, impact.confirm_on, devices) if impact.cuts else None
    try:
        host.write_files(files, new.time.timezone)
        host.save_spec(new)
        host.activate(old, new, new.hostname)
    except SanError as exc:
        try:
            if impact.cuts:
                host.roll_back()
            else:
                host.restore(snap)
                host.activate(new, old, old.hostname if old else "")
        except SanError as again:
            raise SanError(f"{exc.message}; restoring the previous files also failed: {again.message}",
                           field=exc.field, value=exc.value) from exc
        raise
    # the local targets of a cluster node listen on its addresses: they follow the change
    return NetOutcome(new, plan + relisten(env, locked=True), False, impact, deadline)


def change(env: Env, host: NetworkHost, edit: Callable[[NetworkSpec], NetworkSpec], *, confirm: bool = False,
           rollback_seconds: int | None = None, session_ip: str | None = None) -> NetOutcome:
    """Under the operation lock: the spec in force, edited, applied (see apply_spec)."""
    with host.lock():
        old = _require(host)
        return _apply(env, host, old, edit(old), confirm=confirm, rollback_seconds=rollback_seconds,
                      session_ip=session_ip)


def confirm_change(host: NetworkHost, session_ip: str | None = None) -> str:
    """Keep the change that waits for confirmation (its rollback is cancelled). From a remote session, only on one
    of the new management addresses: that proves the new address answers."""
    with host.lock():
        return _confirm(host, session_ip)


def _confirm(host: NetworkHost, session_ip: str | None) -> str:
    pending = host.pending()
    if pending is None:
        raise SanError("no network change waits for confirmation", field="network", kind=NOT_FOUND)
    on = tuple(pending.get("confirm_on") or ())
    if session_ip is not None and on and session_ip not in on:
        raise SanError("confirm from a session on the new management address (" + ", ".join(on) + ")",
                       field="session_ip", value=session_ip, kind=INVALID)
    host.cancel_rollback()
    return "Network change confirmed: it stays."


def roll_back_now(host: NetworkHost) -> str:
    with host.lock():
        rolled = host.roll_back()
    if not rolled:
        raise SanError("no network change waits for confirmation", field="network", kind=NOT_FOUND)
    return "The previous network configuration is back."


# --- edits (pure: spec in, spec out) -------------------------------------------------------------------------------

def _names(spec: NetworkSpec) -> set[str]:
    return {d.name for d in (*spec.interfaces, *spec.bonds, *spec.vlans)}


def _new_name(spec: NetworkSpec, name: str) -> None:
    if name in _names(spec):
        raise SanError("the name is taken already", field="name", value=name, kind=CONFLICT)


def add_interface(spec: NetworkSpec, name: str, mac: str | None = None, mtu: int | None = None) -> NetworkSpec:
    _new_name(spec, name)
    return replace(spec, interfaces=(*spec.interfaces, Interface(name, mac or None, mtu)))


def add_bond(spec: NetworkSpec, name: str, members: list[str], mode: str = "active-backup", miimon: int | None = None,
             primary: str | None = None, lacp_rate: str | None = None,
             xmit_hash_policy: str | None = None, mtu: int | None = None) -> NetworkSpec:
    _new_name(spec, name)
    bond = Bond(name, tuple(members), _enum(BondMode, mode, "mode"), miimon if miimon is not None else 100,
                primary or None, _enum(LacpRate, lacp_rate, "lacp_rate") if lacp_rate else None,
                _enum(HashPolicy, xmit_hash_policy, "xmit_hash_policy") if xmit_hash_policy else None, mtu)
    return replace(spec, bonds=(*spec.bonds, bond))


def add_vlan(spec: NetworkSpec, name: str, parent: str, vlan_id: int, mtu: int | None = None) -> NetworkSpec:
    _new_name(spec, name)
    return replace(spec, vlans=(*spec.vlans, Vlan(name, parent, vlan_id, mtu)))


def remove_device(spec: NetworkSpec, name: str) -> NetworkSpec:
    """The device and its link (addresses, roles) go; bonds and VLANs that still use it are refused by validation."""
    spec.device(name)
    return replace(spec, interfaces=tuple(i for i in spec.interfaces if i.name != name),
                   bonds=tuple(b for b in spec.bonds if b.name != name),
                   vlans=tuple(v for v in spec.vlans if v.name != name),
                   links=tuple(link for link in spec.links if link.name != name))


DEVICE_SETTINGS = {"interface": ("mac", "mtu"), "bond": ("members", "mode", "miimon", "primary", "lacp_rate",
                                                         "xmit_hash_policy", "mtu"), "vlan": ("parent", "id", "mtu")}
LINK_SETTINGS = ("roles", "dhcp", "addresses", "gateways", "dns", "ipv6_ra")


def set_device(spec: NetworkSpec, name: str, **values: Any) -> NetworkSpec:
    """Device settings by name: mtu (all), mac (ports), members/mode/miimon/primary/lacp_rate/xmit_hash_policy
    (bonds), parent/id (VLANs). None (or "") clears an optional one."""
    device = spec.device(name)
    kind = type(device).__name__.lower()
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in DEVICE_SETTINGS[kind]:
            raise SanError(f"a {kind} has the settings " + ", ".join(DEVICE_SETTINGS[kind]), field=key,
                           value=value, kind=INVALID)
        if value == "":
            value = None
        if key == "mode":
            value = _enum(BondMode, value, key)
        elif key == "lacp_rate" and value is not None:
            value = _enum(LacpRate, value, key)
        elif key == "xmit_hash_policy" and value is not None:
            value = _enum(HashPolicy, value, key)
        elif key == "members":
            value = tuple(value or ())
        changes[key] = value
    new = replace(device, **changes)  # type: ignore[arg-type]
    lists = {"interface": "interfaces", "bond": "bonds", "vlan": "vlans"}
    attr = lists[kind]
    return replace(spec, **{attr: tuple(new if d.name == name else d for d in getattr(spec, attr))})


def set_link(spec: NetworkSpec, name: str, **values: Any) -> NetworkSpec:
    """The addresses and roles of a device: roles (names), dhcp, addresses (with prefix), gateways, dns, ipv6_ra.
    A link left with nothing is dropped."""
    spec.device(name)
    link = spec.link(name) or Link(name)
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in LINK_SETTINGS:
            raise SanError("a link has the settings " + ", ".join(LINK_SETTINGS), field=key, value=value,
                           kind=INVALID)
        if key == "roles":
            value = tuple(_enum(Role, r, "roles") for r in value)
        elif key in ("addresses", "gateways", "dns"):
            value = tuple(value)
        changes[key] = value
    new = replace(link, **changes)
    links = [x for x in spec.links if x.name != name]
    if new != Link(name):
        position = next((i for i, x in enumerate(spec.links) if x.name == name), len(links))
        links.insert(position, new)
    return replace(spec, links=tuple(links))


def set_system(spec: NetworkSpec, hostname: str | None = None, timezone: str | None = None,
               ntp: list[str] | None = None) -> NetworkSpec:
    time_spec = spec.time
    if timezone is not None:
        time_spec = replace(time_spec, timezone=timezone)
    if ntp is not None:
        time_spec = replace(time_spec, ntp_servers=tuple(ntp))
    return replace(spec, hostname=hostname if hostname is not None else spec.hostname, time=time_spec)


def _enum(kind: Any, value: Any, field_name: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        raise SanError("expected one of " + ", ".join(str(m.value) for m in kind), field=field_name, value=value,
                       kind=INVALID) from None


# --- first boot ------------------------------------------------------------------------------------------------------

def simple_spec(hostname: str, interface: str, *, dhcp: bool, address: str | None = None,
                gateway: str | None = None, dns: list[str] | None = None, timezone: str = "UTC",
                ntp: list[str] | None = None) -> NetworkSpec:
    """The spec of the first-boot dialog: one management port, DHCP or a static address."""
    link = Link(interface, (Role.MANAGEMENT,), dhcp=dhcp, addresses=(address,) if address else (),
                gateways=(gateway,) if gateway else (), dns=tuple(dns or ()))
    return NetworkSpec(hostname, interfaces=(Interface(interface),), links=(link,),
                       time=TimeSpec(timezone, tuple(ntp or ())))


class AdminAccount(Protocol):
    def set_password_hash(self, password_hash: str) -> None: ...


def first_boot(env: Env, host: NetworkHost, account: AdminAccount, first: FirstBoot) -> NetOutcome:
    """Apply the first-boot settings: the network spec (as a whole, validated first; nothing configured before is
    taken as nothing to cut when the appliance has no spec yet) and the admin password's hash."""
    if not first.admin_password_hash:
        raise SanError("the admin password has no default: give one", field="admin_password", kind=INVALID)
    with host.lock():
        old = host.read_spec()
        check(first.network, host.facts())
        if old is not None and host.pending() is not None:
            raise SanError("a network change waits for confirmation: confirm it first", field="network",
                           kind=CONFLICT)
        outcome = _apply(env, host, old, first.network, confirm=True, rollback_seconds=None, session_ip=None)
        if not env.dry_run:
            account.set_password_hash(first.admin_password_hash)
        else:
            outcome = replace(outcome, plan=(*outcome.plan, "keep the admin password's hash (API and web page)"))
        return outcome


# --- showing -------------------------------------------------------------------------------------------------------

def live_by_role(spec: NetworkSpec, live: dict[str, list[str]]) -> dict[Role, list[RoleAddress]]:
    """The addresses each role has on the live system: the spec's links, with what the kernel has on them now (a
    DHCP lease included); static addresses not up yet are still listed."""
    out: dict[Role, list[RoleAddress]] = {}
    for role in Role:
        found: list[RoleAddress] = []
        for link in spec.links:
            if role not in link.roles:
                continue
            addresses = list(dict.fromkeys([*link.addresses, *live.get(link.name, [])]))
            found += [RoleAddress(link.name, a) for a in addresses]
        if found:
            out[role] = found
    return out


def banner_text(host: NetworkHost, version: str, hostname: str) -> str:
    from sanappliance.network.banner import banner

    spec = host.read_spec()
    try:
        live = host.live_addresses()
    except SanError:
        live = {}
    if spec is None:  # not configured yet: every port asks DHCP; show what it got as management
        found = [RoleAddress(name, a) for name, addresses in sorted(live.items()) for a in addresses]
        spec = NetworkSpec(hostname, links=(Link("-", (Role.MANAGEMENT,), dhcp=True),))
        return banner(spec, version, {Role.MANAGEMENT: found})
    return banner(spec, version, live_by_role(spec, live))


def describe(host: NetworkHost) -> list[str]:
    """`sanctl /network info`: the spec, what is live, a pending confirmation."""
    spec = host.read_spec()
    if spec is None:
        return ["not configured: every Ethernet port asks DHCP (the image's default)"]
    lines = [f"hostname: {spec.hostname}", f"timezone: {spec.time.timezone}",
             "ntp: " + (", ".join(spec.time.ntp_servers) or "Debian's pool")]
    try:
        live = host.live_addresses()
    except SanError:
        live = {}
    for link in spec.links:
        roles = ", ".join(r.value for r in link.roles) or "no role"
        static = ", ".join(link.addresses) + (" + DHCP" if link.dhcp else "") if link.addresses else (
            "DHCP" if link.dhcp else "no address")
        lines.append(f"link {link.name}: {roles}; {static}; live: {', '.join(live.get(link.name, [])) or 'none'}")
    for role in Role:
        found = addresses_for(spec, role)
        if found:
            lines.append(f"{role.value}: " + ", ".join(f"{a.address} ({a.link})" for a in found))
    pending = host.pending()
    if pending is not None:
        left = max(0, int(float(pending["deadline"]) - time.time()))
        lines.append(f"a change waits for confirmation: rolled back in {left} s unless `sanctl /network confirm`")
    return lines
