"""Validation of a whole desired state (pure): every problem, each naming its field and value. Nothing is changed
unless this returns no problem."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sanappliance.errors import SanError
from sanappliance.multipath import model as multipath

from . import replication, settings, values
from .config import SCHEMA_VERSION, Acl, Chap, Config, InitiatorGroup, MappedLun, Pool, Target, Tpg, VolumeKind

MAX_LUN = 65535
MAX_TAG = 65535
# the CIB ids of the cluster's lock managers (drbd/shared_cib.py: san-dlm..., san-lvmlockd...) are those of a
# clustered pool so named (its group is san-<pool>, its resources san-<pool>-...)
RESERVED_POOL_NAMES = re.compile(r"^(dlm|lvmlockd)(-|$)")


@dataclass(frozen=True)
class Facts:
    """What validation needs to know of the live system (gathered by the apply layer; empty in pure tests)."""

    disk_sizes: dict[str, int] = field(default_factory=dict)  # by-id path -> bytes, disks present
    disks_in_use: dict[str, str] = field(default_factory=dict)  # by-id path -> what uses it (not our pools)
    pool_sizes: dict[str, int] = field(default_factory=dict)  # pool name -> usable bytes (VG size)
    node: str = ""  # this node's name in a cluster: the disk facts are checked against its replicas' backing disks


class Problems:
    def __init__(self) -> None:
        self.items: list[SanError] = []

    def add(self, message: str, field: str, value: object = None) -> None:
        self.items.append(SanError(message, field=field, value=value))

    def check(self, fn, *args) -> object:  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except SanError as exc:
            self.items.append(exc)
            return None


def duplicates(items: Iterable[object]) -> list[object]:
    """The items that occur more than once (each repeat once more), in order."""
    seen: set[object] = set()
    dups = []
    for item in items:
        if item in seen:
            dups.append(item)
        seen.add(item)
    return dups


def validate(config: Config, facts: Facts | None = None) -> list[SanError]:
    facts = facts or Facts()
    p = Problems()
    if config.schema != SCHEMA_VERSION:
        p.add(f"schema version {SCHEMA_VERSION} expected (upgrade the file first)", "schema", config.schema)
    if config.generation < 0:
        p.add("must not be negative", "generation", config.generation)
    _pools(config, facts, p)
    _volumes(config, facts, p)
    for name in duplicates(t.iqn for t in config.targets):
        p.add("a target with this name exists already", "targets.iqn", name)
    for target in config.targets:
        where = f"targets[{target.iqn}]"
        if target.iqn != values.normalize_wwn(target.iqn):
            p.add("target names are stored lowercase", f"{where}.iqn", target.iqn)
        p.check(values.check_iqn, target.iqn, f"{where}.iqn")
        for tag in duplicates(g.tag for g in target.tpgs):
            p.add("TPG tags must be unique in a target", f"{where}.tpgs", tag)
        for tpg in target.tpgs:
            _tpg(config, tpg, f"{where}.tpg{tpg.tag}", p)
    if config.discovery.chap is not None:
        _chap(config.discovery.chap, "discovery.chap", p)
    return p.items


def _pools(config: Config, facts: Facts, p: Problems) -> None:
    for name in duplicates(pool.name for pool in config.pools):
        p.add("a pool with this name exists already", "pools.name", name)
    owners: dict[str, str] = {}
    for pool in config.pools:
        where = f"pools[{pool.name}]"
        p.check(values.check_name, pool.name, f"{where}.name")
        if pool.clustered and RESERVED_POOL_NAMES.match(pool.name):
            p.add("the cluster's lock managers use this name (dlm, lvmlockd): choose another for a clustered pool",
                  f"{where}.name", pool.name)
        if pool.replication is not None and pool.shared is not None:
            p.add("a pool is local, replicated or shared, never two of them: it has replication and shared storage",
                  f"{where}.shared", ", ".join(d.wwid for d in pool.shared.disks))
        elif pool.replication is not None:
            if pool.disks:
                p.add("a replicated pool's VG is on its DRBD device: its disks are in replication.nodes",
                      f"{where}.disks", pool.disks[0])
        elif pool.shared is not None:
            if pool.disks:
                p.add("a shared pool's VG is on its multipath maps: its disks are in shared.disks", f"{where}.disks",
                      pool.disks[0])
        elif not pool.disks:
            p.add("a pool needs at least one disk", f"{where}.disks")
        elif pool.floating_ips:
            p.add("only a replicated or shared pool moves between nodes: floating addresses need one of them",
                  f"{where}.floating_ips", pool.floating_ips[0].address)
        if pool.portblock and not pool.floating_ips:
            p.add("the port block guards the pool's floating addresses: it has none", f"{where}.portblock", True)
        for disk in pool.disks:
            if not disk.startswith("/dev/disk/by-id/"):
                p.add("disks are named by their stable /dev/disk/by-id/ path", f"{where}.disks", disk)
            elif facts.disk_sizes and disk not in facts.disk_sizes:
                p.add("no such disk on this node", f"{where}.disks", disk)
            if disk in owners:
                p.add(f"disk already in pool {owners[disk]}", f"{where}.disks", disk)
            elif disk in facts.disks_in_use:
                p.add(f"disk in use ({facts.disks_in_use[disk]})", f"{where}.disks", disk)
            owners.setdefault(disk, pool.name)
    _shared(config, owners, p)
    _replicated(config, facts, owners, p)


def _shared(config: Config, owners: dict[str, str], p: Problems) -> None:
    """The shared pools' disks: a WWID and an alias each (multipath.model's checks), each WWID and alias in one pool
    only, and no shared disk that a local pool names by one of its own by-id links."""
    aliases: dict[str, str] = {}
    wwids: dict[str, str] = {}
    for pool in config.pools:
        if pool.shared is None:
            continue
        where = f"pools[{pool.name}].shared"
        if not pool.shared.disks:
            p.add("a shared pool needs at least one shared disk", f"{where}.disks")
        for disk in pool.shared.disks:
            at = f"{where}.disks[{disk.wwid}]"
            p.check(multipath.check_wwid, disk.wwid, f"{at}.wwid")
            p.check(multipath.check_alias, disk.alias, f"{at}.alias")
            if disk.wwid in wwids:
                p.add(f"disk already in pool {wwids[disk.wwid]}", f"{at}.wwid", disk.wwid)
            if disk.alias in aliases:
                p.add(f"the alias names a disk of pool {aliases[disk.alias]} already", f"{at}.alias", disk.alias)
            wwids.setdefault(disk.wwid, pool.name)
            aliases.setdefault(disk.alias, pool.name)
            for link in (f"/dev/disk/by-id/scsi-{disk.wwid}", f"/dev/disk/by-id/dm-uuid-mpath-{disk.wwid}",
                         f"/dev/disk/by-id/dm-name-{disk.alias}"):
                if link in owners:
                    p.add(f"the shared disk is in local pool {owners[link]} already", f"{at}.wwid", disk.wwid)


def _replicated(config: Config, facts: Facts, owners: dict[str, str], p: Problems) -> None:
    """The replicated pools: DRBD's nodes, disks, addresses and numbers, the floating addresses, and the targets
    that move with them."""
    pools = replication.replicated_pools(config)
    for minor in duplicates(pool.replication.minor for pool in pools if pool.replication):
        p.add("another replicated pool uses this DRBD minor", "pools.replication.minor", minor)
    for port in duplicates(pool.replication.port for pool in pools if pool.replication):
        p.add("another replicated pool uses this TCP port", "pools.replication.port", port)
    backing: dict[tuple[str, str], str] = {}
    replication_ips: set[str] = set()
    for pool in pools:
        for (node, disk), where in _replica(pool, facts, owners, p).items():
            if (node, disk) in backing:
                p.add(f"disk already backs pool {backing[(node, disk)]} on {node}", where, disk)
            backing.setdefault((node, disk), pool.name)
        replication_ips |= {n.address for n in pool.replication.nodes} if pool.replication else set()
    _floating(config, replication_ips, p)
    _moving_targets(config, {pool.name: pool for pool in config.pools if pool.clustered}, p)


def _floating(config: Config, replication_ips: set[str], p: Problems) -> None:
    floating: list[str] = []
    for pool in config.pools:
        for i, fip in enumerate(pool.floating_ips):
            at = f"pools[{pool.name}].floating_ips[{i}]"
            try:
                iface = ipaddress.ip_interface(fip.address)
            except ValueError:
                p.add("a floating address is an IPv4 or IPv6 address with its prefix (10.0.3.100/24)",
                      f"{at}.address", fip.address)
                continue
            if "/" not in fip.address:
                p.add("a floating address needs its prefix (10.0.3.100/24)", f"{at}.address", fip.address)
            elif iface.ip.is_unspecified or iface.ip.is_loopback or iface.ip.is_multicast or \
                    (iface.network.num_addresses > 2 and iface.ip in (iface.network.network_address,
                                                                      iface.network.broadcast_address)):
                p.add("not an address a host can take", f"{at}.address", fip.address)
            elif str(iface.ip) in replication_ips:
                p.add("the address is a node's replication address", f"{at}.address", fip.address)
            floating.append(str(iface.ip))
            if fip.link:
                from sanappliance.network.validate import check_ifname  # network.validate imports this module

                check_ifname(fip.link, f"{at}.link", p)
    for ip in duplicates(floating):
        p.add("the floating address is used twice", "pools.floating_ips", ip)


def _moving_targets(config: Config, by_name: dict[str, Pool], p: Problems) -> None:
    """A target on a replicated or shared pool's volumes moves with it: all its LUNs there, its portals the
    pool's."""
    floating = {ip: name for name, pool in by_name.items() for f in pool.floating_ips
                if (ip := values.normal_ip(f.address)) is not None}
    for target in config.targets:
        served = replication.pools_of_target(config, target)
        moving = [name for name in served if name in by_name]
        if moving and len(served) > 1:
            p.add(f"the target moves with {by_name[moving[0]].kind} pool {moving[0]}: all its LUNs must be on that "
                  "pool",
                  f"targets[{target.iqn}].luns", ", ".join(name or "(not an LV)" for name in served))
        if not moving:
            _local_portals(target, floating, p)
            continue
        allowed = {ip for f in by_name[moving[0]].floating_ips if (ip := values.normal_ip(f.address)) is not None}
        for tpg in target.tpgs:
            for i, portal in enumerate(tpg.portals):
                if portal.address not in ("0.0.0.0", "::") and portal.address not in allowed:
                    p.add(f"a target of {by_name[moving[0]].kind} pool {moving[0]} listens on all addresses or "
                          "on the pool's floating ones", f"targets[{target.iqn}].tpg{tpg.tag}.portals[{i}].address",
                          portal.address)


