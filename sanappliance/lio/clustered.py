"""A clustered target (pure): the part of the appliance config one target needs, carried in its Pacemaker
primitive's `config` parameter, and the LIO changes that bring the target up, reload it or take it down on the
node Pacemaker chose.

The resource agent ocf:sanappliance:target reads its parameters (`iqn`, `pool`, `config`) and nothing else: the
config is a small Config (the target with its TPGs, portals, LUNs, ACLs, groups, CHAP, plus the volumes its LUNs use
and their pools), as `Config.to_json()` writes it. The agent works on that target and its backstores only:

* the backstores it owns are the ones its config asks for plus the ones the live target's LUNs point to (a LUN
  dropped from the config leaves its backstore behind otherwise, which would keep the LV open and the VG from
  deactivating on stop);
* a backstore another live target also uses is never deleted (a volume may be exported by two targets), and one it
  would have to replace is refused;
* discovery CHAP is fabric-wide, not the target's: it is never changed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from enum import Enum

from sanappliance.errors import CONFLICT, INVALID, SanError
from sanappliance.model.config import Config, Pool, Portal, VolumeKind
from sanappliance.model.values import normal_ip, normalize_wwn

from . import plan as P
from .render import render
from .state import NO_CHAP, LioState, Scope

MAX_REASONS = 5  # differences named in a monitor's answer
# Pacemaker hands parameters to the agent as environment variables; Linux takes at most 32 pages (MAX_ARG_STRLEN)
# for one "NAME=value" string, or the agent cannot even be started (E2BIG). About 250 LUNs with two ACLs fit.
MAX_PARAM_BYTES = 32 * 4096 - len("OCF_RESKEY_config=") - 1


WILDCARDS = {"0.0.0.0": 4, "::": 6}


def _expand(portals: tuple[Portal, ...], ips: list[str]) -> tuple[Portal, ...]:
    """Each wildcard portal (0.0.0.0 or ::) as the `ips` of its family on its port; dropped when there is none
    (LIO's [::] takes IPv4's port too, and 0.0.0.0 every address's: kept, either would block the others)."""
    found: list[Portal] = []
    for portal in portals:
        family = WILDCARDS.get(portal.address)
        if family is None:
            found.append(portal)
        else:
            found += [Portal(ip, portal.port) for ip in ips if ipaddress.ip_address(ip).version == family]
    return tuple(dict.fromkeys(found))


def pool_portals(portals: tuple[Portal, ...], pools: tuple[Pool, ...]) -> tuple[Portal, ...]:
    """A wildcard portal (0.0.0.0 or ::) of a clustered target stands for its pools' floating addresses of that
    family on the same port: bound to all addresses it would take port 3260 of every address of the node that
    serves it, and LIO could then not listen on another pool's floating address there (two pools on one node).
    Pools without a floating address keep the wildcard (their initiators reach the serving node's own addresses)."""
    ips = [ip for p in pools for f in p.floating_ips if (ip := normal_ip(f.address)) is not None]
    return _expand(portals, ips) if ips else portals


def floating_addresses(*configs: Config) -> frozenset[str]:
    """Every pool's floating addresses in `configs` (normal form)."""
    return frozenset(ip for c in configs for p in c.pools for f in p.floating_ips
                     if (ip := normal_ip(f.address)) is not None)


def node_portals(local: Config, addresses: tuple[str, ...], floating: frozenset[str]) -> Config:
    """The local targets (`local`: a node's own part, model.partition) of a node in a cluster, their wildcard
    portals (0.0.0.0 or ::) as the node's own `addresses` that no pool floats (`floating`), same port. Linux lets
    no socket take 0.0.0.0:3260 while another listens on one address's port 3260 (nor the other way round), so a
    local target on all addresses would keep a clustered target from its floating address on this node, or fail
    beside it ("Could not create NetworkPortal"). A family without such an address gets no portal."""
    fixed = list(dict.fromkeys(ip for a in addresses if (ip := normal_ip(a)) is not None and ip not in floating))
    return replace(local, targets=tuple(replace(t, tpgs=tuple(replace(g, portals=_expand(g.portals, fixed))
                                                              for g in t.tpgs)) for t in local.targets))


def target_config(config: Config, iqn: str) -> Config:
    """The part of `config` target `iqn` needs: the target (its wildcard portals as its pools' floating addresses:
    pool_portals), the volumes its LUNs use (in config order) and the pools of its LV volumes. Generation 0 and no
    discovery CHAP, so the result (and the CIB parameter made of it) changes only when the target's own objects
    do."""
    target = config.target(iqn)
    used = {lun.volume for tpg in target.tpgs for lun in tpg.luns}
    volumes = tuple(v for v in config.volumes if v.name in used)
    names = {v.pool for v in volumes if v.kind is VolumeKind.LV}
    pools = tuple(p for p in config.pools if p.name in names)
    clustered = tuple(p for p in pools if p.clustered)
    if clustered:
        target = replace(target, tpgs=tuple(replace(g, portals=pool_portals(g.portals, clustered))
                                            for g in target.tpgs))
    return Config(pools=pools, volumes=volumes, targets=(target,))


def config_param(config: Config, iqn: str) -> str:
    """The `config` parameter of target `iqn`'s primitive: compact JSON of target_config (one line); refused when
    it is too long to reach the agent."""
    text = target_config(config, iqn).to_json().strip()
    size = len(text.encode())
    if size > MAX_PARAM_BYTES:
        raise SanError(f"the target's configuration ({size} bytes) is more than Pacemaker can pass to its agent "
                       f"({MAX_PARAM_BYTES} bytes): spread its LUNs over more targets", field=f"targets[{iqn}]",
                       value=size, kind=INVALID)
    return text


def parse_param(text: str, iqn: str) -> Config:
    """The config of an agent's `config` parameter, checked to hold exactly target `iqn` (errors name the field;
    the model's own validation is the caller's: model.validate)."""
    if not text.strip():
        raise SanError("required parameter missing", field="config", kind=INVALID)
    config = Config.from_json(text, "config")
    iqns = [t.iqn for t in config.targets]
    if iqns != [normalize_wwn(iqn)]:
        raise SanError(f"must hold exactly the target of parameter iqn ({normalize_wwn(iqn)}), holds "
                       f"{', '.join(iqns) or 'none'}", field="config.targets", kind=INVALID)
    return config


def secrets_of(config: Config) -> tuple[str, ...]:
    """Every CHAP secret in the config, longest first (for redact)."""
    found: set[str] = set()
    chaps = [config.discovery.chap] + [c for t in config.targets for g in t.tpgs
                                       for c in (g.chap, *(a.chap for a in g.acls), *(x.chap for x in g.groups))]
    for chap in chaps:
        if chap is not None:
            found |= {s for s in (chap.password, chap.mutual_password) if s}
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced: nothing the agent prints or logs can carry one."""
    for secret in secrets:
        text = text.replace(secret, "(secret)")
    return text


def desired(config: Config) -> LioState:
    """The LIO state of the target: its backstores and the target (no discovery settings: they are not its)."""
    state = render(config)
    return LioState(state.storage, state.targets, NO_CHAP)


def _luns_of(observed: LioState, iqn: str) -> set[str]:
    target = observed.targets.get(iqn)
    return {key for tpg in target.tpgs.values() for key in tpg.luns.values()} if target else set()


def shared(observed: LioState, iqn: str) -> dict[str, str]:
    """Backstore key -> another live target that has a LUN on it."""
    users: dict[str, str] = {}
    for wwn in sorted(observed.targets):
        if wwn != iqn:
            for key in sorted(_luns_of(observed, wwn)):
                users.setdefault(key, wwn)
    return users


def owned(observed: LioState, want: LioState, iqn: str) -> Scope:
    """What the target's actions may read and change: its backstores (wanted or used by its live LUNs)."""
    return Scope(frozenset(want.storage) | frozenset(_luns_of(observed, iqn)), frozenset({iqn}))


def apply_plan(observed: LioState, want: LioState, iqn: str) -> list[P.Action]:
    """The actions that bring target `iqn` from `observed` (the whole live state) to `want`, touching nothing else:
    what exists and matches stays (sessions on the LUNs and ACLs kept go on), only the difference is made."""
    scope = owned(observed, want, iqn)
    have = observed.restrict(scope)
    actions = P.plan(have, LioState(want.storage, want.targets, have.discovery))
    users = shared(observed, iqn)
    kept: list[P.Action] = []
    for action in actions:
        if isinstance(action, P.DeleteStorage) and action.key in users:
            if action.key in want.storage:
                raise SanError(f"backstore {action.key} differs from the config but target {users[action.key]} "
                               "uses it too: it cannot be replaced", field="config.volumes", value=action.key,
                               kind=CONFLICT)
            continue  # no longer ours, still theirs
        kept.append(action)
    return kept


def stop_plan(observed: LioState, iqn: str, want: LioState | None = None) -> list[P.Action]:
    """The actions that take target `iqn` down with its backstores (those no other live target uses). Needs no
    config: the live target's LUNs name its backstores; `want` adds the config's (left from a start cut short)."""
    actions: list[P.Action] = []
    if iqn in observed.targets:
        actions.append(P.DeleteTarget(iqn))  # LIO removes its TPGs, LUNs, ACLs and portals with it
    keys = _luns_of(observed, iqn) | (set(want.storage) if want is not None else set())
    users = shared(observed, iqn)
    actions += [P.DeleteStorage(k) for k in sorted(keys) if k in observed.storage and k not in users]
    return actions


class Health(Enum):
    RUNNING = "running"  # the target is there, enabled, and matches the config
    STOPPED = "stopped"  # nothing of it is there
    PARTIAL = "partial"  # some of it is there, or it differs


@dataclass(frozen=True)
class Status:
    health: Health
    reasons: tuple[str, ...] = field(default_factory=tuple)  # what is missing or differs (never a secret)


def status(observed: LioState, want: LioState, iqn: str) -> Status:
    """How the live target compares with the config (for monitor)."""
    if iqn not in observed.targets:
        left = sorted(k for k in want.storage if k in observed.storage and k not in shared(observed, iqn))
        if left:
            return Status(Health.PARTIAL, (f"backstores without their target: {', '.join(left[:MAX_REASONS])}",))
        return Status(Health.STOPPED)
    try:
        actions = apply_plan(observed, want, iqn)
    except SanError as exc:
        return Status(Health.PARTIAL, (exc.message,))
    if not actions:
        return Status(Health.RUNNING)
    reasons = [a.describe() for a in actions[:MAX_REASONS]]
    if len(actions) > MAX_REASONS:
        reasons.append(f"... {len(actions) - MAX_REASONS} more")
    return Status(Health.PARTIAL, tuple(reasons))


__all__ = ["Health", "Status", "apply_plan", "config_param", "desired", "owned", "parse_param", "redact",
           "secrets_of", "shared", "status", "stop_plan", "target_config"]
