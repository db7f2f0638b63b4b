"""Syntax of the values an admin types: names, iSCSI names (IQN/EUI/NAA), sizes, addresses. Pure functions."""

from __future__ import annotations

import ipaddress
import re
import uuid

from sanappliance.errors import INVALID, SanError

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,63}$")  # volumes, pools, groups: targetd's name rule
IQN_RE = re.compile(
    r"^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:_-]+)?$")
EUI_RE = re.compile(r"^eui\.[0-9a-f]{16}$")
NAA_RE = re.compile(r"^naa\.([0-9a-f]{16}|[0-9a-f]{32})$")
SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(i?B)?\s*$", re.IGNORECASE)
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
CHAP_SECRET_LEN = (12, 255)  # RFC 3720 asks for 12 bytes at least; LIO accepts up to 255
CHAP_USER_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
APPLIANCE_IQN_PREFIX = "iqn.2026-11.org.sanappliance"


def check_name(value: str, field: str) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise SanError("names are 1-63 characters of A-Z a-z 0-9 _ -", field=field, value=value, kind=INVALID)
    return value


def normalize_wwn(value: str) -> str:
    """iSCSI names compare case-insensitively; LIO stores them lowercase."""
    return value.strip().lower() if isinstance(value, str) else value


def check_iqn(value: str, field: str) -> str:
    """A target name: iqn.YYYY-MM.reversed.domain[:identifier] (RFC 3720), at most 223 bytes."""
    wwn = normalize_wwn(value)
    if not isinstance(wwn, str) or len(wwn.encode()) > 223 or not IQN_RE.match(wwn):
        raise SanError("not an iSCSI qualified name (iqn.YYYY-MM.reversed.domain[:identifier])", field=field,
                       value=value, kind=INVALID)
    return wwn


def check_initiator(value: str, field: str) -> str:
    """An initiator name: IQN, EUI-64 (eui. + 16 hex) or NAA (naa. + 16 or 32 hex)."""
    wwn = normalize_wwn(value)
    if not isinstance(wwn, str) or len(wwn.encode()) > 223 or not (
            IQN_RE.match(wwn) or EUI_RE.match(wwn) or NAA_RE.match(wwn)):
        raise SanError("not an iSCSI initiator name (iqn.YYYY-MM.domain[:id], eui.<16 hex> or naa.<16|32 hex>)",
                       field=field, value=value, kind=INVALID)
    return wwn


def generate_iqn(label: str | None = None) -> str:
    suffix = label.lower() if label else uuid.uuid4().hex[:12]
    return check_iqn(f"{APPLIANCE_IQN_PREFIX}:{suffix}", "iqn")


def parse_size(value: str | int, field: str) -> int:
    """Bytes from 1048576, '512M', '10G', '1.5TiB' (binary units, as LVM and targetcli use them)."""
    if isinstance(value, bool):
        raise SanError("a size is a number of bytes or a number with K/M/G/T", field=field, value=value,
                       kind=INVALID)
    if isinstance(value, int):
        size = value
    else:
        match = SIZE_RE.match(str(value))
        if not match:
            raise SanError("a size is a number of bytes or a number with K/M/G/T", field=field, value=value,
                           kind=INVALID)
        size = int(float(match.group(1)) * UNITS[match.group(2).upper()])
    if size <= 0:
        raise SanError("a size must be larger than zero", field=field, value=value, kind=INVALID)
    return size


def format_size(size: int) -> str:
    for unit in ("P", "T", "G", "M", "K"):
        if size >= UNITS[unit]:
            text = f"{size / UNITS[unit]:.1f}".rstrip("0").rstrip(".")
            return f"{text}{unit}iB"
    return f"{size}B"


def check_address(value: str, field: str) -> str:
    """An IPv4 or IPv6 address to listen on; 0.0.0.0 or :: for all."""
    try:
        return str(ipaddress.ip_address(value))
    except (ValueError, TypeError):
        raise SanError("not an IPv4 or IPv6 address", field=field, value=value, kind=INVALID) from None


def normal_ip(address: str) -> str | None:
    """An address, with or without its prefix length, in normal form ("fd00:0::1/64" -> "fd00::1"); None if it
    is not one."""
    try:
        return str(ipaddress.ip_interface(address).ip)
    except ValueError:
        return None


def check_port(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise SanError("a TCP port is 1-65535", field=field, value=value, kind=INVALID)
    return value


def check_chap_user(value: str, field: str) -> str:
    if not isinstance(value, str) or not CHAP_USER_RE.match(value):
        raise SanError("a CHAP user name is 1-255 printable characters without spaces", field=field, value=value,
                       kind=INVALID)
    return value


def check_chap_secret(value: str, field: str) -> str:
    """Secrets are never echoed back in errors: the value is not attached."""
    low, high = CHAP_SECRET_LEN
    if not isinstance(value, str) or not low <= len(value) <= high or not CHAP_USER_RE.match(value):
        raise SanError(f"a CHAP secret is {low}-{high} printable characters without spaces", field=field,
                       value="(hidden)", kind=INVALID)
    return value
