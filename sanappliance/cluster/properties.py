"""The cluster properties the appliance manages: one declaration each (name, type, default for the node count,
explanation shown to the admin), and the parsing of values an admin sets (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sanappliance.errors import INVALID, UNSUPPORTED, SanError

from .timeouts import Timing

CRM_CONFIG = "crm_config"  # a cluster option (cib-bootstrap-options)
RSC_DEFAULTS = "rsc_defaults"  # a resource default (rsc-options)
NO_QUORUM_POLICIES = ("stop", "freeze", "ignore", "demote", "fence", "suicide")  # "suicide": the old name of "fence"
DURATION_RE = re.compile(r"^\s*(\d+)\s*(ms|msec|s|sec|m|min|h|hr)?\s*$", re.IGNORECASE)
UNIT_SECONDS = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
TRUE, FALSE = ("true", "yes", "on", "1", "y"), ("false", "no", "off", "0", "n")


@dataclass(frozen=True)
class Context:
    """What defaults and checks depend on."""

    nodes: int
    timing: Timing
    cluster_name: str = ""


@dataclass(frozen=True)
class Property:
    name: str
    kind: str  # "bool", "enum", "duration", "integer", "text"
    section: str  # CRM_CONFIG or RSC_DEFAULTS
    default: Callable[[Context], str]
    explanation: str
    settable: bool = True  # False: derived from the spec; the admin changes what it derives from
    choices: tuple[str, ...] = ()


PROPERTIES: tuple[Property, ...] = (
    Property("stonith-enabled", "bool", CRM_CONFIG, lambda ctx: "true",
             "Fence (reset) a node that stops answering before its resources start elsewhere. Without fencing two "
             "nodes can write the same volumes at once. Turning it off needs an explicit force."),
    Property("stonith-action", "enum", CRM_CONFIG, lambda ctx: "reboot",
             "What fencing does to a node: reboot lets it rejoin by itself; off keeps it down until someone "
             "powers it on.", choices=("reboot", "off")),
    Property("stonith-timeout", "duration", CRM_CONFIG, lambda ctx: f"{ctx.timing.stonith_timeout}s",
             "How long a fence may take: derived from SBD's msgwait (2 x watchdog timeout) plus a margin. It may be "
             "raised, never set below the derived value."),
    Property("no-quorum-policy", "enum", CRM_CONFIG, lambda ctx: "stop",
             "What a partition without quorum does. stop: stop every resource (the safe choice). Two nodes keep "
             "quorum when one fails (votequorum two_node), and a node starting alone waits for its peer "
             "(wait_for_all), so stop also fits two nodes; ignore is refused with more than two.",
             choices=NO_QUORUM_POLICIES),
    Property("priority-fencing-delay", "duration", CRM_CONFIG,
             lambda ctx: f"{ctx.timing.priority_fencing_delay}s",
             "Two nodes only: fencing of the node running the more important resources waits this long, so after a "
             "split the node serving the storage wins. Twice the fence device's random delay (fencing_delay).",
             settable=False),
    Property("stonith-watchdog-timeout", "duration", CRM_CONFIG, lambda ctx: "0",
             "0: fencing goes through the SBD disks (fence_sbd), not diskless watchdog self-fencing.",
             settable=False),
    Property("cluster-name", "text", CRM_CONFIG, lambda ctx: ctx.cluster_name,
             "The cluster's name, as in corosync.conf.", settable=False),
    Property("resource-stickiness", "integer", RSC_DEFAULTS, lambda ctx: "100",
             "How strongly a running resource stays where it is. 100: no automatic move back after a failed node "
             "returns (each move interrupts initiators' I/O); move resources back by hand at a quiet time."),
    Property("priority", "integer", RSC_DEFAULTS, lambda ctx: "1",
             "Every resource counts 1 (a promoted DRBD instance 2) toward its node's priority for "
             "priority-fencing-delay.", settable=False),
)
BY_NAME = {p.name: p for p in PROPERTIES}


def lookup(name: str) -> Property:
    try:
        return BY_NAME[name]
    except KeyError:
        raise SanError(f"not a property the appliance manages (known: {', '.join(BY_NAME)})",
                       field=f"properties.{name}", value=name, kind=UNSUPPORTED) from None


def parse_duration(value: str, field: str) -> int:
    """Seconds from 20, "20s", "2min", "1h" (Pacemaker's units; milliseconds round up to whole seconds)."""
    match = DURATION_RE.match(str(value))
    if not match:
        raise SanError("a duration is a whole number with an optional unit (ms, s, min, h)", field=field,
                       value=value, kind=INVALID)
    number, unit = int(match.group(1)), (match.group(2) or "").lower()
    if unit in ("ms", "msec"):
        return -(-number // 1000)
    return number * UNIT_SECONDS[unit]


def parse_value(name: str, value: object, ctx: Context, *, force: bool = False) -> str:
    """An admin-set value, normalized as it goes into the CIB; refuses what is unsafe or inconsistent."""
    prop = lookup(name)
    field = f"properties.{name}"
    if not prop.settable:
        raise SanError("derived by the appliance, not set directly", field=field, value=value, kind=UNSUPPORTED)
    text = str(value).strip().lower() if not isinstance(value, bool) else ("true" if value else "false")
    if prop.kind == "bool":
        if text not in TRUE + FALSE:
            raise SanError("expected true or false", field=field, value=value, kind=INVALID)
        text = "true" if text in TRUE else "false"
        if name == "stonith-enabled" and text == "false" and not force:
            raise SanError("turning fencing off risks two nodes writing the same data; it needs an explicit force",
                           field=field, value=value, kind=INVALID)
    elif prop.kind == "enum":
        if text not in prop.choices:
            raise SanError(f"expected one of {', '.join(prop.choices)}", field=field, value=value, kind=INVALID)
        if name == "no-quorum-policy" and text == "ignore" and ctx.nodes > 2:
            raise SanError("with more than two nodes a partition without quorum must not keep running",
                           field=field, value=value, kind=INVALID)
    elif prop.kind == "duration":
        seconds = parse_duration(text, field)
        if name == "stonith-timeout" and seconds < ctx.timing.stonith_timeout:
            raise SanError(f"must be at least {ctx.timing.stonith_timeout}s (SBD msgwait {ctx.timing.msgwait}s "
                           "plus a margin)", field=field, value=value, kind=INVALID)
        text = f"{seconds}s"
    elif prop.kind == "integer":
        if text in ("infinity", "+infinity"):
            text = "INFINITY"
        elif not re.fullmatch(r"\d{1,7}", text):
            raise SanError("expected a whole number 0-1000000 or INFINITY", field=field, value=value, kind=INVALID)
        else:
            text = str(int(text))
    return text


@dataclass(frozen=True)
class Setting:
    name: str
    section: str
    value: str
    source: str  # "default" or "admin"
    explanation: str


def resolve(admin: dict[str, str], ctx: Context, *, force: bool = False) -> tuple[Setting, ...]:
    """Every managed property with its value: the admin's (normalized; raises on a bad one) or the default."""
    settings = []
    for prop in PROPERTIES:
        if prop.name in admin:
            value = parse_value(prop.name, admin[prop.name], ctx, force=force)
            settings.append(Setting(prop.name, prop.section, value, "admin", prop.explanation))
        else:
            settings.append(Setting(prop.name, prop.section, prop.default(ctx), "default", prop.explanation))
    return tuple(settings)
