"""Shared-disk pools: a shared VG (lvmlockd + dlm) on multipathed disks every cluster node reaches, served by one
node at a time through the chain of the replicated pools (docs/SHARED.md).

`create` runs from any node of the cluster:

1. everything is checked first: the name, the cluster (two nodes or more, fencing proven), the disks (named by
   WWID or /dev/mapper/<alias>, seen by this node and, through their API, by every other node), the aliases,
   the floating addresses; nothing changes on a refusal;
2. every node `prepare`s (the others through their API, user cluster-peer): multipath.conf with the new maps,
   lvm.conf accepting them (and use_lvmlockd), multipathd started or reconfigured, the maps waited for;
3. the lock managers' clones (dlm, lvmlockd) are pushed to the CIB and waited for on this node;
4. this node makes the shared VG with its keeper LV, everything inactive, its lock stopped;
5. one commit: the pool joins the clustered configuration in the CIB with its chain (VG under lvmlockd, volumes,
   floating addresses, targets), and Pacemaker starts it on one node.

Every step looks first and does only what is missing: an interrupted create is finished by running it again.
`delete` is the reverse: the chain leaves the CIB (Pacemaker stops it, and the lock managers with the last shared
pool), this node removes the VG, and every node drops the maps from its files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from sanappliance.drbd import shared_cib
from sanappliance.errors import CONFLICT, INVALID, NOT_FOUND, SanError
from sanappliance.model import values
from sanappliance.model.config import Config, Pool, SharedDisk, SharedStorage
from sanappliance.model.validate import check
from sanappliance.multipath import model as M
from sanappliance.multipath import render as mp_render

from . import cluster, cluster_ops
from .commit import Outcome, commit
from .env import Env
from .replicated import DrbdHost, commit_new, deletable, live_drbd, parse_floating, pool_from_json, pool_json, with_pool

LOCK_MANAGERS_TIMEOUT = 300.0


@dataclass(frozen=True)
class SharedHosts:
    """What a shared pool's service needs besides the Env: the cluster, this node's multipath and shared VGs, and
    its DRBD host for lvm.conf (drbd.lvm renders the one file for every kind of pool)."""

    cluster: Any  # service.cluster.ClusterHost and cluster_ops.OpsHost
    multipath: Any  # apply.multipath.MultipathHost
    vg: Any  # apply.shared_vg.SharedVgHost
    files: DrbdHost
    hostname: str = ""

    def name(self) -> str:
        return self.hostname or str(self.cluster.hostname())


def live_hosts(cluster_host: Any = None, dry_run: bool = False) -> SharedHosts:
    from sanappliance.apply.multipath import MultipathHost
    from sanappliance.apply.shared_vg import SharedVgHost

    return SharedHosts(cluster_host if cluster_host is not None else cluster.live_host(),
                       MultipathHost(dry_run=dry_run), SharedVgHost(dry_run=dry_run), live_drbd(dry_run))


# --- disks -----------------------------------------------------------------------------------------------------------

def disks(hosts: SharedHosts) -> tuple[M.MultipathDisk, ...]:
    """The multipath-capable disks this node sees, with their paths and the paths' states."""
    return tuple(hosts.multipath.disks())


def owners(config: Config) -> dict[str, str]:
    """WWID -> the shared pool that holds the disk."""
    return {d.wwid: p.name for p in config.pools if p.shared is not None for d in p.shared.disks}


def list_disks(env: Env) -> tuple[M.MultipathDisk, ...]:
    """The same for the front ends, through the Env's system (`multipath_disks`; none where it has no reader)."""
    read = getattr(env.system, "multipath_disks", None)
    return tuple(read()) if read is not None else ()


def _resolve(refs: list[str], seen: tuple[M.MultipathDisk, ...]) -> list[M.MultipathDisk]:
    found = []
    for i, ref in enumerate(refs):
        disk = M.resolve(ref, seen, field=f"disks[{i}]")
        if disk in found:
            raise SanError("the disk is named twice", field=f"disks[{i}]", value=ref, kind=INVALID)
        found.append(disk)
    return found


# --- the other nodes' side (called through their API) ----------------------------------------------------------------

def shared_info(hosts: SharedHosts, wwids: list[str]) -> dict[str, Any]:
    """What the creating node needs of this one: its name and which of `wwids` it does not see."""
    seen = {d.wwid for d in disks(hosts)}
    return {"node": hosts.name(), "missing": [w for w in wwids if w not in seen]}


