"""The Pacemaker chain of each shared-disk pool (pure, ElementTree): the lock managers cloned on every node, and per
pool the group of the replicated pools with its VG under lvmlockd. Merged by drbd.cib.merge_pools, in the same push.

    clone san-dlm-clone (interleave)      primitive san-dlm       ocf:pacemaker:controld   (dlm_controld)
    clone san-lvmlockd-clone (interleave) primitive san-lvmlockd  ocf:heartbeat:lvmlockd
    rsc_order      san-lvmlockd-after-dlm   start san-dlm-clone, then start san-lvmlockd-clone (Mandatory)
    rsc_colocation san-lvmlockd-with-dlm    san-lvmlockd-clone with san-dlm-clone, INFINITY
    group san-P                             drbd.cib.pool_group: san-P-vg (LVM-activate vgname=san-P
                                            vg_access_mode=lvmlockd activation_mode=exclusive), san-P-volumes,
                                            (port block,) floating addresses, targets (, port unblock)
    rsc_order      san-P-after-lvmlockd     start san-lvmlockd-clone, then start san-P (Mandatory)
    rsc_colocation san-P-with-lvmlockd      san-P with san-lvmlockd-clone, INFINITY

The clones exist while at least one shared pool does. Every id starts with `san-` (the fencing gate holds the
lock managers off a node with unproven fencing too: dlm needs working fencing to recover locks), and the fixed ids
all start with san-dlm or san-lvmlockd, which is why no clustered pool may be called dlm or lvmlockd
(model.validate.RESERVED_POOL_NAMES).

Why a clone of each on every node: the shared VG's lock (and each LV's) is taken through lvmlockd on the node that
activates it, and lvmlockd's dlm lockspace must be joined on every node that may take the pool over. `interleave`
lets each node's lvmlockd wait for that node's dlm only. A node whose dlm stops (leaves the lockspace) has the
pool's group stopped first (colocation and order chain through the clones).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sanappliance.cluster.cib import _nvset, _replace, _section, merge_cib, parse_cib
from sanappliance.cluster.model import ClusterSpec
from sanappliance.model.config import Config, Pool

from .cib import _primitive, _remove_pool, pool_group

DLM_AGENT = ("ocf", "pacemaker", "controld")
LVMLOCKD_AGENT = ("ocf", "heartbeat", "lvmlockd")
DLM, DLM_CLONE = "san-dlm", "san-dlm-clone"
LVMLOCKD, LVMLOCKD_CLONE = "san-lvmlockd", "san-lvmlockd-clone"
LOCKD_ORDER, LOCKD_COLOCATION = "san-lvmlockd-after-dlm", "san-lvmlockd-with-dlm"
CLONE_META = (("interleave", "true"),)
# (name, interval, timeout, role): the agents' advertised timeouts (their meta-data in resource-agents 4.16,
# pacemaker 3.0)
DLM_OPS = (("start", "0s", "90s", ""), ("stop", "0s", "100s", ""), ("monitor", "10s", "20s", ""))
LVMLOCKD_OPS = (("start", "0s", "90s", ""), ("stop", "0s", "90s", ""), ("monitor", "30s", "90s", ""))
FIXED_IDS = (DLM, DLM_CLONE, LVMLOCKD, LVMLOCKD_CLONE, LOCKD_ORDER, LOCKD_COLOCATION)


def after_lvmlockd(pool: str) -> str:
    return f"san-{pool}-after-lvmlockd"


def with_lvmlockd(pool: str) -> str:
    return f"san-{pool}-with-lvmlockd"


def shared_pools(config: Config) -> tuple[Pool, ...]:
    return tuple(p for p in config.pools if p.shared is not None)


def _clone(ident: str, primitive: ET.Element) -> ET.Element:
    clone = ET.Element("clone", {"id": ident})
    clone.append(primitive)
    clone.append(_nvset("meta_attributes", f"{ident}-meta_attributes", list(CLONE_META)))
    return clone


def lock_clones() -> list[ET.Element]:
    """dlm and lvmlockd, each cloned on every node."""
    return [_clone(DLM_CLONE, _primitive(DLM, DLM_AGENT, [], DLM_OPS)),
            _clone(LVMLOCKD_CLONE, _primitive(LVMLOCKD, LVMLOCKD_AGENT, [], LVMLOCKD_OPS))]


def _order(ident: str, first: str, then: str) -> ET.Element:
    return ET.Element("rsc_order", {"id": ident, "kind": "Mandatory", "first": first, "first-action": "start",
                                    "then": then, "then-action": "start"})


def _colocation(ident: str, rsc: str, with_rsc: str) -> ET.Element:
    return ET.Element("rsc_colocation", {"id": ident, "score": "INFINITY", "rsc": rsc, "with-rsc": with_rsc})


def lock_constraints() -> list[ET.Element]:
    return [_order(LOCKD_ORDER, DLM_CLONE, LVMLOCKD_CLONE), _colocation(LOCKD_COLOCATION, LVMLOCKD_CLONE, DLM_CLONE)]


def constraints(pool: Pool) -> list[ET.Element]:
    """The pool's group after the lvmlockd clone and on a node where it runs."""
    group = f"san-{pool.name}"
    return [_order(after_lvmlockd(pool.name), LVMLOCKD_CLONE, group),
            _colocation(with_lvmlockd(pool.name), group, LVMLOCKD_CLONE)]


