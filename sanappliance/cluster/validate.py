"""Validation of a cluster spec (pure): every problem, each naming its field (`nodes[1].addresses[0]`) and value.
Nothing is rendered or changed unless this returns no problem."""

from __future__ import annotations

import functools
import ipaddress
import re

from sanappliance.errors import SanError
from sanappliance.model.validate import Problems, duplicates
from sanappliance.network.validate import check_hostname

from . import properties
from .model import SCHEMA_VERSION, ClusterSpec
from .timeouts import PROFILES, derive

BY_ID_RE = re.compile(r"^/dev/disk/by-id/[A-Za-z0-9._:+@-]+$")  # nothing a shell, SBD_DEVICE or fence_sbd splits on
DEVICE_RE = re.compile(r"^/dev/[A-Za-z0-9._/-]+$")
CIPHERS = ("aes256", "aes192", "aes128")
HASHES = ("sha256", "sha384", "sha512")
MAX_NODES = 32
MAX_NODEID = 65535  # knet: "Knet requires nodeid to be less than 65536"
MAX_LINKS = 2
SBD_DEVICES = (1, 3)
WATCHDOG_TIMEOUT = (2, 120)  # seconds
FENCING_DELAY = (0, 60)  # seconds
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(value: str, field: str, p: Problems) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface | None:
    try:
        iface = ipaddress.ip_interface(value)
    except (ValueError, TypeError):
        p.add("not an IPv4 or IPv6 address (optionally with /prefix)", field, value)
        return None
    ip = iface.ip
    if ip.is_unspecified or ip.is_multicast:
        p.add("a node's address must be a unicast address of that node", field, value)
        return None
    return iface


def validate(spec: ClusterSpec) -> list[SanError]:
    p = Problems()
    if spec.schema != SCHEMA_VERSION:
        p.add(f"schema version {SCHEMA_VERSION} expected", "schema", spec.schema)
    check_hostname(spec.name, "name", p)
    if spec.profile not in PROFILES:
        p.add(f"unknown timing profile (known: {', '.join(PROFILES)})", "profile", spec.profile)
    if spec.crypto.cipher not in CIPHERS:
        p.add(f"knet encryption stays on: one of {', '.join(CIPHERS)}", "crypto.cipher", spec.crypto.cipher)
    if spec.crypto.hash not in HASHES:
        p.add(f"knet authentication stays on: one of {', '.join(HASHES)}", "crypto.hash", spec.crypto.hash)
    _links(spec, p)
    _nodes(spec, p)
    _sbd(spec, p)
    if spec.fencing_delay is not None and not FENCING_DELAY[0] <= spec.fencing_delay <= FENCING_DELAY[1]:
        p.add(f"a fencing delay is {FENCING_DELAY[0]}-{FENCING_DELAY[1]} seconds", "fencing_delay",
              spec.fencing_delay)
    _properties(spec, p)
    return p.items


def _links(spec: ClusterSpec, p: Problems) -> None:
    if not 1 <= len(spec.links) <= MAX_LINKS:
        p.add(f"a cluster has 1 or {MAX_LINKS} links (networks)", "links", len(spec.links))
    for i, link in enumerate(spec.links):
        if isinstance(link.priority, bool) or not isinstance(link.priority, int) or not 0 <= link.priority <= 255:
            p.add("a link priority is 0-255", f"links[{i}].priority", link.priority)
    if len(spec.links) == 2 and spec.links[0].priority == spec.links[1].priority:
        p.add("two links need different priorities: the higher one carries the traffic", "links[1].priority",
              spec.links[1].priority)


