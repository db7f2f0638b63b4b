"""Destructive actions: a page that shows what will change (the dry-run plan of the same service call) and a button
that does it. The button carries the generation the plan was made for (the saved configuration's, or for the
cluster's actions a digest of the cluster's state): if anything changed meanwhile, nothing is done and the new plan is
shown instead."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from sanappliance.errors import CONFLICT, SanError
from sanappliance.model.config import Config
from sanappliance.service import iscsi, storage
from sanappliance.service.env import Env, Store

from .actions import Action, Guard, Param
from .app import ctx, done
from .forms import field_for, number, status_of
from .views_cluster import CLUSTER_ACTIONS

bp = Blueprint("confirm", __name__)


def _storage(_: Mapping[str, Any]) -> str:
    return url_for("storage.page")


def _target(params: Mapping[str, Any]) -> str:
    return url_for("target.page", iqn=params["iqn"])


class GuardedStore:
    """The store, refusing a change based on another generation than the one whose plan the admin confirmed (the
    check happens where the change loads the state, under the operation lock)."""

    def __init__(self, store: Store, generation: int) -> None:
        self._store = store
        self._generation = generation

    def load(self) -> Config:
        config = self._store.load()
        if config.generation != self._generation:
            raise SanError("the configuration changed since this plan was shown: check the new plan",
                           field="generation", value=config.generation, kind=CONFLICT)
        return config

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _guarded(env: Env, shown: str) -> Env:
    if not shown.isdigit():
        raise SanError("not a generation of the configuration", field="generation", value=shown, kind=CONFLICT)
    return replace(env, store=GuardedStore(env.store, int(shown)))  # type: ignore[arg-type]


STORE_GUARD = Guard(lambda env: str(env.store.load().generation), _guarded)
IQN, TAG = Param("iqn", "Target"), Param("tag", "TPG", whole=True)
TPG_ALIASES = {"target": "iqn", "tpg": "tag"}
STORAGE_ACTIONS: dict[str, Action] = {
    "pool-delete": Action("Delete pool {name}", (Param("name", "Pool"),),
                          lambda env, name: storage.delete_pool(env, name), _storage, STORE_GUARD,
                          "Its volume group is removed and its disks are released.", {"pool": "name"}),
    "volume-delete": Action("Delete volume {name}", (Param("name", "Volume"),),
                            lambda env, name: storage.delete_volume(env, name), _storage, STORE_GUARD,
                            "The data on the volume is lost.", {"volume": "name"}),
    "target-delete": Action("Delete target {iqn}", (IQN,), lambda env, iqn: iscsi.delete_target(env, iqn), _storage,
                            STORE_GUARD, "Initiators logged in to it lose its LUNs at once. The volumes stay.",
                            TPG_ALIASES),
    "tpg-delete": Action("Delete TPG {tag} of {iqn}", (IQN, TAG),
                         lambda env, iqn, tag: iscsi.delete_tpg(env, iqn, tag), _target, STORE_GUARD,
                         "Its portals, LUNs, ACLs and groups go with it. The volumes stay.", TPG_ALIASES),
    "lun-delete": Action("Delete LUN {lun} of {iqn} TPG {tag}", (IQN, TAG, Param("lun", "LUN", whole=True)),
                         lambda env, iqn, tag, lun: iscsi.delete_lun(env, iqn, lun, tag), _target, STORE_GUARD,
                         "Initiators lose this LUN (and every mapping of it). The volume stays.", TPG_ALIASES),
    "acl-delete": Action("Delete the ACL of {initiator}", (IQN, TAG, Param("initiator", "Initiator")),
                         lambda env, iqn, tag, initiator: iscsi.delete_acl(env, iqn, initiator, tag), _target,
                         STORE_GUARD, "The initiator cannot log in to this TPG any more.", TPG_ALIASES),
    "portal-delete": Action("Delete portal {address}:{port}",
                            (IQN, TAG, Param("address", "Address"), Param("port", "Port", whole=True)),
                            lambda env, iqn, tag, address, port: iscsi.delete_portal(env, iqn, address, port, tag),
                            _target, STORE_GUARD, "Sessions through this portal end.",
                            {**TPG_ALIASES, "portal": "address"}),
    "group-delete": Action("Delete initiator group {name}", (IQN, TAG, Param("name", "Group")),
                           lambda env, iqn, tag, name: iscsi.delete_group(env, iqn, name, tag), _target, STORE_GUARD,
                           "Its initiators cannot log in to this TPG any more.", {**TPG_ALIASES, "group": "name"}),
}
ACTIONS: Mapping[str, Action] = MappingProxyType({**STORAGE_ACTIONS, **CLUSTER_ACTIONS})
GENERATION = re.compile(r"[0-9a-z]{1,64}")


def _action(name: str) -> Action:
    action = ACTIONS.get(name)
    if action is None:
        abort(404, f"There is no action {name}.")
    return action


def _params(action: Action, source: Mapping[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for p in action.params:
        value = (source.get(p.name) or "").strip()
        if not value:
            abort(400, f"{p.label} missing.")
        try:
            params[p.name] = number(value, p.name) if p.whole else value
        except SanError:
            abort(400, f"{p.label}: a whole number.")
    return params


def _page(what: str, action: Action, params: dict[str, Any], *, error: SanError | None = None,
          notice: str = "") -> ResponseReturnValue:
    """The confirmation page: the plan of a dry run (or why it cannot be done, next to the parameter at fault)."""
    env = ctx().env(dry_run=True)
    generation = ""
    plan: tuple[str, ...] = ()
    note = ""
    if error is None:
        try:
            generation = action.guard.current(env)
            plan = tuple(action.run(env, **params).plan)
            note = action.note(params) if action.note is not None else ""
        except SanError as exc:
            error = exc
    where = field_for(error, [p.name for p in action.params], action.aliases) if error else ""
    status = status_of(error) if error is not None else (409 if notice else 200)
    return render_template("confirm.html", title=action.title.format(**params), page="", action=action, what=what,
                           params=params, plan=plan, error=error, error_at=where, generation=generation,
                           notice=notice, note=note, warning=action.warning.format(**params),
                           back=action.back(params)), status


@bp.get("/confirm/<what>")
def preview(what: str) -> ResponseReturnValue:
    action = _action(what)
    return _page(what, action, _params(action, request.args))


@bp.post("/confirm/<what>")
def perform(what: str) -> ResponseReturnValue:
    action = _action(what)
    params = _params(action, request.form)
    shown = (request.form.get("generation") or "").strip()
    if not GENERATION.fullmatch(shown):
        abort(400, "Generation missing.")
    try:
        env = action.guard.check(ctx().env(), shown)
        outcome = action.run(env, **params)
    except SanError as exc:
        if exc.field == "generation":
            return _page(what, action, params, notice=exc.message)
        return _page(what, action, params, error=exc)
    done(action.message(params), outcome)
    return redirect(action.back(params), code=303)