def fragments(config: Config) -> dict[str, list[ET.Element]]:
    """The elements of every shared pool and, when there is one, the lock managers, per CIB section."""
    pools = shared_pools(config)
    if not pools:
        return {"resources": [], "constraints": []}
    resources, cons = lock_clones(), lock_constraints()
    for pool in pools:
        resources.append(pool_group(config, pool))
        cons += constraints(pool)
    return {"resources": resources, "constraints": cons}


def with_lock_managers(current: str, spec: ClusterSpec) -> str:
    """`current` with the lock managers' clones and their constraints in place (epoch + 1): pushed before the
    first shared pool's VG is made, which needs lvmlockd running (the pool's own push keeps them)."""
    root, section = parse_cib(current)
    for name, elements in (("resources", lock_clones()), ("constraints", lock_constraints())):
        target = _section(section, name)
        for ours in elements:
            _replace(target, ours)
    return merge_cib(ET.tostring(root, encoding="unicode"), spec)


def pools_in_cib(config_section: ET.Element) -> set[str]:
    """The shared pools whose chain the CIB holds: groups san-P whose san-P-vg is LVM-activate under lvmlockd."""
    found = set()
    resources = config_section.find("resources")
    for group in resources.findall("group") if resources is not None else []:
        ident = group.get("id", "")
        vg = group.find(f"primitive[@id='{ident}-vg']")
        if not ident.startswith("san-") or vg is None or vg.get("type") != "LVM-activate":
            continue
        modes = {p.get("value") for p in vg.iter("nvpair") if p.get("name") == "vg_access_mode"}
        if modes == {"lvmlockd"}:
            found.add(ident[len("san-"):])
    return found


def remove_gone(config_section: ET.Element, config: Config) -> None:
    """Take out the chains of shared pools no longer in `config` (with every constraint naming them), and the
    lock managers with their constraints when no shared pool is left."""
    wanted = {p.name for p in shared_pools(config)}
    for pool in sorted(pools_in_cib(config_section) - wanted):
        _remove_pool(config_section, pool)
    if wanted:
        return
    resources = _section(config_section, "resources")
    gone = {DLM_CLONE, LVMLOCKD_CLONE, DLM, LVMLOCKD}
    for el in [el for el in resources if el.get("id") in gone]:
        resources.remove(el)
    cons = _section(config_section, "constraints")
    for el in [el for el in cons if el.get("id") in FIXED_IDS
               or any(el.get(ref) in gone for ref in ("rsc", "with-rsc", "first", "then"))]:
        cons.remove(el)


__all__ = ["DLM_CLONE", "FIXED_IDS", "LVMLOCKD_CLONE", "after_lvmlockd", "constraints", "fragments", "lock_clones",
           "lock_constraints", "pools_in_cib", "remove_gone", "shared_pools", "with_lock_managers", "with_lvmlockd"]
