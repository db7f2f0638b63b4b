"""Replicated pools: created on both nodes of the cluster, then handed to Pacemaker (docs/REPLICATION.md).

`create` is the one two-node step outside Pacemaker, run from either node:

1. everything is checked first: the name, the cluster (two nodes, fencing proven), both disks (the other node
   checks its own through its API), the replication addresses, the floating addresses; nothing changes on a refusal;
2. both nodes `prepare` (the other one through its API, user cluster-peer): the .res file and lvm.conf, the DRBD
   module, the meta data on the backing disk, `up`;
3. this node forces the initial sync (it becomes the SyncSource), makes the VG on /dev/drbdN, deactivates it and
   steps down to Secondary;
4. one commit: the pool joins the clustered configuration in the CIB together with its chain (DRBD clone, VG,
   pool volumes, floating addresses): Pacemaker promotes DRBD where the data is UpToDate and starts the chain.

Every step looks first and does only what is missing, so a create interrupted anywhere is finished by running it
again. `delete` is the reverse: the chain leaves the CIB (Pacemaker stops it), then both nodes take the resource
down and remove its files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from sanappliance.drbd import status as drbd_status
from sanappliance.drbd.networks import replication_address
from sanappliance.errors import CONFLICT, IN_USE, INVALID, NOT_FOUND, SanError
from sanappliance.model import values
from sanappliance.model.config import Config, FloatingIp, Pool, ReplicaNode, Replication, replace_item
from sanappliance.model.replication import allocate
from sanappliance.model.validate import check

from . import cluster, cluster_ops
from .commit import Outcome, commit
from .env import Env


class DrbdHost(Protocol):
    """This node's DRBD side (apply.drbd.DrbdHost)."""

    planned: list[str]

    def write_files(self, config: Config) -> list[str]: ...
    def modprobe(self) -> None: ...
    def create_md(self, pool: Pool) -> bool: ...
    def up(self, pool: Pool) -> str: ...
    def primary(self, pool: Pool, *, force: bool = False) -> bool: ...
    def secondary(self, pool: Pool) -> bool: ...
    def create_vg(self, pool: Pool) -> Any: ...
    def deactivate_vg(self, pool: Pool) -> None: ...
    def device(self, pool: Pool) -> drbd_status.Device: ...


def live_drbd(dry_run: bool = False) -> DrbdHost:
    from sanappliance.apply.drbd import DrbdHost as Live

    return Live(dry_run=dry_run)


def live_hosts(cluster_host: Any = None, dry_run: bool = False) -> Hosts:
    from . import network

    return Hosts(cluster_host if cluster_host is not None else cluster.live_host(), live_drbd(dry_run),
                 network.live_host())


@dataclass(frozen=True)
class Hosts:
    """What a replicated pool's service needs besides the Env: the cluster and DRBD of this node, its address."""

    cluster: Any  # service.cluster.ClusterHost and cluster_ops.OpsHost
    drbd: DrbdHost
    network: Any = None  # service.network.NetworkHost (None: no network spec to take addresses from)
    hostname: str = ""

    def name(self) -> str:
        return self.hostname or str(self.cluster.hostname())


def own_address(hosts: Hosts) -> str:
    """This node's replication address: its network spec's replication (else cluster) address."""
    spec = hosts.network.read_spec() if hosts.network is not None else None
    if spec is None:
        raise SanError("this node has no network spec to take its replication address from: give it",
                       field="address", kind=NOT_FOUND)
    return replication_address(spec)


# --- the other node's side (called through its API) -----------------------------------------------------------------

def replica_info(env: Env, hosts: Hosts, disk: str) -> dict[str, Any]:
    """What the creating node needs of this one: its name, replication address (or ""), and whether `disk` is here
    and free (the problem in words, or "")."""
    facts = env.system.facts(Config(pools=(Pool("probe", (disk,)),)))
    problem = ""
    if facts.disk_sizes and disk not in facts.disk_sizes:
        problem = "no such disk on this node"
    elif disk in facts.disks_in_use:
        problem = f"disk in use ({facts.disks_in_use[disk]})"
    try:
        address = own_address(hosts)
    except SanError:
        address = ""
    return {"node": hosts.name(), "address": address, "disk_problem": problem}


