"""The cluster as the web page sees it, read through the service functions only (service.cluster.status,
service.cluster_ops.untested_nodes): the state the pages show, whether fencing is proven on every node, and the
cluster's generation for the confirm pages: a digest of the nodes' and resources' states as crm_mon reports them, so a
plan confirmed for one state is not carried out in another (a node went down, a resource moved meanwhile)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from sanappliance.errors import CONFLICT, INVALID, SanError
from sanappliance.service import cluster, cluster_ops, status
from sanappliance.service.env import Env

from .actions import Guard
from .app import ctx

NO_CLUSTER = "this node is in no cluster (`sanctl /cluster init` forms one)"
NOT_REPORTED = "unknown (not reported)"
SINGLE = "single"  # the generation of a node in no cluster


@dataclass(frozen=True)
class ClusterView:
    state: status.ClusterState  # what the pages show
    untested: tuple[str, ...] | None  # nodes whose fencing is not proven (None: unknown, see untested_error)
    untested_error: str
    generation: str

    @property
    def fencing_test(self) -> str:
        """One line on the fencing self-test, for the dashboard and the cluster page."""
        if not self.state.formed:
            return "not applicable (single node)"
        if self.untested is None:
            return f"unknown ({self.untested_error})" if self.untested_error else "unknown"
        if not self.untested:
            return "passed on every node"
        return (f"NOT proven on {', '.join(self.untested)}: storage resources stay off "
                f"{'it' if len(self.untested) == 1 else 'them'} until the fencing self-test passes")


def host() -> Any:
    """The cluster host the service functions work on (the live one in production)."""
    factory = ctx().cluster_host
    if factory is None:
        raise SanError(NO_CLUSTER, field="cluster", kind=INVALID)
    return factory()


def generation_of(found: Any) -> str:
    if found is None:
        return SINGLE
    seen = (tuple(found.nodes), tuple(found.resources), getattr(found, "maintenance_mode", None))
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:16]


def read() -> ClusterView:
    factory = ctx().cluster_host
    if factory is None:
        return ClusterView(status.single_node(ctx().hostname), (), "", SINGLE)
    live = factory()
    captured: list[Any] = []

    def reader() -> Any:
        captured.append(cluster.status(live))
        return captured[-1]

    state = status.cluster_state(reader, ctx().hostname)
    found = captured[-1] if captured else None
    if found is not None and getattr(found, "maintenance_mode", None) is None and state.maintenance == "off":
        state = replace(state, maintenance=NOT_REPORTED)  # cluster-wide maintenance mode is not in crm_mon's nodes
    untested: tuple[str, ...] | None = ()
    error = ""
    if state.formed and not state.error:
        try:
            untested = tuple(cluster_ops.untested_nodes(live))
        except SanError as exc:
            untested, error = None, str(exc)
    elif state.formed:
        untested = None
    return ClusterView(state, untested, error, generation_of(found))


def _current(env: Env) -> str:
    view = read()
    if view.state.error:  # no plan is confirmed for a state nobody could see
        raise SanError(view.state.error, field="cluster")
    return view.generation


def _check(env: Env, shown: str) -> Env:
    now = generation_of(cluster.status(host()))  # unreadable: the SanError says why, nothing is done
    if now != shown:
        raise SanError("the cluster changed since this plan was shown (a node or resource changed state): check "
                       "the new plan", field="generation", value=shown, kind=CONFLICT)
    return env


CLUSTER_GUARD = Guard(_current, _check)
