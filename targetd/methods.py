"""The API's methods: targetd's (API.md) and the appliance's own (prefix san_), each a translation from JSON-RPC
parameters to one service command and from its result to targetd's field names. No logic of their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sanappliance import __version__
from sanappliance.model.config import Acl, Chap, InitiatorGroup, Target
from sanappliance.service import (
    access_groups,
    cluster,
    cluster_ops,
    drill,
    exports,
    initiators,
    iscsi,
    pool_state,
    replicated,
    shared,
    split_brain,
    volumes,
)
from sanappliance.service.env import Env
from sanappliance.service.space import ExportSpace, api_tpg

from .rpc import REQUIRED, Param


@dataclass(frozen=True)
class Context:
    env: Env
    space: ExportSpace
    cluster_host: Callable[[], Any] = cluster.live_host  # the host the cluster's service functions work on


@dataclass(frozen=True)
class Method:
    fn: Callable[..., Any]  # fn(ctx, **params) -> the JSON result
    params: tuple[Param, ...] = ()
    secret: bool = False  # its params hold secrets: never logged, never echoed


def _s(name: str, default: Any = REQUIRED, nullable: bool = False) -> Param:
    return Param(name, "str", default, nullable)


def _i(name: str, default: Any = REQUIRED, nullable: bool = False) -> Param:
    return Param(name, "int", default, nullable)


def _none(_: Any) -> None:
    return None


# --- targetd: pools and volumes -----------------------------------------------------------------------------------

def pool_list(ctx: Context) -> list[dict[str, Any]]:
    return [{"name": p.name, "size": p.size, "free_size": p.free, "type": "block"}
            for p in volumes.list_pools(ctx.env, ctx.space)]


def vol_list(ctx: Context, pool: str) -> list[dict[str, Any]]:
    return [{"name": v.name, "size": v.size, "uuid": v.uuid} for v in volumes.list_volumes(ctx.env, ctx.space, pool)]


def vol_create(ctx: Context, pool: str, name: str, size: int) -> None:
    return _none(volumes.create_volume(ctx.env, ctx.space, pool, name, size))


def vol_destroy(ctx: Context, pool: str, name: str) -> None:
    return _none(volumes.destroy_volume(ctx.env, ctx.space, pool, name))


def vol_copy(ctx: Context, pool: str, vol_orig: str, vol_new: str, size: int | None) -> None:
    return _none(volumes.copy_volume(ctx.env, ctx.space, pool, vol_orig, vol_new, size))


def vol_resize(ctx: Context, pool: str, name: str, size: int) -> None:
    return _none(volumes.resize_volume(ctx.env, ctx.space, pool, name, size))


# --- targetd: exports and initiators ------------------------------------------------------------------------------

def export_list(ctx: Context) -> list[dict[str, Any]]:
    return [{"initiator_wwn": e.initiator, "lun": e.lun, "vol_name": e.volume, "vol_size": e.size,
             "vol_uuid": e.uuid, "pool": e.pool} for e in exports.list_exports(ctx.env, ctx.space)]


def export_create(ctx: Context, pool: str, vol: str, initiator_wwn: str, lun: int) -> None:
    return _none(exports.create_export(ctx.env, ctx.space, pool, vol, initiator_wwn, lun))


def export_destroy(ctx: Context, pool: str, vol: str, initiator_wwn: str) -> None:
    return _none(exports.destroy_export(ctx.env, ctx.space, pool, vol, initiator_wwn))


def initiator_set_auth(ctx: Context, initiator_wwn: str, in_user: str | None, in_pass: str | None,
                       out_user: str | None, out_pass: str | None) -> None:
    return _none(exports.set_initiator_auth(ctx.env, ctx.space, initiator_wwn, in_user, in_pass, out_user, out_pass))


def initiator_list(ctx: Context, standalone_only: bool) -> list[dict[str, Any]]:
    return [{"init_id": i.initiator, "init_type": exports.INIT_TYPE}
            for i in exports.list_initiators(ctx.env, ctx.space, standalone_only)]


# --- targetd: access groups ---------------------------------------------------------------------------------------

def access_group_list(ctx: Context) -> list[dict[str, Any]]:
    return [{"name": g.name, "init_ids": list(g.initiators), "init_type": exports.INIT_TYPE}
            for g in access_groups.list_groups(ctx.env, ctx.space)]


def access_group_create(ctx: Context, ag_name: str, init_id: str, init_type: str) -> None:
    return _none(access_groups.create_group(ctx.env, ctx.space, ag_name, init_id, init_type))


def access_group_destroy(ctx: Context, ag_name: str) -> None:
    return _none(access_groups.destroy_group(ctx.env, ctx.space, ag_name))


def access_group_init_add(ctx: Context, ag_name: str, init_id: str, init_type: str) -> None:
    return _none(access_groups.add_initiator(ctx.env, ctx.space, ag_name, init_id, init_type))


def access_group_init_del(ctx: Context, ag_name: str, init_id: str, init_type: str) -> None:
    return _none(access_groups.remove_initiator(ctx.env, ctx.space, ag_name, init_id))


def access_group_map_list(ctx: Context) -> list[dict[str, Any]]:
    return [{"ag_name": m.group, "h_lun_id": m.lun, "pool_name": m.pool, "vol_name": m.volume}
            for m in access_groups.list_mappings(ctx.env, ctx.space)]


def access_group_map_create(ctx: Context, pool_name: str, vol_name: str, ag_name: str, h_lun_id: int | None) -> None:
    return _none(access_groups.map_volume(ctx.env, ctx.space, pool_name, vol_name, ag_name, h_lun_id))


def access_group_map_destroy(ctx: Context, pool_name: str, vol_name: str, ag_name: str) -> None:
    return _none(access_groups.unmap_volume(ctx.env, ctx.space, pool_name, vol_name, ag_name))


# --- the appliance's own (san_) -----------------------------------------------------------------------------------

def _chap_user(chap: Chap | None) -> dict[str, str] | None:
    return None if chap is None else {"userid": chap.userid, "mutual_userid": chap.mutual_userid}


def _holder(holder: Acl | InitiatorGroup) -> dict[str, Any]:
    out: dict[str, Any] = {"name": holder.name} if isinstance(holder, InitiatorGroup) else {
        "initiator": holder.initiator}
    if isinstance(holder, InitiatorGroup):
        out["initiators"] = list(holder.initiators)
    out["mapped_luns"] = [{"mapped_lun": m.mapped_lun, "tpg_lun": m.tpg_lun, "write_protect": m.write_protect}
                          for m in holder.mapped_luns]
    out["chap"] = _chap_user(holder.chap)
    return out


def _target(target: Target) -> dict[str, Any]:
    return {"iqn": target.iqn, "tpgs": [{
        "tag": g.tag, "enabled": g.enabled, "portals": [{"address": p.address, "port": p.port} for p in g.portals],
        "luns": [{"lun": x.lun, "volume": x.volume} for x in g.luns], "acls": [_holder(a) for a in g.acls],
        "groups": [_holder(x) for x in g.groups], "attributes": dict(g.attributes), "parameters": dict(g.parameters),
        "chap": _chap_user(g.chap)} for g in target.tpgs]}


def san_status(ctx: Context) -> dict[str, Any]:
    config = ctx.env.store.load()
    return {"version": __version__, "generation": config.generation, "target_name": ctx.space.target,
            "target_exists": api_tpg(config, ctx.space) is not None,
            "block_pools": None if ctx.space.pools is None else list(ctx.space.pools),
            "portal_addresses": [p.address for p in ctx.space.portals], "targets": len(config.targets),
            "volumes": len(config.volumes), "pools": len(config.pools)}


def san_target_list(ctx: Context) -> list[dict[str, Any]]:
    """Every target of the appliance (not only the API's), without secrets."""
    return [_target(t) for t in ctx.env.store.load().targets]


def san_target_create(ctx: Context, iqn: str | None) -> dict[str, str]:
    before = {t.iqn for t in ctx.env.store.load().targets}
    outcome = iscsi.create_target(ctx.env, iqn)
    made = [t.iqn for t in outcome.config.targets if t.iqn not in before]
    return {"iqn": made[0] if made else (iqn or "").lower()}


def san_target_delete(ctx: Context, iqn: str) -> None:
    return _none(iscsi.delete_target(ctx.env, iqn))


def san_portal_create(ctx: Context, iqn: str, address: str, port: int, tag: int) -> None:
    return _none(iscsi.create_portal(ctx.env, iqn, address, port, tag))


def san_portal_delete(ctx: Context, iqn: str, address: str, port: int, tag: int) -> None:
    return _none(iscsi.delete_portal(ctx.env, iqn, address, port, tag))


def san_tpg_set(ctx: Context, iqn: str, name: str, value: Any, tag: int) -> None:
    return _none(iscsi.set_tpg_setting(ctx.env, iqn, name, value, tag))


def san_tpg_enable(ctx: Context, iqn: str, enabled: bool, tag: int) -> None:
    return _none(iscsi.set_tpg_enabled(ctx.env, iqn, enabled, tag))


def san_discovery_auth_set(ctx: Context, userid: str | None, password: str | None, mutual_userid: str | None,
                           mutual_password: str | None) -> None:
    chap = exports.chap_of(userid, password, mutual_userid, mutual_password)
    if chap is None:
        return _none(iscsi.set_discovery_auth(ctx.env, ""))
    return _none(iscsi.set_discovery_auth(ctx.env, chap.userid, chap.password, chap.mutual_userid,
                                          chap.mutual_password))


def san_access_group_set_auth(ctx: Context, ag_name: str, in_user: str | None, in_pass: str | None,
                              out_user: str | None, out_pass: str | None) -> None:
    return _none(access_groups.set_group_auth(ctx.env, ctx.space, ag_name, in_user, in_pass, out_user, out_pass))


def _auth_params(*names: str) -> tuple[Param, ...]:
    return tuple(_s(n, None, nullable=True) for n in names)


def san_cluster_info(ctx: Context) -> dict[str, Any]:
    return cluster.info(ctx.cluster_host())


def san_cluster_join(ctx: Context, name: str, addresses: list[str], sbd_uuid: str, api_pin: str) -> dict[str, Any]:
    return cluster.accept_join(ctx.cluster_host(), name, addresses, sbd_uuid, api_pin)


def san_peer_logs(ctx: Context, since: str, until: str, lines: int) -> str:
    return cluster.logs(ctx.cluster_host(), "", since, until, lines)


def san_peer_replica_info(ctx: Context, disk: str) -> dict[str, Any]:
    return replicated.replica_info(ctx.env, replicated.live_hosts(ctx.cluster_host()), disk)


def san_peer_replica_prepare(ctx: Context, pool: str) -> list[str]:
    return replicated.prepare(ctx.env, replicated.live_hosts(ctx.cluster_host()), pool)


def san_peer_lun_commands(ctx: Context, iqns: list[str]) -> int:
    read = getattr(ctx.env.system, "lun_commands", None)
    return 0 if read is None else int(read(tuple(iqns)))


def san_peer_replica_gi(ctx: Context, pool: str) -> dict[str, str]:
    return split_brain.replica_gi(ctx.env, replicated.live_hosts(ctx.cluster_host()), pool)


def san_peer_replica_recover(ctx: Context, pool: str, role: str) -> list[str]:
    return split_brain.replica_recover(ctx.env, replicated.live_hosts(ctx.cluster_host()), pool, role)


def san_peer_replica_files(ctx: Context) -> list[str]:
    return replicated.sync_files(ctx.env, replicated.live_hosts(ctx.cluster_host()))


def san_peer_shared_info(ctx: Context, wwids: list[str]) -> dict[str, Any]:
    return shared.shared_info(shared.live_hosts(ctx.cluster_host()), wwids)


def san_peer_shared_prepare(ctx: Context, pool: str) -> list[str]:
    return shared.prepare(ctx.env, shared.live_hosts(ctx.cluster_host()), pool)


def san_peer_shared_files(ctx: Context, gone: list[str]) -> list[str]:
    return shared.sync_files(ctx.env, shared.live_hosts(ctx.cluster_host()), gone)


# --- the cluster's daily operations (service.cluster_ops): each checked first; dry_run returns the plan only ------

def _env(ctx: Context, dry_run: bool) -> Env:
    return replace(ctx.env, dry_run=True) if dry_run else ctx.env


def _op(result: cluster_ops.OpResult) -> dict[str, Any]:
    return {"plan": list(result.plan), "dry_run": result.dry_run, "lines": list(result.lines)}


def san_cluster_status(ctx: Context) -> dict[str, Any]:
    host = ctx.cluster_host()
    found = cluster.status(host)
    if found is None:
        return {"formed": False, "dc": "", "quorate": False, "nodes": [], "resources": [], "failures": [],
                "fencing_history": [], "fencing_untested": []}
    return {"formed": True, "dc": found.dc, "quorate": found.quorate,
            "nodes": [{"name": n.name, "state": n.state, "online": n.online, "standby": n.standby,
                       "maintenance": n.maintenance, "unclean": n.unclean, "dc": n.is_dc} for n in found.nodes],
            "resources": [{"id": r.id, "agent": r.agent, "role": r.role, "nodes": list(r.nodes), "failed": r.failed}
                          for r in found.resources],
            "failures": [{"resource": f.resource, "node": f.node, "task": f.task, "status": f.status,
                          "fail_count": f.fail_count} for f in found.failures],
            "fencing_history": list(found.fencing), "fencing_untested": cluster_ops.untested_nodes(host)}


def san_cluster_standby(ctx: Context, node: str, standby: bool, dry_run: bool) -> dict[str, Any]:
    return _op(cluster_ops.standby(_env(ctx, dry_run), ctx.cluster_host(), node, standby))


def san_cluster_maintenance(ctx: Context, enabled: bool, dry_run: bool) -> dict[str, Any]:
    return _op(cluster_ops.maintenance(_env(ctx, dry_run), ctx.cluster_host(), enabled))


def san_cluster_resource_start(ctx: Context, resource: str, dry_run: bool) -> dict[str, Any]:
    return _op(cluster_ops.set_running(_env(ctx, dry_run), ctx.cluster_host(), resource, True))


def san_cluster_resource_stop(ctx: Context, resource: str, dry_run: bool) -> dict[str, Any]:
    return _op(cluster_ops.set_running(_env(ctx, dry_run), ctx.cluster_host(), resource, False))


def san_cluster_resource_move(ctx: Context, resource: str, node: str, dry_run: bool) -> dict[str, Any]:
    return _op(cluster_ops.move(_env(ctx, dry_run), ctx.cluster_host(), resource, node))


def san_cluster_resource_clear(ctx: Context, resource: str, dry_run: bool) -> dict[str, Any]:
    return _op(cluster_ops.clear(_env(ctx, dry_run), ctx.cluster_host(), resource))


def san_cluster_resource_cleanup(ctx: Context, resource: str | None, node: str | None,
                                 dry_run: bool) -> dict[str, Any]:
    return _op(cluster_ops.cleanup(_env(ctx, dry_run), ctx.cluster_host(), resource or None, node or None))


def san_cluster_fence(ctx: Context, node: str, action: str, dry_run: bool) -> dict[str, Any]:
    return _op(cluster_ops.fence(_env(ctx, dry_run), ctx.cluster_host(), node, action))


def san_cluster_fencing_test(ctx: Context, dry_run: bool) -> dict[str, Any]:
    result = cluster_ops.fencing_test(_env(ctx, dry_run), ctx.cluster_host())
    return {"passed": result.passed and not result.dry_run, "dry_run": result.dry_run, "plan": list(result.plan),
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in result.checks],
            "lines": list(result.lines)}


