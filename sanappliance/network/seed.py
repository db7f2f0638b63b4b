"""The unattended first-boot seed file (pure): `key = value` lines (or the JSON of model.FirstBoot) -> FirstBoot.
Every problem names the key and its line; the spec's own problems (validate.validate) are named by the seed key
that set the value. The format is in docs/NETWORK.md, e.g.:

    hostname = san1
    admin_password = a-long-secret
    interfaces = eth0, eth1, eth2
    bond.bond0.members = eth1, eth2
    link.eth0.roles = management
    link.eth0.dhcp = yes
    link.bond0.roles = replication, storage
    link.bond0.address = 10.0.2.1/24
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import MISSING, fields
from enum import Enum
from typing import Any

from sanappliance.errors import INVALID, SanError
from sanappliance.model import apiconfig

from .model import Bond, BondMode, FirstBoot, HashPolicy, Interface, LacpRate, Link, NetworkSpec, Role, TimeSpec, Vlan
from .validate import raise_all, validate

TRUE, FALSE = ("yes", "true", "on", "1"), ("no", "false", "off", "0")
KEY_RE = re.compile(r"^[a-z_]+(\.[A-Za-z0-9_.-]+\.[a-z0-9_]+)?$")


def _list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _bool(text: str) -> bool:
    if text.lower() in TRUE + FALSE:
        return text.lower() in TRUE
    raise ValueError("expected yes or no")


def _int(text: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text):
        raise ValueError("expected a whole number")
    return int(text)


def _enum(kind: type[Enum]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            raise ValueError("expected one of " + ", ".join(str(m.value) for m in kind)) from None
    return parse


def _enums(kind: type[Enum]) -> Callable[[str], tuple[Any, ...]]:
    return lambda text: tuple(_enum(kind)(item) for item in _list(text))


def _text(text: str) -> str:
    return text


# seed section -> (model class, {seed attribute: (model field, parser)})
SECTIONS: dict[str, tuple[type, dict[str, tuple[str, Callable[[str], Any]]]]] = {
    "interface": (Interface, {"mac": ("mac", _text), "mtu": ("mtu", _int)}),
    "bond": (Bond, {"members": ("members", _list), "mode": ("mode", _enum(BondMode)), "miimon": ("miimon", _int),
                    "primary": ("primary", _text), "lacp_rate": ("lacp_rate", _enum(LacpRate)),
                    "xmit_hash_policy": ("xmit_hash_policy", _enum(HashPolicy)), "mtu": ("mtu", _int)}),
    "vlan": (Vlan, {"parent": ("parent", _text), "id": ("id", _int), "mtu": ("mtu", _int)}),
    "link": (Link, {"roles": ("roles", _enums(Role)), "dhcp": ("dhcp", _bool), "address": ("addresses", _list),
                    "gateway": ("gateways", _list), "dns": ("dns", _list), "ipv6_ra": ("ipv6_ra", _bool)}),
}
TOP = {"hostname", "admin_password", "admin_password_hash", "timezone", "ntp", "interfaces"}
SPEC_LISTS = {"interface": "interfaces", "bond": "bonds", "vlan": "vlans", "link": "links"}


class _Seed:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[SanError] = []
        self.lines: dict[str, int] = {}  # key -> line
        self.top: dict[str, str] = {}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in SECTIONS}  # section -> name -> kwargs
        self.declared: dict[tuple[str, str], str] = {}  # (section, name) -> the key that declared it first

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{key} ({self.source} line {line})" if line else f"{key} ({self.source})"

    def add(self, message: str, key: str, value: object = None) -> None:
        self.problems.append(SanError(message, field=self.where(key), value=value, kind=INVALID))

    def declare(self, section: str, name: str, key: str) -> dict[str, Any]:
        self.declared.setdefault((section, name), key)
        return self.objects[section].setdefault(name, {"name": name})

    def line(self, number: int, raw: str) -> None:
        text = raw.strip()
        if not text or text.startswith("#"):
            return
        key, sep, value = (part.strip() for part in text.partition("="))
        if not sep or not KEY_RE.match(key):
            message = "expected key = value" if not sep else "not a seed key (hostname, link.eth0.address, ...)"
            self.problems.append(SanError(message, field=f"{self.source} line {number}",
                                          value=(key if sep else text)[:80], kind=INVALID))
            return
        if key in self.lines:
            self.problems.append(SanError(f"set twice (first on line {self.lines[key]})",
                                          field=f"{key} ({self.source} line {number})", value=value, kind=INVALID))
            return
        self.lines[key] = number
        if "." not in key:
            if key not in TOP:
                self.add("unknown key (known: " + ", ".join(sorted(TOP)) + ", interface.*, bond.*, vlan.*, link.*)",
                         key, key)
            elif key == "interfaces":
                for name in _list(value):
                    self.declare("interface", name, key)
            else:
                self.top[key] = value
            return
        section, rest = key.split(".", 1)
        name, attr = rest.rsplit(".", 1)
        if section not in SECTIONS or attr not in SECTIONS[section][1]:
            known = ", ".join(SECTIONS.get(section, (None, {}))[1]) or "interface, bond, vlan, link"
            self.add(f"unknown key (known here: {known})", key, key)
            return
        target, parse = SECTIONS[section][1][attr]
        try:
            self.declare(section, name, key)[target] = parse(value)
        except ValueError as exc:
            self.add(str(exc), key, value)

    def spec(self) -> NetworkSpec | None:
        """The spec the lines make; None (and a problem each) when a bond or VLAN lacks a required key."""
        made: dict[str, tuple[Any, ...]] = {}
        for section, (cls, attrs) in SECTIONS.items():
            required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
            for name, kwargs in self.objects[section].items():
                for target in required:
                    if target not in kwargs:
                        attr = next(a for a, (t, _) in attrs.items() if t == target)
                        where = self.declared[(section, name)]
                        self.problems.append(SanError(f"required: a {section} needs {section}.{name}.{attr}",
                                                      field=self.where(where), kind=INVALID))
            made[SPEC_LISTS[section]] = tuple(cls(**kwargs) for kwargs in self.objects[section].values()
                                              if all(target in kwargs for target in required))
        if self.problems:
            return None
        time = TimeSpec(self.top.get("timezone", TimeSpec.timezone), _list(self.top.get("ntp", "")))
        return NetworkSpec(self.top.get("hostname", ""), time=time, **made)

    def password_hash(self) -> str:
        clear, stored = self.top.get("admin_password"), self.top.get("admin_password_hash")
        if clear is not None and stored is not None:
            self.add("give admin_password or admin_password_hash, not both", "admin_password_hash", "(hidden)")
        elif stored is not None:
            if apiconfig.HASH_RE.match(stored):
                return stored
            self.add("not a password hash of this appliance (scrypt$N$r$p$salt$key)", "admin_password_hash",
                     "(hidden)")
        elif clear is not None:
            try:
                return apiconfig.hash_password(clear)
            except SanError as exc:
                self.add(exc.message, "admin_password", "(hidden)")
        else:
            self.add("the admin password has no default: set admin_password (or admin_password_hash)",
                     "admin_password")
        return ""

    def key_for(self, spec: NetworkSpec, field: str) -> str:
        """The seed key behind a validation problem's field (`links[1].addresses[0]` -> link.eth1.address)."""
        if field.startswith("time.ntp_servers"):
            return "ntp"
        match = re.match(r"^(interfaces|bonds|vlans|links)(?:\[(\d+)\])?\.?([a-z_]*)", field)
        if not match:
            return {"time.timezone": "timezone"}.get(field, field)
        section = next(s for s, name in SPEC_LISTS.items() if name == match.group(1))
        attrs = {target: attr for attr, (target, _) in SECTIONS[section][1].items()}
        attr = attrs.get(match.group(3), match.group(3))
        if match.group(2) is None:
            if not attr:
                return f"{section}.*"
            return next((k for k in self.lines if k.startswith(f"{section}.") and k.endswith(f".{attr}")),
                        f"{section}.*.{attr}")
        name = getattr(spec, match.group(1))[int(match.group(2))].name
        key = f"{section}.{name}.{attr}"
        return key if attr and key in self.lines else self.declared.get((section, name), key)


