"""One target's page: its TPGs with their portals, LUNs, ACLs (CHAP secrets are write-only: a form sets them, the
page only says "(set)") and initiator groups, with the forms that add them (deleting goes through confirm.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from sanappliance.errors import SanError
from sanappliance.model.config import Target
from sanappliance.service import iscsi
from sanappliance.service.commit import Outcome
from sanappliance.service.env import Env
from sanappliance.shell import listing

from .app import ctx, see_other
from .forms import FormState, number, stray, text, words
from .views_storage import attempt

bp = Blueprint("target", __name__)

LUN_FIELDS = ("volume", "lun")
CHAP_FIELDS = ("userid", "password", "mutual_userid", "mutual_password")
ACL_FIELDS = ("initiator", *CHAP_FIELDS, "map_all")
PORTAL_FIELDS = ("address", "port")
GROUP_FIELDS = ("name", "initiators", "userid", "password")
LUN_ALIASES = {"luns": "volume", "volumes": "volume"}
# the whole configuration's validation names .acls both for "LIO requires CHAP for all or none of a TPG's
# initiators" and for an initiator that has an ACL or group membership already
CHAP_RULE = "LIO requires CHAP"
ACL_ALIASES = {"acls": "userid", "chap": "userid", "mapped_luns": "initiator"}
PORTAL_ALIASES = {"portal": "address", "portals": "address"}
GROUP_ALIASES = {"groups": "name", "acls": "initiators", "chap": "userid", f"message:{CHAP_RULE}": "userid"}


def _chap(chap: Any) -> dict[str, str]:
    """What the page shows of CHAP settings: user names and whether a secret is set, never the secrets."""
    if chap is None:
        return {}
    masked = chap.masked()
    return {"userid": masked["userid"], "password": masked["password"], "mutual_userid": masked["mutual_userid"],
            "mutual_password": masked["mutual_password"]}


def render_target(iqn: str, forms: Mapping[str, FormState] | None = None, status: int = 200) -> ResponseReturnValue:
    config = ctx().env().store.load()
    try:
        target: Target = config.target(iqn)
    except SanError:
        abort(404, f"There is no target {iqn}.")
    tpgs = []
    placed = {"tpg-create"}
    for g in target.tpgs:
        placed |= {f"{kind}-{g.tag}" for kind in ("lun-create", "acl-create", "portal-create", "group-create")}
        if g.acls:
            placed.add(f"acl-auth-{g.tag}")
        exported = {x.volume for x in g.luns}
        tpgs.append({
            "tpg": g, "summary": listing.tpg(g)[0],
            "luns": [{"lun": x, "summary": listing.lun(config, x.volume)[0]} for x in g.luns],
            "acls": [{"acl": a, "summary": listing.acl(a)[0], "chap": _chap(a.chap),
                      "mapped": ", ".join(f"{m.mapped_lun}\u2192lun{m.tpg_lun}{' (ro)' if m.write_protect else ''}"
                                          for m in a.mapped_luns) or "none"} for a in g.acls],
            "groups": [{"group": x, "summary": listing.group(x)[0], "chap": _chap(x.chap),
                        "mapped": ", ".join(f"{m.mapped_lun}\u2192lun{m.tpg_lun}" for m in x.mapped_luns) or "none"}
                       for x in g.groups],
            "free_volumes": [v.name for v in config.volumes if v.name not in exported],
            "chap": _chap(g.chap),
        })
    return render_template("target.html", title=f"Target {target.iqn}", page="storage", target=target, tpgs=tpgs,
                           forms=forms or {}, stray_errors=stray(forms or {}, placed)), status


def _change(iqn: str, form_id: str, fields: tuple[str, ...], call: Callable[[Env], Outcome], message: str,
            aliases: Mapping[str, str] | None = None) -> ResponseReturnValue:
    return attempt(form_id, fields, call, lambda _: message,
                   lambda forms, status: render_target(iqn, forms, status), aliases=aliases,
                   after=lambda: see_other("target.page", iqn=iqn))


def _chap_args() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in CHAP_FIELDS}


@bp.get("/storage/targets/<iqn>")
def page(iqn: str) -> ResponseReturnValue:
    return render_target(iqn)


@bp.post("/storage/targets/<iqn>/tpgs")
def create_tpg(iqn: str) -> ResponseReturnValue:
    return _change(iqn, "tpg-create", (), lambda env: iscsi.create_tpg(env, iqn), "Added a TPG.",
                   {"tag": "", "target": ""})


@bp.post("/storage/targets/<iqn>/tpg<int:tag>/luns")
def create_lun(iqn: str, tag: int) -> ResponseReturnValue:
    volume, lun = text(request.form, "volume"), text(request.form, "lun")
    return _change(iqn, f"lun-create-{tag}", LUN_FIELDS,
                   lambda env: iscsi.create_lun(env, iqn, volume, number(lun, "lun", optional=True), tag=tag),
                   f"Exported volume {volume} as a LUN of TPG {tag}.", LUN_ALIASES)


@bp.post("/storage/targets/<iqn>/tpg<int:tag>/acls")
def create_acl(iqn: str, tag: int) -> ResponseReturnValue:
    initiator = text(request.form, "initiator")
    map_all = request.form.get("map_all") == "on"
    return _change(iqn, f"acl-create-{tag}", ACL_FIELDS,
                   lambda env: iscsi.create_acl(env, iqn, initiator, tag=tag, map_all=map_all, **_chap_args()),
                   f"Created ACL {initiator.lower()}.", ACL_ALIASES)


@bp.post("/storage/targets/<iqn>/tpg<int:tag>/acls/auth")
def set_acl_auth(iqn: str, tag: int) -> ResponseReturnValue:
    initiator = text(request.form, "initiator")
    args = _chap_args()
    message = f"Set CHAP of {initiator}." if args["userid"] else f"Turned CHAP off for {initiator}."
    return _change(iqn, f"acl-auth-{tag}", ("initiator", *CHAP_FIELDS),
                   lambda env: iscsi.set_acl_auth(env, iqn, initiator, tag=tag, **args), message, ACL_ALIASES)


@bp.post("/storage/targets/<iqn>/tpg<int:tag>/portals")
def create_portal(iqn: str, tag: int) -> ResponseReturnValue:
    address, port = text(request.form, "address"), text(request.form, "port") or "3260"
    return _change(iqn, f"portal-create-{tag}", PORTAL_FIELDS,
                   lambda env: iscsi.create_portal(env, iqn, address, number(port, "port"), tag=tag),  # type: ignore[arg-type]
                   f"Added portal {address}:{port}.", PORTAL_ALIASES)


@bp.post("/storage/targets/<iqn>/tpg<int:tag>/groups")
def create_group(iqn: str, tag: int) -> ResponseReturnValue:
    name, members = text(request.form, "name"), words(request.form.get("initiators", ""))
    userid, password = text(request.form, "userid"), request.form.get("password", "")
    return _change(iqn, f"group-create-{tag}", GROUP_FIELDS,
                   lambda env: iscsi.create_group(env, iqn, name, members, tag=tag, userid=userid,
                                                  password=password),
                   f"Created initiator group {name}.", GROUP_ALIASES)