# --- replicated pools (service.replicated; the same functions as sanctl's /pools) -------------------------------------

def san_pool_create_replicated(ctx: Context, name: str, disk: str, peer_disk: str, ips: list[str], address: str,
                               peer_address: str, dry_run: bool) -> dict[str, Any]:
    outcome = replicated.create(_env(ctx, dry_run), replicated.live_hosts(ctx.cluster_host()), name, disk,
                                peer_disk, ips=ips, address=address, peer_address=peer_address)
    return {"plan": list(outcome.plan), "dry_run": outcome.dry_run}


def san_pool_delete_replicated(ctx: Context, name: str, dry_run: bool) -> dict[str, Any]:
    outcome = replicated.delete(_env(ctx, dry_run), replicated.live_hosts(ctx.cluster_host()), name)
    return {"plan": list(outcome.plan), "dry_run": outcome.dry_run}


def san_pool_create_shared(ctx: Context, name: str, disks: list[str], aliases: list[str], ips: list[str],
                           dry_run: bool) -> dict[str, Any]:
    outcome = shared.create(_env(ctx, dry_run), shared.live_hosts(ctx.cluster_host()), name, disks,
                            aliases=aliases, ips=ips)
    return {"plan": list(outcome.plan), "dry_run": outcome.dry_run}