def _local_portals(target: Target, floating: dict[str, str], p: Problems) -> None:
    """A target with LUNs on local volumes does not listen on a pool's floating address (`floating`: address ->
    pool); one without LUNs may: it can await its first LUN from that pool."""
    if not any(tpg.luns for tpg in target.tpgs):
        return
    for tpg in target.tpgs:
        for i, portal in enumerate(tpg.portals):
            pool = floating.get(values.normal_ip(portal.address) or portal.address)
            if pool is not None:
                p.add(f"a floating address of pool {pool} serves that pool's targets only (a target with LUNs on "
                      "local volumes listens on all addresses or on the node's own)",
                      f"targets[{target.iqn}].tpg{tpg.tag}.portals[{i}].address", portal.address)


def _replica(pool: Pool, facts: Facts, owners: dict[str, str], p: Problems) -> dict[tuple[str, str], str]:
    """Check one replicated pool; return its (node, backing disk) pairs with the field that names each."""
    from sanappliance.network.validate import check_hostname  # network.validate imports this module

    rep = pool.replication
    assert rep is not None
    where = f"pools[{pool.name}].replication"
    if len(rep.nodes) != replication.NODES:
        p.add(f"DRBD 8.4 replicates between exactly {replication.NODES} nodes", f"{where}.nodes", len(rep.nodes))
    for name in duplicates(n.name for n in rep.nodes):
        p.add("a node holds one replica of a pool", f"{where}.nodes", name)
    if rep.protocol not in replication.PROTOCOLS:
        p.add("only protocol C (synchronous) is allowed: a SAN must not lose acknowledged writes",
              f"{where}.protocol", rep.protocol)
    if isinstance(rep.minor, bool) or not isinstance(rep.minor, int) or not 0 <= rep.minor <= replication.MAX_MINOR:
        p.add(f"DRBD minors are 0-{replication.MAX_MINOR}", f"{where}.minor", rep.minor)
    low, high = replication.PORT_RANGE
    if isinstance(rep.port, bool) or not isinstance(rep.port, int) or not low <= rep.port <= high:
        p.add(f"a DRBD port is {low}-{high}", f"{where}.port", rep.port)
    elif rep.port in replication.RESERVED_PORTS:
        p.add("the appliance uses this port for another service", f"{where}.port", rep.port)
    families = set()
    pairs: dict[tuple[str, str], str] = {}
    for node in rep.nodes:
        at = f"{where}.nodes[{node.name}]"
        check_hostname(node.name, f"{at}.name", p)
        try:
            ip = ipaddress.ip_address(node.address)
        except ValueError:
            p.add("a replication address is an IPv4 or IPv6 address, without prefix", f"{at}.address", node.address)
        else:
            families.add(ip.version)
            if ip.is_unspecified or ip.is_loopback or ip.is_multicast:
                p.add("DRBD needs the node's own address on the replication link", f"{at}.address", node.address)
        if not node.disk.startswith("/dev/disk/by-id/"):
            p.add("disks are named by their stable /dev/disk/by-id/ path", f"{at}.disk", node.disk)
        elif node.disk in owners:
            p.add(f"disk already in pool {owners[node.disk]}", f"{at}.disk", node.disk)
        elif facts.node and node.name == facts.node:
            if facts.disk_sizes and node.disk not in facts.disk_sizes:
                p.add("no such disk on this node", f"{at}.disk", node.disk)
            elif node.disk in facts.disks_in_use:
                p.add(f"disk in use ({facts.disks_in_use[node.disk]})", f"{at}.disk", node.disk)
        pairs[(node.name, node.disk)] = f"{at}.disk"
    for address in duplicates(n.address for n in rep.nodes):
        p.add("the two nodes need different replication addresses", f"{where}.nodes", address)
    if len(families) > 1:
        p.add("both nodes' replication addresses are of one family (IPv4 or IPv6)", f"{where}.nodes",
              ", ".join(n.address for n in rep.nodes))
    return pairs


