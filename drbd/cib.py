"""The Pacemaker chain of each replicated pool (pure, ElementTree), merged into the CIB with the cluster's own part.

For pool P (DRBD resource and VG san-P), every id starts with `san-` (a location constraint with rsc-pattern
"^san-" reaches them all):

    clone san-P-drbd-clone (promotable, 1 promoted, 2 instances, notify)
      primitive san-P-drbd           ocf:linbit:drbd drbd_resource=san-P  (monitor: Promoted 29s, Unpromoted 31s)
    group san-P                      started in this order, stopped in the reverse one, all on one node
      primitive san-P-vg             ocf:heartbeat:LVM-activate vgname=san-P vg_access_mode=system_id
      primitive san-P-volumes        ocf:sanappliance:volumes vg=san-P volumes  (the pool's LVs: created and grown
                                     here; volumes: volumes_param, reloadable)
      primitive san-P-block-IP       ocf:heartbeat:portblock action=block    (per floating address, Pool.portblock)
      primitive san-P-ip-IP          ocf:heartbeat:IPaddr2 ip cidr_netmask [nic]  (per floating address)
      primitive san-P-target-IQN     ocf:sanappliance:target iqn pool config  (per target on the pool's volumes;
                                     config: lio.clustered.config_param, reloadable)
      primitive san-P-unblock-IP     ocf:heartbeat:portblock action=unblock  (per floating address, Pool.portblock)
    rsc_colocation san-P-with-drbd-promoted   san-P with the Promoted role of san-P-drbd-clone, INFINITY
    rsc_order san-P-after-drbd-promote        promote san-P-drbd-clone, then start san-P (Mandatory)

Shared-disk pools (drbd/shared_cib.py) have the same group, its VG under lvmlockd, after the dlm and lvmlockd
clones instead of a DRBD clone; merge_pools merges them too.

`merge_pools` replaces these elements by id, removes those of pools no longer in the config (with the constraints
that name them, the crm-fence-peer handler's included), keeps everything else, then hands the result to the
cluster's merge_cib (its options, defaults and fence device; the check that ids are unique; epoch + 1): one push.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sanappliance.agent.volumes import encode_volumes
from sanappliance.cluster.cib import _nvset, _replace, _section, merge_cib, parse_cib
from sanappliance.cluster.model import ClusterSpec
from sanappliance.errors import CONFLICT, SanError
from sanappliance.lio.clustered import config_param
from sanappliance.model.config import Config, Pool, VolumeKind
from sanappliance.model.replication import targets_of_pool
from sanappliance.storage.plan import round_to_extent

from .render import resource_name

ISCSI_PORT = "3260"
TARGET_AGENT = ("ocf", "sanappliance", "target")
VOLUMES_AGENT = ("ocf", "sanappliance", "volumes")
DRBD_AGENT = ("ocf", "linbit", "drbd")
CLONE_META = (("promotable", "true"), ("promoted-max", "1"), ("promoted-node-max", "1"), ("clone-max", "2"),
              ("clone-node-max", "1"), ("notify", "true"))
# (name, interval, timeout, role): the agents' advertised timeouts; the two monitors need different intervals
DRBD_OPS = (("start", "0s", "240s", ""), ("promote", "0s", "90s", ""), ("demote", "0s", "90s", ""),
            ("notify", "0s", "90s", ""), ("stop", "0s", "100s", ""),
            ("monitor", "29s", "20s", "Promoted"), ("monitor", "31s", "20s", "Unpromoted"))
VG_OPS = (("start", "0s", "90s", ""), ("stop", "0s", "90s", ""), ("monitor", "30s", "90s", ""))
IP_OPS = (("monitor", "10s", "20s", ""),)
PORTBLOCK_OPS = (("monitor", "10s", "10s", ""),)
VOLUMES_OPS = (("start", "0s", "120s", ""), ("stop", "0s", "60s", ""), ("monitor", "30s", "60s", ""),
               ("reload-agent", "0s", "120s", ""))
TARGET_OPS = (("start", "0s", "120s", ""), ("stop", "0s", "120s", ""), ("monitor", "20s", "30s", ""),
              ("reload-agent", "0s", "120s", ""))
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class PoolIds:
    """The fixed CIB ids of one pool's chain."""

    pool: str

    @property
    def prefix(self) -> str:
        return f"san-{self.pool}"

    @property
    def drbd(self) -> str:
        return f"{self.prefix}-drbd"

    @property
    def clone(self) -> str:
        return f"{self.prefix}-drbd-clone"

    @property
    def group(self) -> str:
        return self.prefix

    @property
    def vg(self) -> str:
        return f"{self.prefix}-vg"

    @property
    def volumes(self) -> str:
        return f"{self.prefix}-volumes"

    @property
    def colocation(self) -> str:
        return f"{self.prefix}-with-drbd-promoted"

    @property
    def order(self) -> str:
        return f"{self.prefix}-after-drbd-promote"

    def ip(self, address: str) -> str:
        return f"{self.prefix}-ip-{_UNSAFE.sub('_', address)}"

    def block(self, address: str) -> str:
        return f"{self.prefix}-block-{_UNSAFE.sub('_', address)}"

    def unblock(self, address: str) -> str:
        return f"{self.prefix}-unblock-{_UNSAFE.sub('_', address)}"

    def target(self, iqn: str) -> str:
        return f"{self.prefix}-target-{_UNSAFE.sub('_', iqn)}"