def san_pool_delete_shared(ctx: Context, name: str, dry_run: bool) -> dict[str, Any]:
    outcome = shared.delete(_env(ctx, dry_run), shared.live_hosts(ctx.cluster_host()), name)
    return {"plan": list(outcome.plan), "dry_run": outcome.dry_run}


def san_initiator_settings(ctx: Context, pool: str, os: str, nics: list[str]) -> str:  # noqa: A002 - the os
    return initiators.for_pool(ctx.env, ctx.cluster_host(), pool, os, nics)


def san_multipath_list(ctx: Context) -> list[dict[str, Any]]:
    owners = shared.owners(ctx.env.store.load())
    return [{"wwid": d.wwid, "alias": d.alias, "size": d.size, "vendor": d.vendor, "product": d.product,
             "pool": owners.get(d.wwid, ""), "active_paths": d.active_paths,
             "paths": [{"device": p.device, "hcil": p.hcil, "dm_state": p.dm_state, "checker_state": p.checker_state,
                        "device_state": p.device_state, "up": p.up} for p in d.paths]}
            for d in shared.list_disks(ctx.env)]


def san_pool_move(ctx: Context, name: str, node: str, dry_run: bool) -> dict[str, Any]:
    return _op(replicated.move(_env(ctx, dry_run), replicated.live_hosts(ctx.cluster_host()), name, node))