def _volumes(config: Config, facts: Facts, p: Problems) -> None:
    for name in duplicates(v.name for v in config.volumes):
        p.add("a volume with this name exists already", "volumes.name", name)
    for path in duplicates(v.file_path for v in config.volumes if v.kind is VolumeKind.FILEIO):
        p.add("two volumes on the same file", "volumes.path", path)
    pool_names = {pool.name for pool in config.pools}
    used: dict[str, int] = {}
    for vol in config.volumes:
        where = f"volumes[{vol.name}]"
        p.check(values.check_name, vol.name, f"{where}.name")
        if isinstance(vol.size, bool) or not isinstance(vol.size, int) or vol.size <= 0:
            p.add("a size must be larger than zero", f"{where}.size", vol.size)
        elif vol.size % 512:
            p.add("a size must be a multiple of 512 bytes", f"{where}.size", vol.size)
        if vol.kind is VolumeKind.LV:
            if vol.pool not in pool_names:
                p.add("no such pool", f"{where}.pool", vol.pool)
            else:
                used[vol.pool] = used.get(vol.pool, 0) + vol.size
        elif vol.pool:
            p.add(f"{vol.kind.value} volumes are not in a pool", f"{where}.pool", vol.pool)
        if vol.kind is VolumeKind.FILEIO and vol.path and not vol.path.startswith("/"):
            p.add("the file path must be absolute", f"{where}.path", vol.path)
        if vol.kind is not VolumeKind.FILEIO and vol.path:
            p.add("only fileio volumes have a path", f"{where}.path", vol.path)
        if vol.wwn:
            try:
                uuid.UUID(vol.wwn)
            except ValueError:
                p.add("the unit serial is a UUID", f"{where}.wwn", vol.wwn)
        p.check(settings.parse_settings, settings.DEVICE_ATTRIBUTES, vol.attributes, f"{where}.attributes")
    for pool, total in used.items():
        size = facts.pool_sizes.get(pool)
        if size is not None and total > size:
            p.add(f"the pool's volumes need {values.format_size(total)} but it holds {values.format_size(size)}",
                  f"pools[{pool}].size", total)


