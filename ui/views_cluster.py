"""The cluster page: nodes (standby/online, fence), maintenance mode, resources (start/stop, move, clear, cleanup),
the fencing state and the fencing self-test. Every call is a service function on the cluster host
(service.cluster_ops; no CIB or command work here). The destructive ones (fence, stop, move, standby, maintenance)
go through the confirm pages (confirm.py, CLUSTER_ACTIONS below) with their dry-run plan; the others run at once and
say what they did, or show the page again with the error next to its field, nothing changed. A node in no cluster
gets the page that says how to form one."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from sanappliance.cluster import cib
from sanappliance.errors import SanError
from sanappliance.service import cluster_ops, status
from sanappliance.service.env import Env

from .actions import Action, Param
from .app import ctx, done, see_other
from .cluster_state import CLUSTER_GUARD, ClusterView, host, read
from .forms import FormState, refused, status_of, stray, text

bp = Blueprint("cluster", __name__)

NODE, RESOURCE = Param("node", "Node"), Param("resource", "Resource")
CLEANUP_FIELDS = ("resource", "node")


def _back(_: Mapping[str, Any] | None = None) -> str:
    return url_for("cluster.page")


def _running_on(view: ClusterView, node: str) -> list[str]:
    return sorted({r.name for r in view.state.resources if node in r.nodes and not r.agent.startswith("stonith:")})


def _standby_note(params: Mapping[str, Any]) -> str:
    view = read()
    node = params["node"]
    others = [n.name for n in view.state.nodes if n.name != node and n.state == "online"]
    running = _running_on(view, node)
    if not others:
        return (f"No other node is online and out of standby: what runs on {node} stops"
                + (f" ({', '.join(running)})." if running else "."))
    return f"Runs on {node} now: {', '.join(running)}." if running else ""


def _fence_note(params: Mapping[str, Any]) -> str:
    running = _running_on(read(), params["node"])
    return f"Runs on {params['node']} now: {', '.join(running)}." if running else ""


def _stop_note(params: Mapping[str, Any]) -> str:
    agents = {r.agent for r in read().state.resources if r.name == params["resource"]}
    if any(a.startswith("stonith:") for a in agents):
        return ("This is the fence device: while it is stopped no node can be fenced, so a failed node's resources "
                "do not fail over.")
    return ""


CLUSTER_ACTIONS: dict[str, Action] = {
    "node-standby": Action(
        "Put node {node} in standby", (NODE,), lambda env, node: cluster_ops.standby(env, host(), node, True), _back,
        CLUSTER_GUARD, "Its resources move to the other node(s); it stays a cluster member. Online undoes it "
        "(resources do not move back by themselves).", done="Node {node} is in standby.", button="Standby",
        note=_standby_note),
    "node-fence": Action(
        "Fence node {node}", (NODE,), lambda env, node: cluster_ops.fence(env, host(), node), _back, CLUSTER_GUARD,
        "The node is reset at once through SBD (the poison pill on the shared disk): what it runs stops there and "
        "starts on another node; initiators lose the paths through it until it is back.", {"action": "node"},
        done="Node {node} fenced.", button="Fence", note=_fence_note),
    "resource-stop": Action(
        "Stop resource {resource}", (RESOURCE,),
        lambda env, resource: cluster_ops.set_running(env, host(), resource, False), _back, CLUSTER_GUARD,
        "It stops on every node and stays stopped until you start it; initiators using it lose access.",
        done="Resource {resource} stopped.", button="Stop", note=_stop_note),
    "resource-move": Action(
        "Move resource {resource} to {node}", (RESOURCE, NODE),
        lambda env, resource, node: cluster_ops.move(env, host(), resource, node), _back, CLUSTER_GUARD,
        "It stops where it runs and starts on {node}: a short pause for its initiators. The preference for {node} "
        "stays until you clear it.", done="Resource {resource} moves to {node}: clear the move once it is there.",
        button="Move"),
    "maintenance-on": Action(
        "Turn maintenance mode on", (), lambda env: cluster_ops.maintenance(env, host(), True), _back, CLUSTER_GUARD,
        "Pacemaker stops managing and monitoring every resource: nothing is started, stopped or failed over until "
        "maintenance mode is off again.", done="Maintenance mode is on.", button="Turn on"),
    "maintenance-off": Action(
        "Turn maintenance mode off", (), lambda env: cluster_ops.maintenance(env, host(), False), _back,
        CLUSTER_GUARD, "Pacemaker probes every resource and brings the cluster back to its configuration: what was "
        "changed by hand meanwhile may be restarted or stopped.", done="Maintenance mode is off.",
        button="Turn off"),
}


def _move_to(view: ClusterView, members: list[status.ResourceState]) -> str:
    """The node a move would offer first: one where the unit (or a promotable clone's Promoted role) is not."""
    promoted = {n for r in members if r.role == "Promoted" for n in r.nodes}
    present = promoted or {n for r in members for n in r.nodes}
    return next((n.name for n in view.state.nodes if n.name not in present), "")


def _resources(view: ClusterView) -> list[dict[str, Any]]:
    """One row per resource id (a clone's instances are one row: their roles and nodes together, and `placement`,
    each role with its nodes, for the page to say which node has which role). A member of a
    group or clone names its `unit` (the group or clone): Pacemaker moves that as a whole, so the move and clear
    buttons act on the unit, once, on the row of its first member."""
    rows: dict[str, dict[str, Any]] = {}
    units: dict[str, list[status.ResourceState]] = {}
    nodes = [n.name for n in view.state.nodes]
    for r in view.state.resources:
        unit = r.parent or r.name
        row = rows.setdefault(r.name, {"name": r.name, "agent": r.agent, "roles": [], "nodes": [], "failed": False,
                                       "unit": unit, "unit_first": unit not in units, "placement": {}})
        units.setdefault(unit, []).append(r)
        if r.role and r.role not in row["roles"]:
            row["roles"].append(r.role)
        if r.role:  # role -> its nodes: which instance of a clone is Promoted where
            placed = row["placement"].setdefault(r.role, [])
            placed.extend(n for n in r.nodes if n not in placed)
        row["nodes"].extend(n for n in r.nodes if n not in row["nodes"])
        row["failed"] = row["failed"] or r.failed
    for row in rows.values():
        row["stopped"] = any(role == "Stopped" for role in row["roles"]) or not row["roles"]
        row["running"] = any(role != "Stopped" for role in row["roles"])
        row["move_to"] = _move_to(view, units[row["unit"]])
        # a storage resource that may run on no node yet: Pacemaker's fencing gate keeps it off untested nodes
        storage = re.match(cib.STORAGE_PATTERN, row["name"]) is not None
        row["gated"] = storage and not row["running"] and set(view.untested or ()) >= set(nodes) and bool(nodes)
    return list(rows.values())


def render_cluster(forms: Mapping[str, FormState] | None = None, code: int = 200) -> ResponseReturnValue:
    view = read()
    forms = forms or {}
    resources = _resources(view) if view.state.formed else []
    placed: set[str] = set()
    if view.state.formed:
        placed = {"cleanup", "fencing-test"} | {f"online-{n.name}" for n in view.state.nodes} | {
            f"{kind}-{r['name']}" for r in resources for kind in ("start", "cleanup")} | {
            f"clear-{r['unit']}" for r in resources if r["unit_first"]}
    return render_template("cluster.html", title="Cluster", page="cluster", cluster=view.state, view=view,
                           resources=resources, node_names=[n.name for n in view.state.nodes], forms=forms,
                           stray_errors=stray(forms, placed), form_cluster=status.FORM_CLUSTER,
                           maintenance_known=view.state.maintenance in ("on", "off")), code


def _run(form_id: str, fields: Sequence[str], call: Callable[[Env], Any], message: str,
         submitted: Mapping[str, str] | None = None) -> ResponseReturnValue:
    """Run one change that needs no confirmation; on success back to the page with what it did and reported, else
    the page again with the error next to its field."""
    try:
        result = call(ctx().env())
    except SanError as exc:
        return render_cluster({form_id: refused(exc, dict(submitted or {}), fields)}, status_of(exc))
    done(message, result)
    return see_other("cluster.page")


@bp.get("/cluster")
def page() -> ResponseReturnValue:
    return render_cluster()


@bp.post("/cluster/nodes/<node>/online")
def online(node: str) -> ResponseReturnValue:
    return _run(f"online-{node}", ("node",), lambda env: cluster_ops.standby(env, host(), node, False),
                f"Node {node} is online: it may run resources again.")


@bp.post("/cluster/resources/<resource>/start")
def start(resource: str) -> ResponseReturnValue:
    return _run(f"start-{resource}", ("resource",),
                lambda env: cluster_ops.set_running(env, host(), resource, True),
                f"Resource {resource} may run again (its stop removed).")


@bp.post("/cluster/resources/<resource>/clear")
def clear(resource: str) -> ResponseReturnValue:
    return _run(f"clear-{resource}", ("resource",), lambda env: cluster_ops.clear(env, host(), resource),
                f"Move constraints of {resource} removed (it stays where it runs).")


@bp.post("/cluster/resources/<resource>/cleanup")
def cleanup_resource(resource: str) -> ResponseReturnValue:
    return _run(f"cleanup-{resource}", ("resource",), lambda env: cluster_ops.cleanup(env, host(), resource),
                f"Failures of {resource} cleaned up: Pacemaker tries it again.")


@bp.post("/cluster/cleanup")
def cleanup() -> ResponseReturnValue:
    resource, node = text(request.form, "resource"), text(request.form, "node")
    what = f"{resource or 'every resource'} on {node or 'every node'}"
    return _run("cleanup", CLEANUP_FIELDS,
                lambda env: cluster_ops.cleanup(env, host(), resource or None, node or None),
                f"Failures of {what} cleaned up.", {"resource": resource, "node": node})


@bp.post("/cluster/fencing-test")
def fencing_test() -> ResponseReturnValue:
    try:
        result = cluster_ops.fencing_test(ctx().env(), host())
    except SanError as exc:
        return render_cluster({"fencing-test": refused(exc, {}, ())}, status_of(exc))
    if result.passed:
        done("Fencing self-test passed: storage resources may run on every node.", result)
    else:  # the failed checks first: they are the ones to read, should the message have to be cut
        lines = sorted(result.lines, key=lambda line: not line.startswith("FAIL"))
        done("Fencing self-test FAILED: storage resources stay off the nodes it could not prove.",
             SimpleNamespace(plan=result.plan, lines=lines), category="failed")
    return redirect(_back() + "#fencing", code=303)