def san_pool_clear(ctx: Context, name: str, dry_run: bool) -> dict[str, Any]:
    return _op(replicated.clear(_env(ctx, dry_run), replicated.live_hosts(ctx.cluster_host()), name))


def san_pool_drill(ctx: Context, name: str, how: str, confirm: bool, dry_run: bool) -> dict[str, Any]:
    result = drill.run(_env(ctx, dry_run), replicated.live_hosts(ctx.cluster_host()), name, how, confirm=confirm)
    return {**result.as_dict(), "plan": list(result.plan), "lines": list(result.lines)}


def san_pool_split_brain(ctx: Context, pool: str) -> dict[str, Any]:
    return split_brain.diagnose(ctx.env, replicated.live_hosts(ctx.cluster_host()), pool).as_dict()


def san_pool_recover(ctx: Context, pool: str, victim: str, confirm: bool, dry_run: bool) -> dict[str, Any]:
    found = split_brain.recover(_env(ctx, dry_run), replicated.live_hosts(ctx.cluster_host()), pool, victim,
                                confirm=confirm)
    return {"plan": list(found.plan), "lost": found.lost, "victim": found.victim, "survivor": found.survivor,
            "done": found.done, "dry_run": found.dry_run, "lines": list(found.lines)}


def san_pool_states(ctx: Context) -> list[dict[str, Any]]:
    return [{"name": s.name, "kind": s.kind, "connection": s.connection, "role": s.role, "peer_role": s.peer_role,
             "disk": s.disk, "peer_disk": s.peer_disk, "sync_percent": s.sync_percent, "sync_eta": s.sync_eta,
             "out_of_sync_kib": s.out_of_sync_kib, "health": s.health, "explanation": s.explanation,
             "paths": s.paths}
            for s in pool_state.pool_states(ctx.env)]