def _chap(chap: Chap, where: str, p: Problems) -> None:
    p.check(values.check_chap_user, chap.userid, f"{where}.userid")
    p.check(values.check_chap_secret, chap.password, f"{where}.password")
    if chap.mutual_userid or chap.mutual_password:
        p.check(values.check_chap_user, chap.mutual_userid, f"{where}.mutual_userid")
        p.check(values.check_chap_secret, chap.mutual_password, f"{where}.mutual_password")
        if chap.mutual_password == chap.password:
            p.add("the mutual secret must differ from the initiator's secret", f"{where}.mutual_password",
                  "(hidden)")


def _mapped(mapped: tuple[MappedLun, ...], tpg_luns: set[int], where: str, p: Problems) -> None:
    for number in duplicates(m.mapped_lun for m in mapped):
        p.add("this mapped LUN number is used twice", f"{where}.mapped_luns", number)
    for m in mapped:
        if not 0 <= m.mapped_lun <= MAX_LUN:
            p.add(f"LUN numbers are 0-{MAX_LUN}", f"{where}.mapped_luns", m.mapped_lun)
        if m.tpg_lun not in tpg_luns:
            p.add("no such LUN in this TPG", f"{where}.mapped_luns.tpg_lun", m.tpg_lun)


def _tpg(config: Config, tpg: Tpg, where: str, p: Problems) -> None:
    if not 1 <= tpg.tag <= MAX_TAG:
        p.add(f"TPG tags are 1-{MAX_TAG}", f"{where}.tag", tpg.tag)
    for i, portal in enumerate(tpg.portals):
        p.check(values.check_address, portal.address, f"{where}.portals[{i}].address")
        p.check(values.check_port, portal.port, f"{where}.portals[{i}].port")
    for portal in duplicates((x.address, x.port) for x in tpg.portals):
        p.add("portal listed twice", f"{where}.portals", f"{portal[0]}:{portal[1]}")
    volumes = {v.name for v in config.volumes}
    for number in duplicates(lun.lun for lun in tpg.luns):
        p.add("a LUN with this number exists already", f"{where}.luns", number)
    for name in duplicates(lun.volume for lun in tpg.luns):
        p.add("the volume is exported twice in this TPG", f"{where}.luns", name)
    for lun in tpg.luns:
        if not 0 <= lun.lun <= MAX_LUN:
            p.add(f"LUN numbers are 0-{MAX_LUN}", f"{where}.luns", lun.lun)
        if lun.volume not in volumes:
            p.add("no such volume", f"{where}.lun{lun.lun}.volume", lun.volume)
    tpg_luns = {lun.lun for lun in tpg.luns}
    members: list[str] = [acl.initiator for acl in tpg.acls] + [i for g in tpg.groups for i in g.initiators]
    for wwn in duplicates(values.normalize_wwn(m) for m in members):
        p.add("the initiator has an ACL or group membership already", f"{where}.acls", wwn)
    for name in duplicates(g.name for g in tpg.groups):
        p.add("a group with this name exists already", f"{where}.groups", name)
    holders: list[Acl | InitiatorGroup] = [*tpg.acls, *tpg.groups]
    for acl in tpg.acls:
        at = f"{where}.acls[{acl.initiator}]"
        p.check(values.check_initiator, acl.initiator, f"{at}.initiator")
        if acl.initiator != values.normalize_wwn(acl.initiator):
            p.add("initiator names are stored lowercase", f"{at}.initiator", acl.initiator)
        _mapped(acl.mapped_luns, tpg_luns, at, p)
    for group in tpg.groups:
        at = f"{where}.groups[{group.name}]"
        p.check(values.check_name, group.name, f"{at}.name")
        for initiator in group.initiators:
            p.check(values.check_initiator, initiator, f"{at}.initiators")
        _mapped(group.mapped_luns, tpg_luns, at, p)
    for holder in holders:
        if holder.chap is not None:
            name = holder.initiator if isinstance(holder, Acl) else holder.name
            _chap(holder.chap, f"{where}.{'acls' if isinstance(holder, Acl) else 'groups'}[{name}].chap", p)
    if tpg.chap is not None:
        _chap(tpg.chap, f"{where}.chap", p)
    with_chap = [h for h in holders if h.chap is not None]
    if (with_chap or tpg.chap is not None) and len(with_chap) != len(holders):
        without = [h.initiator if isinstance(h, Acl) else h.name for h in holders if h.chap is None]
        p.add("LIO requires CHAP for all or none of a TPG's initiators; these have none", f"{where}.acls",
              ", ".join(without))
    p.check(settings.parse_settings, settings.TPG_ATTRIBUTES, tpg.attributes, f"{where}.attributes")
    p.check(settings.parse_settings, settings.TPG_PARAMETERS, tpg.parameters, f"{where}.parameters")
    if str(tpg.attributes.get("generate_node_acls")) in ("1", "True", "true", "yes") and \
            str(tpg.attributes.get("cache_dynamic_acls", "1")) in ("0", "False", "false", "no"):
        p.add("LIO keeps cache_dynamic_acls on while generate_node_acls (demo mode) is on",
              f"{where}.attributes.cache_dynamic_acls", tpg.attributes["cache_dynamic_acls"])
    if "authentication" in tpg.attributes:
        p.add("set by the appliance from the CHAP settings", f"{where}.attributes.authentication",
              tpg.attributes["authentication"])


def check(config: Config, facts: Facts | None = None) -> None:
    """Raise the first problem (all of them in the message) if the config is not valid."""
    problems = validate(config, facts)
    if problems:
        first = problems[0]
        message = first.message if len(problems) == 1 else (
            f"{first.message} (and {len(problems) - 1} more: " + "; ".join(str(x) for x in problems[1:4]) + ")")
        raise SanError(message, field=first.field, value=first.value, kind=first.kind)