def _primitive(ident: str, agent: tuple[str, str, str], params: list[tuple[str, str]],
               ops: tuple[tuple[str, str, str, str], ...]) -> ET.Element:
    cls, provider, kind = agent
    rsc = ET.Element("primitive", {"id": ident, "class": cls, "provider": provider, "type": kind})
    if params:
        rsc.append(_nvset("instance_attributes", f"{ident}-instance_attributes", params))
    operations = ET.SubElement(rsc, "operations")
    for name, interval, timeout, role in ops:
        attrs = {"id": f"{ident}-{name}-interval-{interval}" + (f"-{role}" if role else ""), "name": name,
                 "interval": interval, "timeout": timeout}
        if role:
            attrs["role"] = role
        ET.SubElement(operations, "op", attrs)
    return rsc


def drbd_clone(pool: Pool) -> ET.Element:
    ids = PoolIds(pool.name)
    clone = ET.Element("clone", {"id": ids.clone})
    clone.append(_primitive(ids.drbd, DRBD_AGENT, [("drbd_resource", resource_name(pool))], DRBD_OPS))
    clone.append(_nvset("meta_attributes", f"{ids.clone}-meta_attributes", list(CLONE_META)))
    return clone


def volumes_param(config: Config, pool: Pool) -> str:
    """The volumes agent's `volumes`: the pool's LVs (name, size rounded up to whole extents as LVM does, as the
    local storage plan does) as compact JSON, sorted by name."""
    return encode_volumes((v.name, round_to_extent(v.size)) for v in config.volumes
                          if v.pool == pool.name and v.kind is VolumeKind.LV)


def vg_params(pool: Pool) -> list[tuple[str, str]]:
    """LVM-activate's parameters: a replicated pool's VG carries the serving node's system ID; a shared pool's is
    locked through lvmlockd, its LVs active on the serving node only (drbd/shared_cib.py)."""
    if pool.shared is not None:
        return [("vgname", pool.vg), ("vg_access_mode", "lvmlockd"), ("activation_mode", "exclusive")]
    return [("vgname", pool.vg), ("vg_access_mode", "system_id")]


# Seconds of timeout added per LV to the actions that make or activate every LV of the pool (LVM-activate's start
# and stop, the volumes agent's start, stop and reload), and per LUN to the target agent's start, stop and reload:
# measured about 0.7 s per LV and 0.44 s per LUN under TCG (a 256-LUN target took 112 s to start against a 120 s
# timeout); counted in steps of PER_LV_STEP, so that a few volumes more or less leave the ops (and Pacemaker's
# digests) as they are.
PER_LV_SECONDS = 2
PER_LV_STEP = 64
PER_LV_FREE = 32  # up to this many LVs the base timeouts hold