# Reachable only with the join secret (user cluster.JOIN_USER), and only these.
JOIN_METHODS: dict[str, Method] = {
    "san_cluster_info": Method(san_cluster_info),
    "san_cluster_join": Method(san_cluster_join, (_s("name"), Param("addresses", "strlist"), _s("sbd_uuid"),
                                                  _s("api_pin", "")), secret=True),
}

# Reachable only by another node of the same cluster (user cluster.PEER_USER, the secret derived from the shared
# corosync authkey), and only these.
PEER_METHODS: dict[str, Method] = {
    "san_peer_logs": Method(san_peer_logs, (_s("since", ""), _s("until", ""), _i("lines", 200))),
    "san_peer_replica_info": Method(san_peer_replica_info, (_s("disk"),)),
    "san_peer_replica_prepare": Method(san_peer_replica_prepare, (_s("pool"),)),
    "san_peer_replica_files": Method(san_peer_replica_files),
    "san_peer_lun_commands": Method(san_peer_lun_commands, (Param("iqns", "strlist"),)),
    "san_peer_replica_gi": Method(san_peer_replica_gi, (_s("pool"),)),
    "san_peer_replica_recover": Method(san_peer_replica_recover, (_s("pool"), _s("role"))),
    "san_peer_shared_info": Method(san_peer_shared_info, (Param("wwids", "strlist"),)),
    "san_peer_shared_prepare": Method(san_peer_shared_prepare, (_s("pool"),)),
    "san_peer_shared_files": Method(san_peer_shared_files, (Param("gone", "strlist", ()),)),
}