def _files(env: Env, hosts: SharedHosts, config: Config, gone: tuple[str, ...] = ()) -> list[str]:
    """This node's multipath.conf and lvm.conf as `config` renders them, multipathd told, the maps there."""
    changed = hosts.multipath.write_conf(config) + hosts.files.write_files(config)
    done = [f"files: {', '.join(changed) or 'unchanged'}"]
    done += hosts.multipath.reload(config, gone)
    hosts.multipath.wait_maps(mp_render.maps_of(config))
    return done


def prepare(env: Env, hosts: SharedHosts, pool_json: str) -> list[str]:
    """This node's part of a new shared pool: its files and maps. Checked against this node's disks first."""
    pool = pool_from_json(pool_json, "shared")
    missing = shared_info(hosts, [d.wwid for d in pool.shared.disks])["missing"] if pool.shared else []
    if missing:
        raise SanError(f"{hosts.name()} does not see disk(s) {', '.join(missing)}", field="shared.disks",
                       value=missing, kind=NOT_FOUND)
    with env.store.lock():
        return _files(env, hosts, with_pool(env, env.store.load(), pool))


def sync_files(env: Env, hosts: SharedHosts, gone: list[str] | tuple[str, ...] = ()) -> list[str]:
    """This node's files as the saved configuration renders them; the maps of `gone` aliases flushed."""
    with env.store.lock():
        return _files(env, hosts, env.store.load(), tuple(gone))


# --- create and delete -----------------------------------------------------------------------------------------------

def _others(hosts: SharedHosts, *, alone: bool = False) -> list[str]:
    """The cluster's other nodes; with `alone` none is fine (a pool is deleted on the last node, too)."""
    spec = cluster.spec(hosts.cluster)
    if spec is None:
        raise SanError("shared pools need a cluster: form one first (sanctl /cluster init)", field="cluster",
                       kind=NOT_FOUND)
    others = [n.name for n in spec.nodes if n.name != hosts.name()]
    if not others and not alone:
        raise SanError("shared pools need a cluster of two nodes or more (it has one)", field="cluster",
                       value=len(spec.nodes), kind=INVALID)
    return others


def _lock_managers_running(hosts: SharedHosts, me: str) -> bool:
    found = cluster_ops.status(hosts.cluster)
    return any(r.id == shared_cib.LVMLOCKD and r.role == "Started" and me in r.nodes for r in found.resources)


def _start_lock_managers(hosts: SharedHosts, me: str, timeout: float = LOCK_MANAGERS_TIMEOUT) -> list[str]:
    """The dlm and lvmlockd clones in the CIB and lvmlockd running on this node (the shared VG needs it)."""
    if _lock_managers_running(hosts, me):
        return []
    spec = cluster.spec(hosts.cluster)
    hosts.cluster.push_cib(shared_cib.with_lock_managers(hosts.cluster.query_cib(), spec))
    deadline = time.monotonic() + timeout
    while not _lock_managers_running(hosts, me):
        if time.monotonic() > deadline:
            raise SanError(f"lvmlockd did not start on {me} within {timeout:.0f} s (sanctl /cluster status)",
                           field="cluster", value=shared_cib.LVMLOCKD_CLONE, kind=CONFLICT)
        time.sleep(2)
    return [f"{me}: lock managers (dlm, lvmlockd) running"]