def scaled(ops: tuple[tuple[str, str, str, str], ...], actions: tuple[str, ...],
           lvs: int) -> tuple[tuple[str, str, str, str], ...]:
    """`ops` with the timeouts of `actions` grown for a pool of `lvs` LVs (see PER_LV_SECONDS)."""
    if lvs <= PER_LV_FREE:
        return ops
    extra = PER_LV_SECONDS * PER_LV_STEP * -(-lvs // PER_LV_STEP)
    return tuple((name, interval, f"{int(timeout.rstrip('s')) + extra}s" if name in actions and interval == "0s"
                  else timeout, role) for name, interval, timeout, role in ops)


def pool_group(config: Config, pool: Pool) -> ET.Element:
    """The pool's group: VG, its volumes, (port block,) floating addresses, targets, (port unblock), started in
    that order."""
    ids = PoolIds(pool.name)
    lvs = sum(1 for v in config.volumes if v.pool == pool.name)
    group = ET.Element("group", {"id": ids.group})
    group.append(_primitive(ids.vg, ("ocf", "heartbeat", "LVM-activate"), vg_params(pool),
                            scaled(VG_OPS, ("start", "stop"), lvs)))
    group.append(_primitive(ids.volumes, VOLUMES_AGENT, [("vg", pool.vg), ("volumes", volumes_param(config, pool))],
                            scaled(VOLUMES_OPS, ("start", "stop", "reload-agent"), lvs)))
    ips = [fip.ip for fip in pool.floating_ips]
    if pool.portblock:
        for ip in ips:
            group.append(_portblock(ids.block(ip), ip, "block"))
    for fip in pool.floating_ips:
        params = [("ip", fip.ip), ("cidr_netmask", fip.prefix)]
        if fip.link:
            params.append(("nic", fip.link))
        group.append(_primitive(ids.ip(fip.ip), ("ocf", "heartbeat", "IPaddr2"), params, IP_OPS))
    seen: dict[str, str] = {}
    for target in targets_of_pool(config, pool.name):
        ident = ids.target(target.iqn)
        if ident in seen:
            raise SanError(f"two targets of pool {pool.name} map to one cluster resource id ({seen[ident]})",
                           field=f"targets[{target.iqn}].iqn", value=target.iqn, kind=CONFLICT)
        seen[ident] = target.iqn
        params = [("iqn", target.iqn), ("pool", pool.name), ("config", config_param(config, target.iqn))]
        luns = sum(len(tpg.luns) for tpg in target.tpgs)
        group.append(_primitive(ident, TARGET_AGENT, params,
                                scaled(TARGET_OPS, ("start", "stop", "reload-agent"), luns)))
    if pool.portblock:
        for ip in ips:
            group.append(_portblock(ids.unblock(ip), ip, "unblock"))
    return group


def _portblock(ident: str, ip: str, action: str) -> ET.Element:
    return _primitive(ident, ("ocf", "heartbeat", "portblock"),
                      [("ip", ip), ("portno", ISCSI_PORT), ("protocol", "tcp"), ("action", action)], PORTBLOCK_OPS)


def constraints(pool: Pool) -> list[ET.Element]:
    ids = PoolIds(pool.name)
    return [ET.Element("rsc_colocation", {"id": ids.colocation, "score": "INFINITY", "rsc": ids.group,
                                          "with-rsc": ids.clone, "with-rsc-role": "Promoted"}),
            ET.Element("rsc_order", {"id": ids.order, "kind": "Mandatory", "first": ids.clone,
                                     "first-action": "promote", "then": ids.group, "then-action": "start"})]


def fragments(config: Config) -> dict[str, list[ET.Element]]:
    """The elements of every replicated pool, per CIB section."""
    resources: list[ET.Element] = []
    cons: list[ET.Element] = []
    for pool in config.pools:
        if pool.replication is None:
            continue
        resources += [drbd_clone(pool), pool_group(config, pool)]
        cons += constraints(pool)
    return {"resources": resources, "constraints": cons}


def pools_in_cib(config_section: ET.Element) -> set[str]:
    """The pools whose chain the CIB holds: clones named san-P-drbd-clone around an ocf:linbit:drbd primitive."""
    found = set()
    resources = config_section.find("resources")
    for clone in resources.findall("clone") if resources is not None else []:
        ident = clone.get("id", "")
        prim = clone.find("primitive")
        if ident.startswith("san-") and ident.endswith("-drbd-clone") and prim is not None and \
                (prim.get("class"), prim.get("provider"), prim.get("type")) == DRBD_AGENT:
            found.add(ident[len("san-"):-len("-drbd-clone")])
    return found


def _remove_pool(config_section: ET.Element, pool: str) -> None:
    ids = PoolIds(pool)
    resources = _section(config_section, "resources")
    gone = {ids.clone, ids.group}
    for el in [el for el in resources if el.get("id") in gone]:
        gone |= {sub.get("id", "") for sub in el.iter("primitive")}
        resources.remove(el)
    cons = _section(config_section, "constraints")
    refs = ("rsc", "with-rsc", "first", "then")
    for el in [el for el in cons if el.get("id") in (ids.colocation, ids.order)
               or any(el.get(ref) in gone for ref in refs)]:
        cons.remove(el)


def merge_pools(current: str, spec: ClusterSpec, config: Config) -> str:
    """`current` with every replicated pool's chain in place and the chains of removed pools gone, plus the
    cluster's own part (cluster.cib.merge_cib): everything else kept, ids checked unique, epoch + 1."""
    from . import shared_cib  # the shared pools' chains build on this module's

    root, section = parse_cib(current)
    wanted = {pool.name for pool in config.pools if pool.replication is not None}
    for pool in sorted(pools_in_cib(section) - wanted):
        _remove_pool(section, pool)
    shared_cib.remove_gone(section, config)  # every removal before any addition: a pool may have changed kind
    for part in (fragments(config), shared_cib.fragments(config)):
        for name, elements in part.items():
            target = _section(section, name)
            for ours in elements:
                _replace(target, ours)
    return merge_cib(ET.tostring(root, encoding="unicode"), spec)


__all__ = ["PoolIds", "constraints", "drbd_clone", "fragments", "merge_pools", "pool_group", "pools_in_cib",
           "vg_params", "volumes_param"]
