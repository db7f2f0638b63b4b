"""The admin web page: a Flask application over the service layer, server-rendered, a little JavaScript.

Every request but the login page and the static files needs a live login session (pages redirect to /login, the
JSON endpoints answer 401); every POST carries the session's CSRF token (form field, or header for fetches) or is
refused with 400 before anything runs. Changes call the same service functions as sanctl; destructive ones show their
dry-run plan first (confirm.py)."""

from __future__ import annotations

import datetime
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from sanappliance.service.env import Env
from sanappliance.targetd.auth import Authenticator

from . import security
from .forms import FormState

MAX_BODY = 64 * 1024
PLAN_SHOWN = 12  # steps of a plan kept in the message after a change: it travels in the session cookie (< 4 KiB)
STEP_SHOWN = 200  # characters of each
LINES_SHOWN = 16  # lines an operation reported (the fencing self-test's checks, cleanup's output) shown with it
LINES_CHARS = 800  # characters of those lines at most: with the plan they must fit in the cookie
PUBLIC = frozenset({"static", "auth.login", "favicon"})
PASSIVE = frozenset({"status.summary"})  # background polls: they do not keep an idle session alive

log = logging.getLogger("sanappliance.ui")


@dataclass
class UiContext:
    env_factory: Callable[[bool], Env]  # dry_run -> Env
    auth: Authenticator
    logins: security.SessionRegistry
    hostname: str
    poll_seconds: float
    cluster_host: Callable[[], Any] | None  # the host the cluster's service functions work on (None: no cluster)

    def env(self, dry_run: bool = False) -> Env:
        return self.env_factory(dry_run)


def ctx() -> UiContext:
    return current_app.extensions["sanappliance"]  # type: ignore[no-any-return]


def _cut(items: Any, most: int, what: str, chars: int = PLAN_SHOWN * STEP_SHOWN) -> list[str]:
    """At most `most` items and `chars` characters of them, each cut at STEP_SHOWN, and how many were left."""
    items = list(items)
    kept: list[str] = []
    size = 0
    for item in items:
        item = item if len(item) <= STEP_SHOWN else item[:STEP_SHOWN - 3] + "..."
        if len(kept) == most or size + len(item) > chars:
            break
        kept.append(item)
        size += len(item)
    if len(kept) < len(items):
        kept.append(f"... and {len(items) - len(kept)} more {what}")
    return kept


def done(message: str, outcome: Any = None, *, category: str = "done") -> None:
    """The message shown after a change, with what was done (the outcome's plan) and what it reported (its lines:
    shown, not folded away)."""
    flash({"text": message, "plan": _cut(getattr(outcome, "plan", ()), PLAN_SHOWN, "steps"),
           "lines": _cut(getattr(outcome, "lines", ()), LINES_SHOWN, "lines", LINES_CHARS)}, category)


def see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


def create_app(env_factory: Callable[[bool], Env], auth: Authenticator, *, secret_key: bytes | str,
               session_minutes: float = 30, session_max_hours: float = 12, secure_cookies: bool = True,
               hostname: str | None = None, poll_seconds: float = 5, cluster_host: Callable[[], Any] | None = None,
               clock: Callable[[], float] = time.monotonic) -> Flask:
    """`env_factory(dry_run)` gives the Env each request works in; `auth` checks the admin's user and password
    (at least its delay on a failure); `secret_key` signs the session cookie (random per start of the server);
    `cluster_host()` gives the host the cluster's service functions (service.cluster, service.cluster_ops) work on:
    service.cluster.live_host in production; None or not given: a single node that never forms a cluster."""
    from . import auth_views, confirm, views_cluster, views_status, views_storage, views_target

    app = Flask("sanappliance.ui", root_path=os.path.dirname(os.path.abspath(__file__)))
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="sanappliance_session",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=session_max_hours),
        MAX_CONTENT_LENGTH=MAX_BODY,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["sanappliance"] = UiContext(
        env_factory, auth, security.SessionRegistry(session_minutes * 60, session_max_hours * 3600, clock),
        hostname or os.uname().nodename, poll_seconds, cluster_host)
    app.jinja_env.globals.update(csrf_token=csrf_token, CSRF_FIELD=security.CSRF_FIELD, FormState=FormState)
    app.jinja_env.filters["pair"] = lambda value: (value, value)  # a select's option whose value is its label
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True

    app.before_request(_guard)
    app.after_request(_headers)
    app.context_processor(lambda: {"hostname": ctx().hostname, "user": g.get("user"),
                                   "poll_seconds": ctx().poll_seconds})

    app.register_blueprint(auth_views.bp)
    app.register_blueprint(views_status.bp)
    app.register_blueprint(views_storage.bp)
    app.register_blueprint(views_target.bp)
    app.register_blueprint(views_cluster.bp)
    app.register_blueprint(confirm.bp)
    app.add_url_rule("/favicon.ico", "favicon", lambda: Response(status=204))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        return render_template("error.html", title=exc.name, code=exc.code, message=exc.description), exc.code or 500

    @app.errorhandler(Exception)
    def any_error(exc: Exception) -> tuple[str, int]:  # a bug or a failure of the live system: no traceback shown
        log.exception("error while answering %s %s", request.method, request.path)
        return render_template("error.html", title="Internal error", code=500,
                               message="Something went wrong; the server's log has the details."), 500

    return app


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = session["csrf"] = security.new_token()
    return token


def _guard() -> Response | tuple[Response, int] | None:
    """Before every request: a login session unless the page is public, then the CSRF token of every change."""
    endpoint = request.endpoint or ""
    if endpoint not in PUBLIC:
        user = ctx().logins.user(session.get("sid"), active=endpoint not in PASSIVE)
        if user is None:
            expired = "sid" in session
            session.pop("sid", None)
            if request.path.startswith("/api/"):
                return jsonify(error="login required"), 401
            if expired:
                flash({"text": "Your session ended: log in again.", "plan": []}, "notice")
            path = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("auth.login", next=path), code=303)
        g.user = user
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        given = request.form.get(security.CSRF_FIELD) or request.headers.get(security.CSRF_HEADER)
        if not security.token_matches(session.get("csrf"), given):
            log.warning("%s %s from %s: CSRF token missing or wrong", request.method, request.path,
                        request.remote_addr)
            return Response(render_template("error.html", title="Bad Request", code=400, message=(
                "The form's security token is missing or out of date: reload the page and try again. "
                "Nothing was changed.")), status=400)
    return None


def _headers(response: Response) -> Response:
    for name, value in security.HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response