def _nodes(spec: ClusterSpec, p: Problems) -> None:
    if not 1 <= len(spec.nodes) <= MAX_NODES:
        p.add(f"a cluster has 1-{MAX_NODES} nodes", "nodes", len(spec.nodes))
    for name in duplicates(n.name for n in spec.nodes):
        p.add("a node with this name exists already", "nodes.name", name)
    for nodeid in duplicates(n.nodeid for n in spec.nodes):
        p.add("a node with this id exists already", "nodes.nodeid", nodeid)
    seen: dict[str, str] = {}
    families: dict[int, dict[int, str]] = {}
    networks: dict[int, list[tuple[Network, str, str]]] = {}  # link -> (network, field, text) of /prefix addresses
    for i, node in enumerate(spec.nodes):
        where = f"nodes[{i}]"
        check_hostname(node.name, f"{where}.name", p)
        if isinstance(node.nodeid, bool) or not isinstance(node.nodeid, int) or not 1 <= node.nodeid <= MAX_NODEID:
            p.add(f"node ids are 1-{MAX_NODEID} (knet)", f"{where}.nodeid", node.nodeid)
        if node.api_pin and not (len(node.api_pin) == 64 and all(c in "0123456789abcdef" for c in node.api_pin)):
            p.add("the sha256 of the node's API certificate: 64 lower-case hex digits", f"{where}.api_pin",
                  node.api_pin)
        if len(node.addresses) != len(spec.links):
            p.add(f"one address per link ({len(spec.links)})", f"{where}.addresses", len(node.addresses))
        for k, text in enumerate(node.addresses):
            field = f"{where}.addresses[{k}]"
            iface = _address(text, field, p)
            if iface is None:
                continue
            if "/" in str(text):
                networks.setdefault(k, []).append((iface.network, field, text))
            ip = str(iface.ip)
            if ip in seen:
                p.add(f"address used already ({seen[ip]})", field, text)
            seen.setdefault(ip, field)
            if iface.ip.is_loopback and len(spec.nodes) > 1:
                p.add("a loopback address cannot reach the other nodes", field, text)
            families.setdefault(k, {}).setdefault(iface.version, field)
    for net, field, text in networks.get(1, []):
        if any(net.version == other.version and net.overlaps(other) for other, _, _ in networks.get(0, [])):
            p.add("the second link is in the subnet of the first: one network failure would take both", field, text)
    for k, by_family in families.items():
        if len(by_family) > 1:
            p.add("all addresses of a link are of one family (IPv4 or IPv6)", f"links[{k}]", sorted(by_family))


def _sbd(spec: ClusterSpec, p: Problems) -> None:
    devices = spec.sbd.devices
    fencing_off = str(spec.properties.get("stonith-enabled", "true")).strip().lower() in properties.FALSE
    low, high = SBD_DEVICES
    if not low <= len(devices) <= high and not (fencing_off and not devices):
        p.add(f"SBD fencing needs {low}-{high} shared disks", "sbd.devices", len(devices))
    for i, dev in enumerate(devices):
        if not isinstance(dev, str) or not BY_ID_RE.match(dev):
            p.add("shared disks are named by their stable /dev/disk/by-id/ path", f"sbd.devices[{i}]", dev)
    for dev in duplicates(devices):
        p.add("disk listed twice", "sbd.devices", dev)
    if not isinstance(spec.sbd.watchdog_device, str) or not DEVICE_RE.match(spec.sbd.watchdog_device):
        p.add("the watchdog is a device path under /dev", "sbd.watchdog_device", spec.sbd.watchdog_device)
    timeout = spec.sbd.watchdog_timeout
    if timeout is not None and (isinstance(timeout, bool) or not WATCHDOG_TIMEOUT[0] <= timeout <= WATCHDOG_TIMEOUT[1]):
        p.add(f"a watchdog timeout is {WATCHDOG_TIMEOUT[0]}-{WATCHDOG_TIMEOUT[1]} seconds", "sbd.watchdog_timeout",
              timeout)


def _properties(spec: ClusterSpec, p: Problems) -> None:
    timeout = spec.sbd.watchdog_timeout  # checked above; a bad one must not hide the properties' own problems
    sound = timeout is None or (not isinstance(timeout, bool) and WATCHDOG_TIMEOUT[0] <= timeout <= WATCHDOG_TIMEOUT[1])
    timing = derive(spec.profile if spec.profile in PROFILES else "production", len(spec.nodes),
                    watchdog_timeout=timeout if sound else None)
    ctx = properties.Context(len(spec.nodes), timing, spec.name)
    parse = functools.partial(properties.parse_value, force=spec.allow_no_fencing)
    for name, value in spec.properties.items():
        p.check(parse, name, value, ctx)


def check(spec: ClusterSpec) -> None:
    """Raise the first problem (all of them in the message) if the spec is not valid."""
    problems = validate(spec)
    if problems:
        first = problems[0]
        message = first.message if len(problems) == 1 else (
            f"{first.message} (and {len(problems) - 1} more: " + "; ".join(str(x) for x in problems[1:4]) + ")")
        raise SanError(message, field=first.field, value=first.value, kind=first.kind)