def create(env: Env, hosts: SharedHosts, name: str, refs: list[str], *, aliases: list[str] | None = None,
           ips: list[str] | None = None) -> Outcome:
    """A shared pool on the disks `refs` (WWIDs or /dev/mapper/<alias>), see the module's steps."""
    values.check_name(name, "name")
    if not refs:
        raise SanError("a shared pool needs at least one disk (a WWID from `ls /disks/shared`)", field="disks",
                       kind=INVALID)
    aliases = list(aliases or [])
    if len(aliases) > len(refs):
        raise SanError("more aliases than disks", field="aliases", value=aliases, kind=INVALID)
    floating = parse_floating(ips or [])
    me, others = hosts.name(), _others(hosts)
    cluster_ops.require_fencing_tested(hosts.cluster)
    found = _resolve(refs, disks(hosts))
    for other in others:
        info = cluster.call_node(hosts.cluster, other, "san_peer_shared_info", {"wwids": [d.wwid for d in found]})
        if info.get("missing"):
            raise SanError(f"{other} does not see disk(s) {', '.join(info['missing'])}", field="disks",
                           value=info["missing"], kind=NOT_FOUND)
    with env.store.lock():
        before = env.store.load()
        if any(p.name == name for p in before.pools):
            raise SanError("a pool with this name exists already", field="name", value=name, kind=CONFLICT)
        taken = {d.alias for p in before.pools if p.shared is not None for d in p.shared.disks}
        chosen = []
        for i, disk in enumerate(found):
            alias = aliases[i] if i < len(aliases) and aliases[i] else M.default_alias(disk.wwid, taken)
            taken.add(alias)
            chosen.append(SharedDisk(disk.wwid, alias))
        pool = Pool(name, (), shared=SharedStorage(tuple(chosen)), floating_ips=floating)
        after = replace(before, pools=before.pools + (pool,))
        check(after, env.system.facts(after))
        steps = tuple(f"{node}: multipath.conf and lvm.conf, maps {', '.join(d.alias for d in chosen)}"
                      for node in (*others, me))
        steps += ("cluster: lock managers (dlm, lvmlockd) on every node",
                  f"{me}: shared VG {pool.vg} on {', '.join(d.device for d in chosen)}")
        if env.dry_run:
            return Outcome(before, steps + (f"cluster: create shared pool {name}",), dry_run=True)
    lines = []
    for other in others:
        lines += [f"{other}: {line}" for line in cluster.call_node(hosts.cluster, other, "san_peer_shared_prepare",
                                                                     {"pool": pool_json(pool)})]
    lines += [f"{me}: {line}" for line in prepare(env, hosts, pool_json(pool))]
    lines += _start_lock_managers(hosts, me)
    lines += [f"{me}: {line}" for line in hosts.vg.create(pool)]
    return commit_new(env, pool, lines)


STOP_TIMEOUT = 600.0


def _stop_group(env: Env, hosts: SharedHosts, pool: Pool) -> list[str]:
    """The pool's group stopped on every node (target-role Stopped), waited for: its volumes and VG inactive, the VG
    lock stopped. The lock managers keep running, so the VG can be removed under its lock."""
    from sanappliance.drbd.cib import PoolIds

    group = PoolIds(pool.name).group
    found = cluster_ops.status(hosts.cluster)
    if not any(r.id == group or r.parent == group for r in found.resources):
        return []  # Pacemaker does not show it (nothing of it runs)
    cluster_ops.set_running(env, hosts.cluster, group, False)
    problem = hosts.cluster.wait_idle(STOP_TIMEOUT)
    running = [r.id for r in cluster_ops.status(hosts.cluster).resources
               if r.parent == group and r.role not in ("Stopped", "")]
    if problem or running:
        cluster_ops.set_running(env, hosts.cluster, group, True)  # the pool is kept: served again
        raise SanError(f"the pool's resources did not stop ({problem or ', '.join(running)}): see sanctl /cluster "
                       "status; the pool is kept and started again", field="name", value=pool.name, kind=CONFLICT)
    return [f"cluster: {group} stopped on every node"]


def delete(env: Env, hosts: SharedHosts, name: str) -> Outcome:
    """An empty shared pool: its group is stopped everywhere, this node removes the VG under its lock, then the
    pool leaves the clustered configuration (its chain, and with the last shared pool the lock managers, leave the
    CIB) and every node drops the maps. Until that commit a failed delete is finished by running it again."""
    others = _others(hosts, alone=True)
    with env.store.lock():
        before = env.store.load()
        pool, after = deletable(before, name, "shared")
        assert pool.shared is not None
        gone = [d.alias for d in pool.shared.disks]
        if env.dry_run:
            outcome = commit(env, before, after)
            return replace(outcome, plan=(f"cluster: stop {pool.vg}'s group on every node",
                                          f"here: remove VG {pool.vg} under its lock") + outcome.plan
                           + ("every node: drop the maps " + ", ".join(gone),))
        lines = _stop_group(env, hosts, pool)
        lines += [f"here: {line}" for line in hosts.vg.remove(pool)]
        outcome = commit(env, before, after)
        lines += [f"here: {line}" for line in _files(env, hosts, env.store.load(), tuple(gone))]
    for other in others:
        try:
            lines += [f"{other}: {line}" for line in cluster.call_node(hosts.cluster, other, "san_peer_shared_files",
                                                                         {"gone": gone})]
        except SanError as exc:  # the pool is gone; the node's files follow when it answers again
            lines.append(f"{other}: not reached ({exc}): run `sanctl /pools sync_shared` there")
    return replace(outcome, plan=tuple(lines) + outcome.plan)


__all__ = ["SharedHosts", "create", "delete", "disks", "list_disks", "live_hosts", "owners", "pool_json", "prepare",
           "shared_info", "sync_files"]
