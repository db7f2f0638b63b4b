"""The storage page: disks, pools, volumes and targets, with the forms that create and resize (deleting goes
through confirm.py). A refused change shows the page again with the error next to its field, nothing changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from sanappliance.errors import SanError
from sanappliance.model.config import Config, VolumeKind
from sanappliance.model.values import format_size
from sanappliance.service import iscsi, storage
from sanappliance.service.commit import Outcome
from sanappliance.service.env import Env
from sanappliance.shell import listing

from .app import ctx, done, see_other
from .forms import FormState, refused, status_of, stray, text

bp = Blueprint("storage", __name__)

POOL_FIELDS = ("name", "disks")
VOLUME_FIELDS = ("name", "size", "pool", "kind")
RESIZE_FIELDS = ("size",)
TARGET_FIELDS = ("iqn",)
# validation of the whole configuration names the object path (pools[p1].size: the pool is too small for the sizes)
VOLUME_ALIASES = {"volume": "name", "volumes": "name", "path": "kind"}


def disk_rows(config: Config, found: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    for disk in found:
        path = getattr(disk, "path", disk)
        pool = listing.pool_of(config, path)
        in_use = getattr(disk, "in_use", "")
        rows.append({"path": path, "size": format_size(getattr(disk, "size", 0) or 0),
                     "model": getattr(disk, "model", "") or "-", "serial": getattr(disk, "serial", "") or "-",
                     "use": f"pool {pool}" if pool else (in_use or "free"), "free": not pool and not in_use})
    return rows


def render_storage(forms: Mapping[str, FormState] | None = None, status: int = 200) -> ResponseReturnValue:
    env = ctx().env()
    config = env.store.load()
    problems: list[str] = []
    disks: list[dict[str, Any]] = []
    usage: dict[str, tuple[int, int]] = {}
    try:
        disks = disk_rows(config, storage.list_disks(env))
    except SanError as exc:
        problems.append(f"disks: {exc}")
    try:
        usage = env.system.pool_usage(config)
    except SanError as exc:
        problems.append(f"pool usage: {exc}")
    pools = [{"pool": p, "summary": listing.pool(config, p)[0],
              "size": format_size(usage[p.name][0]) if p.name in usage else "-",
              "free": format_size(usage[p.name][1]) if p.name in usage else "-"} for p in config.pools]
    volumes = [{"volume": v, "size": format_size(v.size), "summary": listing.volume(config, v)[0],
                "exports": config.exports_of(v.name)} for v in config.volumes]
    targets = [{"target": t, "summary": listing.target(t)[0],
                "tpgs": [(g.tag, listing.tpg(g)[0]) for g in t.tpgs]} for t in config.targets]
    placed = {"pool-create", "volume-create", "target-create"} | {
        f"resize-{v.name}" for v in config.volumes if v.kind is VolumeKind.LV}
    return render_template("storage.html", title="Storage", page="storage", config=config, disks=disks,
                           pools=pools, volumes=volumes, targets=targets, problems=problems, forms=forms or {},
                           stray_errors=stray(forms or {}, placed),
                           kinds=[k.value for k in VolumeKind], iscsi_summary=listing.iscsi(config)[0]), status


def attempt(form_id: str, fields: Sequence[str], call: Callable[[Env], Outcome], message: Callable[[Outcome], str],
            show_again: Callable[..., ResponseReturnValue], *, aliases: Mapping[str, str] | None = None,
            submitted: Mapping[str, str | list[str]] | None = None,
            after: Callable[[], ResponseReturnValue]) -> ResponseReturnValue:
    """Run one change; on success go on to `after` with a message of what was done, else show the page again with
    the error next to its field."""
    try:
        outcome = call(ctx().env())
    except SanError as exc:
        values = submitted if submitted is not None else {k: request.form.get(k, "") for k in fields}
        return show_again({form_id: refused(exc, values, fields, aliases)}, status_of(exc))
    done(message(outcome), outcome)
    return after()


def _back() -> ResponseReturnValue:
    return see_other("storage.page")


@bp.get("/storage")
def page() -> ResponseReturnValue:
    return render_storage()


@bp.post("/storage/pools")
def create_pool() -> ResponseReturnValue:
    name, disks = text(request.form, "name"), request.form.getlist("disks")
    return attempt("pool-create", POOL_FIELDS, lambda env: storage.create_pool(env, name, disks),
                   lambda _: f"Created pool {name}.", render_storage, submitted={"name": name, "disks": disks},
                   aliases={"pools": "name"}, after=_back)


@bp.post("/storage/volumes")
def create_volume() -> ResponseReturnValue:
    form = request.form
    name, size, pool, kind = text(form, "name"), text(form, "size"), text(form, "pool"), text(form, "kind")
    return attempt("volume-create", VOLUME_FIELDS,
                   lambda env: storage.create_volume(env, name, size, pool=pool, kind=kind),
                   lambda _: f"Created volume {name}.", render_storage, aliases=VOLUME_ALIASES, after=_back)


@bp.post("/storage/volumes/<name>/resize")
def resize_volume(name: str) -> ResponseReturnValue:
    size = text(request.form, "size")
    return attempt(f"resize-{name}", RESIZE_FIELDS, lambda env: storage.resize_volume(env, name, size),
                   lambda _: f"Resized volume {name} to {size}.", render_storage,
                   aliases={"name": "size", "volume": "size"}, after=_back)


@bp.post("/storage/targets")
def create_target() -> ResponseReturnValue:
    iqn = text(request.form, "iqn")
    before = {t.iqn for t in ctx().env().store.load().targets}
    made: list[str] = []

    def message(outcome: Outcome) -> str:
        made.extend(sorted({t.iqn for t in outcome.config.targets} - before) or [iqn.lower()])
        return f"Created target {made[0]}."

    return attempt("target-create", TARGET_FIELDS, lambda env: iscsi.create_target(env, iqn or None), message,
                   render_storage, aliases={"targets": "iqn"},
                   after=lambda: see_other("target.page", iqn=made[0]))
