"""The dashboard (and the JSON it polls to update itself) and the iSCSI sessions: read-only (the cluster page is
views_cluster.py)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue

from sanappliance.errors import SanError
from sanappliance.model.config import Config
from sanappliance.model.values import format_size
from sanappliance.service import pool_state, status
from sanappliance.service.env import Env
from sanappliance.shell import listing

from . import cluster_state, pool_status
from .app import ctx

bp = Blueprint("status", __name__)
log = logging.getLogger("sanappliance.ui")


def _usage(env: Env, config: Config) -> tuple[dict[str, tuple[int, int]], str]:
    try:
        return env.system.pool_usage(config), ""
    except SanError as exc:
        return {}, str(exc)


def _sessions(env: Env) -> tuple[list[status.InitiatorSession] | None, str]:
    try:
        return status.list_sessions(env), ""
    except SanError as exc:
        return None, str(exc)


def overview(env: Env) -> dict[str, Any]:
    """Everything the dashboard shows, as plain values; `values` are what the page updates in place (by key) and
    `layout` changes when rows would come or go (then the page offers a reload)."""
    config = env.store.load()
    usage, usage_error = _usage(env, config)
    sessions, sessions_error = _sessions(env)
    connected = status.connected_initiators(sessions)
    view = cluster_state.read()
    cluster = view.state
    tpgs = [g for t in config.targets for g in t.tpgs]
    pools = []
    for p, state in zip(config.pools, pool_state.pool_states(env, config), strict=True):
        size, free = usage.get(p.name, (0, 0))
        pools.append({"name": p.name, "kind": state.kind, "summary": listing.pool(config, p)[0],
                      "size": format_size(size) if size else "-", "free": format_size(free) if size else "-",
                      "replication": pool_status.replication(state), "shared": pool_status.shared(state)})
    targets = []
    for t in config.targets:
        targets.append({"iqn": t.iqn, "tpgs": len(t.tpgs), "luns": sum(len(g.luns) for g in t.tpgs),
                        "acls": sum(len(g.acls) + sum(len(x.initiators) for x in g.groups) for g in t.tpgs),
                        "connected": "n/a" if connected is None else connected.get(t.iqn, 0)})
    online = sum(1 for n in cluster.nodes if n.state == "online")
    values: dict[str, Any] = {
        "generation": config.generation, "pools": len(config.pools), "volumes": len(config.volumes),
        "targets": len(config.targets), "luns": sum(len(g.luns) for g in tpgs),
        "acls": sum(len(g.acls) for g in tpgs),
        "sessions": "n/a" if sessions is None else len(sessions),
        "nodes": f"{online} of {len(cluster.nodes)} online", "quorum": cluster.quorum, "fencing": cluster.fencing,
        "node_states": ", ".join(f"{n.name} {n.state}" for n in cluster.nodes) or "unknown",
        "maintenance": cluster.maintenance, "failed": len(cluster.failed_actions),
        "fencing_test": view.fencing_test,
    }
    for p in pools:
        values[f"pool:{p['name']}:free"] = p["free"]
    values.update(pool_status.values(pools))
    for t in targets:
        values[f"target:{t['iqn']}:connected"] = t["connected"]
        values[f"target:{t['iqn']}:luns"] = t["luns"]
    layout = hashlib.sha256(repr(([(p["name"], p["kind"]) for p in pools], [t["iqn"] for t in targets],
                                  cluster.formed, cluster.failed_actions, bool(view.untested))).encode()
                            ).hexdigest()[:16]
    return {"values": values, "layout": layout, "pools": pools, "targets": targets, "cluster": cluster,
            "untested": view.untested,
            "errors": [e for e in (usage_error, sessions_error, cluster.error) if e]}


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    return render_template("dashboard.html", title="Dashboard", page="dashboard", form_cluster=status.FORM_CLUSTER,
                           **overview(ctx().env()))


@bp.get("/api/summary")
def summary() -> ResponseReturnValue:
    data = overview(ctx().env())
    return jsonify(values=data["values"], layout=data["layout"], errors=data["errors"])


@bp.get("/sessions")
def sessions() -> ResponseReturnValue:
    env = ctx().env()
    config = env.store.load()
    found, error = _sessions(env)
    rows = [{"session": s, "access": status.access_of(config, s)} for s in found or ()]
    return render_template("sessions.html", title="Sessions", page="sessions", available=found is not None,
                           rows=rows, error=error, targets=len(config.targets))
