"""Logging in and out with the appliance's admin account (the API's user and password hash for now). A failed login
is answered after the authenticator's delay (at least one second; parallel guesses queue); a login starts a new
session (new id, new CSRF token), so a session id planted before the login is worth nothing after it."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, flash, g, redirect, render_template, request, session

from sanappliance.targetd.auth import Verdict

from . import security
from .app import csrf_token, ctx, see_other
from .forms import FormState

bp = Blueprint("auth", __name__)
log = logging.getLogger("sanappliance.ui")
MAX_FIELD = 1024


def _login_page(form: FormState | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("login.html", title="Log in", form=form or FormState(),
                           next=security.safe_next(request.values.get("next"), "")), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    target = security.safe_next(request.values.get("next"))
    if request.method == "GET":
        if ctx().logins.user(session.get("sid"), active=False) is not None:
            return redirect(target, code=303)
        return _login_page()
    user = request.form.get("user", "")
    password = request.form.get("password", "")
    if len(user) > MAX_FIELD or len(password) > MAX_FIELD:
        user, password = "", ""  # still answered after the delay: the length tells nothing
    verdict = ctx().auth.check(user or None, password or None)
    if verdict is Verdict.BUSY:
        log.warning("login from %s: too many attempts waiting", request.remote_addr)
        return _login_page(FormState({"user": user}, {"": "Too many login attempts at once: try again in a "
                                                          "moment."}), 503)
    if verdict is not Verdict.OK:
        log.warning("login from %s: wrong user or password", request.remote_addr)
        return _login_page(FormState({"user": user}, {"password": "Wrong user name or password."}), 401)
    ctx().logins.close(session.get("sid"))
    session.clear()
    session.permanent = True
    session["sid"] = ctx().logins.open(user)
    csrf_token()
    log.info("login of %s from %s", user, request.remote_addr)
    return redirect(target, code=303)


@bp.post("/logout")
def logout() -> Response:
    ctx().logins.close(session.get("sid"))
    log.info("logout of %s from %s", g.get("user"), request.remote_addr)
    session.clear()
    flash({"text": "Logged out.", "plan": []}, "notice")
    return see_other("auth.login")
