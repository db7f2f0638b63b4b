"""The console banner (pure): shown on the serial and local console before each login (an issue file for agetty),
with the appliance's name, version, its addresses by role and where the web page and the API answer."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from sanappliance.model.apiconfig import API_PORT

from .model import NetworkSpec, Role, RoleAddress, addresses_for

WEB_PORT = 443
API_PATH = "/targetrpc"


def _url_host(address: str) -> str:
    ip = ipaddress.ip_interface(address).ip
    return f"[{ip}]" if ip.version == 6 else str(ip)


def urls(address: str) -> tuple[str, str]:
    """The web page's and the API's URL on a management address (with or without its prefix)."""
    host = _url_host(address)
    web = f"https://{host}/" if WEB_PORT == 443 else f"https://{host}:{WEB_PORT}/"
    return web, f"https://{host}:{API_PORT}{API_PATH}"


def _text(item: RoleAddress | str) -> str:
    return f"{item.address} ({item.link})" if isinstance(item, RoleAddress) else str(item)


def _address(item: RoleAddress | str) -> str:
    return item.address if isinstance(item, RoleAddress) else str(item)


def banner(spec: NetworkSpec, version: str,
           addresses_by_role: Mapping[Role, Sequence[RoleAddress | str]] | None = None) -> str:
    """The banner text. `addresses_by_role` is what the live system has (a DHCP management address included);
    None: the spec's static addresses. Plain ASCII without backslashes: agetty reads backslash escapes in issue
    files, and serial terminals may not show more."""
    if addresses_by_role is None:
        addresses_by_role = {role: addresses_for(spec, role) for role in Role}
    out = [f"{spec.hostname} - sanappliance {version}", ""]
    width = max(len(role.value) for role in Role)
    for role in Role:
        found = list(addresses_by_role.get(role, ()))
        if found:
            shown = ", ".join(_text(item) for item in found)
        elif role is Role.MANAGEMENT:
            management = spec.management()
            shown = "waiting for DHCP" if management is not None and management.dhcp else "none"
        else:
            continue
        out.append(f"  {role.value:<{width}}  {shown}")
    management = list(addresses_by_role.get(Role.MANAGEMENT, ()))
    out.append("")
    if management:
        web, api = urls(_address(management[0]))
        out += [f"  web page     {web}", f"  API          {api}"]
    else:
        out.append("  web page and API: no management address yet")
    out.append("  shell        sanctl")
    text = "\n".join(out) + "\n"
    return text.replace("\\", "/")
