"""The /network node of the sanctl tree: ports, bonds and VLANs with their roles, addresses and MTU; the host name,
time zone and NTP servers; the confirmation of a change that may cut the management connection."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from configshell_fb import ExecutionError

from sanappliance.errors import SanError
from sanappliance.network.model import NetworkSpec
from sanappliance.service import network

from . import netlisting
from .base import SanNode

SAFETY = ("confirm", "rollback")


def session_ip() -> str | None:
    """The local address of the admin's SSH session (None on the console)."""
    parts = os.environ.get("SSH_CONNECTION", "").split()
    return parts[2] if len(parts) == 4 else None


def _list(value: Any) -> list[str]:
    return [item.strip() for item in str(value).split(",") if item.strip()] if value not in (None, "") else []


def _int(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ExecutionError(f"{field}: a whole number, not {value!r}") from None


class UINetBase(SanNode):
    def host(self) -> network.NetworkHost:
        return network.live_host()

    def spec(self) -> NetworkSpec | None:
        try:
            return network.current(self.host())
        except SanError as exc:
            raise ExecutionError(str(exc)) from None

    def change(self, done: str, edit: Callable[[NetworkSpec], NetworkSpec], confirm: Any = None,
               rollback: Any = None) -> None:
        """One validated change of the spec; a change that may cut management needs confirm=yes."""
        confirmed = self.parse_bool(confirm, "confirm") if confirm is not None else False
        outcome = self.call(done, network.change, self.host(), edit, confirm=confirmed,
                            rollback_seconds=_int(rollback, "rollback"), session_ip=session_ip())
        self.report(outcome)  # type: ignore[arg-type]

    def report(self, outcome: network.NetOutcome) -> None:
        if outcome.impact.cuts:
            for reason in outcome.impact.reasons:
                self.ctx.write(f"  may cut management: {reason}")
        if outcome.rollback_at is not None:
            left = max(0, int(outcome.rollback_at - time.time()))
            on = ", ".join(outcome.impact.confirm_on) or "the new DHCP address"
            self.ctx.write(f"Rolled back in {left} s unless confirmed: `sanctl /network confirm` (from {on}).")

    def split_safety(self, params: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
        rest = {k: v for k, v in params.items() if k not in SAFETY}
        return rest, params.get("confirm"), params.get("rollback")


class UINetwork(UINetBase):
    """The appliance's networks: ports, bonds, VLANs; each with roles (management, cluster, replication, storage),
    addresses and MTU. Host name, time zone and NTP: `set system`. A change that may cut the management connection
    needs confirm=yes and is rolled back after 120 s (rollback=SECONDS) unless `confirm` follows."""

    def __init__(self, parent: SanNode) -> None:
        super().__init__("network", parent)
        for name, text in (("hostname", "The host name (one lowercase label)."),
                           ("timezone", "A tz database name: UTC, Europe/Berlin."),
                           ("ntp", "NTP servers, comma-separated (empty: Debian's pool).")):
            self.define_config_group_param("system", name, "string", text)

    def build(self) -> None:
        UIBonds(self)
        UIInterfaces(self)
        UIVlans(self)

    def summary(self) -> tuple[str, bool | None]:
        return netlisting.network(self.spec())

    def ui_command_info(self) -> None:
        """info: host name, time, each link with its roles and static and live addresses, a pending confirmation."""
        try:
            lines = network.describe(self.host())
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        for line in lines:
            self.ctx.write(line)

    def ui_command_init(self, hostname: str, interface: str, dhcp: str = "yes", address: str | None = None,
                        gateway: str | None = None, dns: str | None = None, timezone: str = "UTC",
                        ntp: str | None = None) -> None:
        """init HOSTNAME INTERFACE [dhcp=yes|no] [address=ADDR/PREFIX] [gateway=ADDR] [dns=ADDR,...]
        [timezone=TZ] [ntp=SERVER,...]: the first network spec (one management port), when there is none yet. The
        admin password is set by the first-boot setup (python3 -m sanappliance.shell.firstboot)."""
        if self.spec() is not None:
            raise ExecutionError("network: configured already (change it with set, create and delete)")
        spec = network.simple_spec(hostname, interface, dhcp=self.parse_bool(dhcp, "dhcp"), address=address,
                                   gateway=gateway, dns=_list(dns), timezone=timezone, ntp=_list(ntp))
        self.report(self.call(f"Network configured: {hostname} on {interface}.", network.apply_spec,  # type: ignore
                              self.host(), spec))

    def ui_command_set(self, group: str | None = None, **parameter: Any) -> None:
        """set system hostname=NAME timezone=TZ ntp=SERVER,... : the host name and time (in one change); other
        groups as in every node (`set global ...`)."""
        if group != "system" or not parameter:
            return super().ui_command_set(group, **parameter)  # type: ignore[no-any-return]
        params, confirm, rollback = self.split_safety(parameter)
        unknown = set(params) - {"hostname", "timezone", "ntp"}
        if unknown:
            raise ExecutionError(f"Unknown parameter {sorted(unknown)[0]} in group 'system'.")
        ntp = _list(params["ntp"]) if "ntp" in params else None
        self.change("Network settings changed.", lambda s: network.set_system(
            s, params.get("hostname"), params.get("timezone"), ntp), confirm, rollback)
        return None

    def ui_getgroup_system(self, name: str) -> Any:
        spec = self.spec()
        if spec is None:
            return ""
        return {"hostname": spec.hostname, "timezone": spec.time.timezone,
                "ntp": ",".join(spec.time.ntp_servers)}[name]

    def ui_setgroup_system(self, name: str, value: Any) -> None:
        self.ui_command_set("system", **{name: value})

    def ui_command_confirm(self) -> None:
        """confirm: keep the network change that waits for confirmation (its automatic rollback is cancelled)."""
        try:
            self.ctx.write(network.confirm_change(self.host(), session_ip()))
        except SanError as exc:
            raise ExecutionError(str(exc)) from None

    def ui_command_rollback(self) -> None:
        """rollback: undo the network change that waits for confirmation now."""
        try:
            self.ctx.write(network.roll_back_now(self.host()))
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        self.get_root().refresh()


class UIDevices(UINetBase):
    kind = ""

    def build(self) -> None:
        spec = self.spec()
        for device in getattr(spec, self.name) if spec else ():
            UIDevice(device.name, self)

    def ui_command_delete(self, name: str, confirm: str | None = None, rollback: str | None = None) -> None:
        """delete NAME [confirm=yes] [rollback=SECONDS]: remove it with its addresses and roles."""
        self.change(f"Deleted {self.kind} {name}.", lambda s: network.remove_device(s, name), confirm, rollback)

    def ui_complete_delete(self, parameters: dict[str, Any], text: str, current_param: str) -> list[str]:
        spec = self.spec()
        return [d.name for d in getattr(spec, self.name) if d.name.startswith(text)] if spec else []


class UIInterfaces(UIDevices):
    """Physical ports, by kernel name (eth0, enp1s0), or matched by permanent MAC and named (lan0)."""

    kind = "interface"

    def __init__(self, parent: SanNode) -> None:
        super().__init__("interfaces", parent)

    def summary(self) -> tuple[str, bool | None]:
        return netlisting.interfaces(self.spec())

    def ui_command_create(self, name: str, mac: str | None = None, mtu: str | None = None,
                          confirm: str | None = None, rollback: str | None = None) -> None:
        """create NAME [mac=MAC] [mtu=BYTES]: a port (with mac: the port with that permanent MAC, renamed NAME)."""
        self.change(f"Created interface {name}.", lambda s: network.add_interface(s, name, mac, _int(mtu, "mtu")),
                    confirm, rollback)


class UIBonds(UIDevices):
    """Bonds of ports (Linux bonding: active-backup, 802.3ad, balance-alb, ...)."""

    kind = "bond"

    def __init__(self, parent: SanNode) -> None:
        super().__init__("bonds", parent)

    def summary(self) -> tuple[str, bool | None]:
        return netlisting.bonds(self.spec())

    def ui_command_create(self, name: str, members: str, mode: str = "active-backup", miimon: str | None = None,
                          primary: str | None = None, lacp_rate: str | None = None,
                          xmit_hash_policy: str | None = None, mtu: str | None = None, confirm: str | None = None,
                          rollback: str | None = None) -> None:
        """create NAME members=PORT,PORT [mode=active-backup|802.3ad|balance-alb|...] [miimon=MS] [primary=PORT]
        [lacp_rate=slow|fast] [xmit_hash_policy=layer3+4|...] [mtu=BYTES]: a bond of declared ports."""
        self.change(f"Created bond {name}.", lambda s: network.add_bond(
            s, name, _list(members), mode, _int(miimon, "miimon"), primary, lacp_rate, xmit_hash_policy,
            _int(mtu, "mtu")), confirm, rollback)


class UIVlans(UIDevices):
    """802.1Q VLANs on a port or a bond."""

    kind = "vlan"

    def __init__(self, parent: SanNode) -> None:
        super().__init__("vlans", parent)

    def summary(self) -> tuple[str, bool | None]:
        return netlisting.vlans(self.spec())

    def ui_command_create(self, name: str, parent: str, id: str, mtu: str | None = None,  # noqa: A002
                          confirm: str | None = None, rollback: str | None = None) -> None:
        """create NAME parent=PORT|BOND id=1-4094 [mtu=BYTES]: a VLAN (name it e.g. bond0.100)."""
        vlan_id = _int(id, "id")
        self.change(f"Created VLAN {name}.", lambda s: network.add_vlan(s, name, parent, vlan_id or 0,
                                                                        _int(mtu, "mtu")), confirm, rollback)


LINK_HELP = {"roles": "Roles, comma-separated: management, cluster, replication, storage.",
             "dhcp": "DHCPv4 (management only): yes or no.", "addresses": "Static addresses with prefix, "
             "comma-separated.", "gateways": "Default gateways (one per family).",
             "dns": "Name server addresses.", "ipv6_ra": "Accept IPv6 router advertisements: yes or no."}


class UIDevice(UINetBase):
    """A port, bond or VLAN. `set link roles=... addresses=... gateways=... dns=... dhcp=...` gives it addresses
    and roles (in one change); `set device mtu=...` (and a bond's members, mode, miimon, primary, ...)."""

    def __init__(self, name: str, parent: SanNode) -> None:
        super().__init__(name, parent)
        for key, text in LINK_HELP.items():
            self.define_config_group_param("link", key, "string", text)
        for key in sorted({k for keys in network.DEVICE_SETTINGS.values() for k in keys}):
            self.define_config_group_param("device", key, "string", f"The device's {key}.")

    def summary(self) -> tuple[str, bool | None]:
        spec = self.spec()
        return netlisting.device(spec, self.name) if spec else ("", None)

    def ui_command_info(self) -> None:
        """info: the device's settings and its link's."""
        spec = self.spec()
        if spec is None:
            return
        for key, value in sorted(vars(spec.device(self.name)).items()):
            self.ctx.write(f"{key}: {getattr(value, 'value', value)}")
        link = spec.link(self.name)
        if link is not None:
            self.ctx.write("roles: " + (", ".join(r.value for r in link.roles) or "none"))
            for key in ("dhcp", "addresses", "gateways", "dns", "ipv6_ra"):
                value = getattr(link, key)
                self.ctx.write(f"{key}: {', '.join(value) if isinstance(value, tuple) else value}")

    def ui_command_set(self, group: str | None = None, **parameter: Any) -> None:
        """set link roles=R,R addresses=A/P,... gateways=G dns=D dhcp=yes|no ipv6_ra=yes|no [confirm=yes]
        [rollback=SECONDS] | set device mtu=BYTES (members=, mode=, miimon=, primary=, lacp_rate=,
        xmit_hash_policy=, mac=, parent=, id=): every setting given in one validated change."""
        if group not in ("link", "device") or not parameter:
            return super().ui_command_set(group, **parameter)  # type: ignore[no-any-return]
        params, confirm, rollback = self.split_safety(parameter)
        if group == "link":
            values: dict[str, Any] = {}
            for key, value in params.items():
                if key in ("dhcp", "ipv6_ra"):
                    values[key] = self.parse_bool(value, key)
                elif key in LINK_HELP:
                    values[key] = _list(value)
                else:
                    raise ExecutionError(f"Unknown parameter {key} in group 'link'.")
            edit: Callable[[NetworkSpec], NetworkSpec] = lambda s: network.set_link(s, self.name, **values)  # noqa
        else:
            values = {}
            for key, value in params.items():
                if key in ("mtu", "miimon", "id"):
                    values[key] = _int(value, key)
                elif key == "members":
                    values[key] = _list(value)
                else:
                    values[key] = value
            edit = lambda s: network.set_device(s, self.name, **values)  # noqa: E731
        self.change(f"Changed {self.name}.", edit, confirm, rollback)
        return None

    def ui_getgroup_link(self, name: str) -> Any:
        spec = self.spec()
        link = spec.link(self.name) if spec else None
        if link is None:
            return ""
        value = getattr(link, name)
        return ",".join(getattr(v, "value", v) for v in value) if isinstance(value, tuple) else value

    def ui_setgroup_link(self, name: str, value: Any) -> None:
        self.ui_command_set("link", **{name: value})

    def ui_getgroup_device(self, name: str) -> Any:
        spec = self.spec()
        value = getattr(spec.device(self.name), name, "") if spec else ""
        if isinstance(value, tuple):
            return ",".join(value)
        return getattr(value, "value", value)

    def ui_setgroup_device(self, name: str, value: Any) -> None:
        self.ui_command_set("device", **{name: value})