def prepare(env: Env, hosts: Hosts, pool_json: str) -> list[str]:
    """This node's part of a new pool: files, module, meta data, up. Checked against this node's facts first."""
    pool = pool_from_json(pool_json)
    with env.store.lock():
        wanted = with_pool(env, env.store.load(), pool)
        drbd = hosts.drbd
        done = [f"files: {', '.join(drbd.write_files(wanted)) or 'unchanged'}"]
        drbd.modprobe()
        done.append("meta data: " + ("written" if drbd.create_md(pool) else "present"))
        done.append(f"resource: {drbd.up(pool)}")
    return done + list(drbd.planned)


def with_pool(env: Env, config: Config, pool: Pool) -> Config:
    """`config` with the pool another node sent (as it is when it is there already), checked on this node."""
    existing = next((p for p in config.pools if p.name == pool.name), None)
    if existing is not None and existing != pool:
        raise SanError("a different pool of this name exists", field="name", value=pool.name, kind=CONFLICT)
    wanted = config if existing is not None else replace(config, pools=config.pools + (pool,))
    check(wanted, env.system.facts(wanted))
    return wanted


def pool_from_json(text: str, kind: str = "replicated") -> Pool:
    """The one pool of `kind` ("replicated" or "shared") that the other node sent (pool_json)."""
    config = Config.from_json(text, "pool")
    if len(config.pools) != 1 or config.pools[0].kind != kind:
        raise SanError(f"expected one {kind} pool", field="pool", kind=INVALID)
    return config.pools[0]


def pool_json(pool: Pool) -> str:
    """The pool as the other node's API takes it: a Config holding just this pool."""
    return Config(pools=(pool,)).to_json()


# --- create and delete ---------------------------------------------------------------------------------------------

def _peer(hosts: Hosts) -> str:
    spec = cluster.spec(hosts.cluster)
    if spec is None:
        raise SanError("replicated pools need a two-node cluster: form one first (sanctl /cluster init)",
                       field="cluster", kind=NOT_FOUND)
    others = [n.name for n in spec.nodes if n.name != hosts.name()]
    if len(spec.nodes) != 2 or len(others) != 1:
        raise SanError(f"replicated pools need a cluster of exactly two nodes (it has {len(spec.nodes)})",
                       field="cluster", value=len(spec.nodes), kind=INVALID)
    return others[0]


def parse_floating(ips: list[str]) -> tuple[FloatingIp, ...]:
    found = []
    for i, text in enumerate(ips):
        address, _, link = text.partition("@")
        if "/" not in address:
            raise SanError("a floating address has its prefix length: 10.0.3.100/24", field=f"ip[{i}]",
                           value=text, kind=INVALID)
        found.append(FloatingIp(address, link))
    return tuple(found)


def create(env: Env, hosts: Hosts, name: str, disk: str, peer_disk: str, *, ips: list[str] | None = None,
           address: str = "", peer_address: str = "") -> Outcome:
    """A replicated pool on `disk` here and `peer_disk` on the other node (see the module's steps)."""
    values.check_name(name, "name")
    for field_name, value in (("disk", disk), ("peer_disk", peer_disk)):
        if not value:
            raise SanError("required", field=field_name, kind=INVALID)
    floating = parse_floating(ips or [])
    me, peer = hosts.name(), _peer(hosts)
    cluster_ops.require_fencing_tested(hosts.cluster)
    info = cluster.call_node(hosts.cluster, peer, "san_peer_replica_info", {"disk": peer_disk})
    if info.get("disk_problem"):
        raise SanError(f"{peer}: {info['disk_problem']}", field="peer_disk", value=peer_disk, kind=INVALID)
    mine = address or own_address(hosts)
    theirs = peer_address or str(info.get("address") or "")
    if not theirs:
        raise SanError(f"{peer} has no network spec to take its replication address from: give it",
                       field="peer_address", kind=NOT_FOUND)
    with env.store.lock():
        before = env.store.load()
        if any(p.name == name for p in before.pools):
            raise SanError("a pool with this name exists already", field="name", value=name, kind=CONFLICT)
        minor, port = allocate(before)
        nodes = sorted((ReplicaNode(me, disk, mine), ReplicaNode(peer, peer_disk, theirs)), key=lambda n: n.name)
        pool = Pool(name, (), replication=Replication(tuple(nodes), minor, port), floating_ips=floating)
        after = replace(before, pools=before.pools + (pool,))
        check(after, env.system.facts(after))
        steps = (f"{peer}: DRBD files, meta data on {peer_disk}, up", f"{me}: DRBD files, meta data on {disk}, up",
                 f"{me}: initial sync from here, VG {pool.vg} on {pool.replication.device}, then Secondary")
        if env.dry_run:
            return Outcome(before, steps + (f"cluster: create replicated pool {name}",), dry_run=True)
    lines = [f"{peer}: {line}" for line in cluster.call_node(hosts.cluster, peer, "san_peer_replica_prepare",
                                                               {"pool": pool_json(pool)})]
    lines += [f"{me}: {line}" for line in prepare(env, hosts, pool_json(pool))]
    drbd = hosts.drbd
    if drbd.device(pool).disk != "UpToDate":
        drbd.primary(pool, force=True)
        lines.append(f"{me}: initial sync started from here")
    else:
        drbd.primary(pool)
    plan = drbd.create_vg(pool)
    lines.append(f"{me}: VG {pool.vg}" + (" made" if getattr(plan, "vgcreate", True) else " present"))
    drbd.deactivate_vg(pool)
    drbd.secondary(pool)
    return commit_new(env, pool, lines)