TYPE = _s("init_type", exports.INIT_TYPE)
DRY_RUN = Param("dry_run", "bool", False)
TARGET_PORTAL = (_s("iqn"), _s("address"), _i("port", 3260), _i("tag", 1))

METHODS: dict[str, Method] = {
    "pool_list": Method(pool_list),
    "vol_list": Method(vol_list, (_s("pool"),)),
    "vol_create": Method(vol_create, (_s("pool"), _s("name"), _i("size"))),
    "vol_destroy": Method(vol_destroy, (_s("pool"), _s("name"))),
    "vol_copy": Method(vol_copy, (_s("pool"), _s("vol_orig"), _s("vol_new"), _i("size", None, nullable=True))),
    "vol_resize": Method(vol_resize, (_s("pool"), _s("name"), _i("size"))),
    "export_list": Method(export_list),
    "export_create": Method(export_create, (_s("pool"), _s("vol"), _s("initiator_wwn"), _i("lun"))),
    "export_destroy": Method(export_destroy, (_s("pool"), _s("vol"), _s("initiator_wwn"))),
    "initiator_set_auth": Method(initiator_set_auth, (_s("initiator_wwn"),) + _auth_params(
        "in_user", "in_pass", "out_user", "out_pass"), secret=True),
    "initiator_list": Method(initiator_list, (Param("standalone_only", "bool", False),)),
    "access_group_list": Method(access_group_list),
    "access_group_create": Method(access_group_create, (_s("ag_name"), _s("init_id"), TYPE)),
    "access_group_destroy": Method(access_group_destroy, (_s("ag_name"),)),
    "access_group_init_add": Method(access_group_init_add, (_s("ag_name"), _s("init_id"), TYPE)),
    "access_group_init_del": Method(access_group_init_del, (_s("ag_name"), _s("init_id"), TYPE)),
    "access_group_map_list": Method(access_group_map_list),
    "access_group_map_create": Method(access_group_map_create, (_s("pool_name"), _s("vol_name"), _s("ag_name"),
                                                                _i("h_lun_id", None, nullable=True))),
    "access_group_map_destroy": Method(access_group_map_destroy, (_s("pool_name"), _s("vol_name"), _s("ag_name"))),
    "san_status": Method(san_status),
    "san_target_list": Method(san_target_list),
    "san_target_create": Method(san_target_create, (_s("iqn", None, nullable=True),)),
    "san_target_delete": Method(san_target_delete, (_s("iqn"),)),
    "san_portal_create": Method(san_portal_create, TARGET_PORTAL),
    "san_portal_delete": Method(san_portal_delete, TARGET_PORTAL),
    "san_tpg_set": Method(san_tpg_set, (_s("iqn"), _s("name"), Param("value", "scalar"), _i("tag", 1))),
    "san_tpg_enable": Method(san_tpg_enable, (_s("iqn"), Param("enabled", "bool"), _i("tag", 1))),
    "san_discovery_auth_set": Method(san_discovery_auth_set, _auth_params(
        "userid", "password", "mutual_userid", "mutual_password"), secret=True),
    "san_access_group_set_auth": Method(san_access_group_set_auth, (_s("ag_name"),) + _auth_params(
        "in_user", "in_pass", "out_user", "out_pass"), secret=True),
    "san_cluster_status": Method(san_cluster_status),
    "san_cluster_standby": Method(san_cluster_standby, (_s("node"), Param("standby", "bool", True), DRY_RUN)),
    "san_cluster_maintenance": Method(san_cluster_maintenance, (Param("enabled", "bool"), DRY_RUN)),
    "san_cluster_resource_start": Method(san_cluster_resource_start, (_s("resource"), DRY_RUN)),
    "san_cluster_resource_stop": Method(san_cluster_resource_stop, (_s("resource"), DRY_RUN)),
    "san_cluster_resource_move": Method(san_cluster_resource_move, (_s("resource"), _s("node"), DRY_RUN)),
    "san_cluster_resource_clear": Method(san_cluster_resource_clear, (_s("resource"), DRY_RUN)),
    "san_cluster_resource_cleanup": Method(san_cluster_resource_cleanup, (
        _s("resource", None, nullable=True), _s("node", None, nullable=True), DRY_RUN)),
    "san_cluster_fence": Method(san_cluster_fence, (_s("node"), _s("action", "reboot"), DRY_RUN)),
    "san_cluster_fencing_test": Method(san_cluster_fencing_test, (DRY_RUN,)),
    "san_pool_create_replicated": Method(san_pool_create_replicated, (
        _s("name"), _s("disk"), _s("peer_disk"), Param("ips", "strlist", ()), _s("address", ""),
        _s("peer_address", ""), DRY_RUN)),
    "san_pool_delete_replicated": Method(san_pool_delete_replicated, (_s("name"), DRY_RUN)),
    "san_pool_create_shared": Method(san_pool_create_shared, (
        _s("name"), Param("disks", "strlist"), Param("aliases", "strlist", ()), Param("ips", "strlist", ()),
        DRY_RUN)),
    "san_pool_delete_shared": Method(san_pool_delete_shared, (_s("name"), DRY_RUN)),
    "san_multipath_list": Method(san_multipath_list),
    "san_initiator_settings": Method(san_initiator_settings, (_s("pool"), _s("os", "linux"),
                                                              Param("nics", "strlist", ()))),
    "san_pool_move": Method(san_pool_move, (_s("name"), _s("node"), DRY_RUN)),
    "san_pool_clear": Method(san_pool_clear, (_s("name"), DRY_RUN)),
    "san_pool_states": Method(san_pool_states),
    "san_pool_split_brain": Method(san_pool_split_brain, (_s("pool"),)),
    "san_pool_recover": Method(san_pool_recover, (_s("pool"), _s("victim"), Param("confirm", "bool", False),
                                                  DRY_RUN)),
    "san_pool_drill": Method(san_pool_drill, (_s("name"), _s("how", "move"), Param("confirm", "bool", False),
                                              DRY_RUN)),
}