def parse_seed(text: str, source: str = "seed") -> tuple[FirstBoot | None, list[SanError]]:
    """The first-boot settings and every problem of the seed (the settings only when there is none)."""
    if text.lstrip().startswith(("{", "[")):
        return _parse_json(text, source)
    seed = _Seed(source)
    for number, raw in enumerate(text.splitlines(), 1):
        seed.line(number, raw)
    spec = seed.spec() if not seed.problems else None  # every line understood: check the spec's own rules too
    if "hostname" not in seed.top:
        seed.add("required", "hostname")
    password_hash = seed.password_hash()
    if spec is not None:
        seed.problems += [SanError(p.message, field=seed.where(seed.key_for(spec, p.field or "")), value=p.value,
                                   kind=INVALID) for p in validate(spec)
                          if not (p.field == "hostname" and "hostname" not in seed.top)]
    if seed.problems or spec is None:
        return None, seed.problems
    return FirstBoot(spec, password_hash), []


def _parse_json(text: str, source: str) -> tuple[FirstBoot | None, list[SanError]]:
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
    except (ValueError, RecursionError) as exc:
        return None, [SanError(f"not valid JSON: {exc}", field=source, kind=INVALID)]
    clear = data.pop("admin_password", None)
    try:
        if clear is not None:
            if data.get("admin_password_hash"):
                raise SanError("give admin_password or admin_password_hash, not both", field=f"{source}.admin_password")
            data["admin_password_hash"] = apiconfig.hash_password(clear)
        first = FirstBoot.from_dict(data, source)
    except SanError as exc:
        return None, [exc]
    problems = [SanError(p.message, field=f"{source}.network.{p.field}", value=p.value, kind=INVALID)
                for p in validate(first.network)]
    if not apiconfig.HASH_RE.match(first.admin_password_hash):
        problems.append(SanError("the admin password has no default: set admin_password (or admin_password_hash)",
                                 field=f"{source}.admin_password", kind=INVALID))
    return (None, problems) if problems else (first, [])


def read_seed(text: str, source: str = "seed") -> FirstBoot:
    """The first-boot settings, or a SanError naming the first problem (and counting the others)."""
    first, problems = parse_seed(text, source)
    raise_all(problems)
    assert first is not None
    return first


SEED_KEYS = sorted(TOP | {f"{s}.NAME.{a}" for s, (_, attrs) in SECTIONS.items() for a in attrs})