def commit_new(env: Env, pool: Pool, lines: list[str]) -> Outcome:
    """The last step of a create: the prepared pool joins the configuration (refused if one of its name was made
    meanwhile); `lines` (what the create did so far) come before the commit's plan."""
    with env.store.lock():
        before = env.store.load()
        if any(p.name == pool.name for p in before.pools):
            raise SanError("a pool with this name was made meanwhile", field="name", value=pool.name, kind=CONFLICT)
        outcome = commit(env, before, replace(before, pools=before.pools + (pool,)))
    return replace(outcome, plan=tuple(lines) + outcome.plan)


def delete(env: Env, hosts: Hosts, name: str) -> Outcome:
    """An empty replicated pool: its chain leaves the CIB (Pacemaker stops it), then both nodes take it down."""
    peer = _peer(hosts)
    with env.store.lock():
        before = env.store.load()
        pool, after = deletable(before, name, "replicated")
        outcome = commit(env, before, after)
        if env.dry_run:
            return replace(outcome, plan=outcome.plan + (f"{peer} and here: DRBD resource down, files removed",))
        lines = [f"here: {line}" for line in hosts.drbd.write_files(env.store.load())]
    lines += [f"{peer}: {line}" for line in cluster.call_node(hosts.cluster, peer, "san_peer_replica_files", {})]
    return replace(outcome, plan=outcome.plan + tuple(lines))


def deletable(config: Config, name: str, kind: str) -> tuple[Pool, Config]:
    """The pool of `kind` named `name` and the configuration without it; refused while it holds volumes."""
    pool = config.pool(name)
    if pool.kind != kind:
        raise SanError(f"not a {kind} pool (sanctl /pools delete)", field="name", value=name, kind=INVALID)
    users = [v.name for v in config.volumes if v.pool == name]
    if users:
        raise SanError(f"the pool still holds volumes: {', '.join(users)}", field="name", value=name, kind=IN_USE)
    return pool, replace(config, pools=replace_item(config.pools, pool, None))


def _moving_resource(env: Env, name: str) -> str:
    """What Pacemaker moves for the pool: a replicated pool's DRBD clone (its Promoted role, the group follows),
    a shared pool's group."""
    from sanappliance.drbd.cib import PoolIds

    pool = env.store.load().pool(name)
    if pool.replication is not None:
        return PoolIds(name).clone
    if pool.shared is not None:
        return PoolIds(name).group
    raise SanError("not a replicated or shared pool: a local pool stays on its node", field="name", value=name,
                   kind=INVALID)


def move(env: Env, hosts: Any, name: str, node: str) -> cluster_ops.OpResult:
    """Manual failover: the pool (DRBD's Promoted role or the shared VG, and with it the volumes, addresses and
    targets) to `node`. The preference stays until `clear`, so the pool does not move back by itself."""
    return cluster_ops.move(env, hosts.cluster, _moving_resource(env, name), node)


def clear(env: Env, hosts: Any, name: str) -> cluster_ops.OpResult:
    """Drop the preference a `move` left (the pool stays where it is: stickiness)."""
    return cluster_ops.clear(env, hosts.cluster, _moving_resource(env, name))


def sync_files(env: Env, hosts: Hosts) -> list[str]:
    """This node's DRBD and LVM files as the saved configuration renders them (obsolete resources down)."""
    with env.store.lock():
        return hosts.drbd.write_files(env.store.load())


__all__ = ["DrbdHost", "Hosts", "clear", "create", "delete", "live_drbd", "move", "parse_floating", "pool_json",
           "prepare",
           "replica_info", "sync_files"]
