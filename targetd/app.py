"""The HTTP side of the API: one Flask view at POST /targetrpc behind HTTP Basic authentication.

Order of checks: the path (404) and the method (405) by routing; a declared body over the limit (413, without
reading it); the credentials (401 after the tarpit, or 503 when too many attempts wait); then the body is read (413
again if a chunked body runs over) and handed to the JSON-RPC dispatcher. JSON-RPC errors are HTTP 200 with an error
object, as in targetd; a notification (no "id") is answered 204 without a body. Nothing answers 500."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from sanappliance.service.cluster import JOIN_USER, PEER_USER

from . import rpc
from .auth import Authenticator, JoinGate, Verdict
from .dispatch import handle
from .methods import JOIN_METHODS, METHODS, PEER_METHODS, Context

PATH = "/targetrpc"
MAX_BODY = 1024 * 1024
REALM = "targetd"

log = logging.getLogger("sanappliance.targetd")


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain", headers=headers)


def _json(payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload, allow_nan=False), status=200, mimetype="application/json")


def _too_large(caller: str, max_body: int) -> Response:
    log.info("request from %s: body over the limit of %d bytes", caller, max_body)
    return _plain(413, f"Request Entity Too Large: at most {max_body} bytes")


def create_app(ctx: Context, auth: Authenticator, *, max_body: int = MAX_BODY, join: JoinGate | None = None,
               peer: JoinGate | None = None) -> Flask:
    app = Flask("sanappliance.targetd")
    gates = {user: (gate, methods) for user, gate, methods in ((JOIN_USER, join, JOIN_METHODS),
                                                                (PEER_USER, peer, PEER_METHODS)) if gate is not None}
    app.config["MAX_CONTENT_LENGTH"] = max_body + 1  # a chunked body is cut there: one byte more tells it ran over

    @app.route(PATH, methods=["POST"], provide_automatic_options=False)
    def targetrpc() -> Response:
        caller = request.remote_addr or "-"
        if request.content_length is not None and request.content_length > max_body:
            return _too_large(caller, max_body)
        credentials = request.authorization
        basic = credentials is not None and credentials.type == "basic"
        # a node joining the cluster (the join secret) or another cluster node (the peer secret): their own
        # gate and methods only
        special = gates.get(credentials.username) if basic else None  # type: ignore[union-attr]
        if special is not None:
            verdict = special[0].check(credentials.password)  # type: ignore[union-attr]
        else:
            verdict = auth.check(credentials.username if basic else None, credentials.password if basic else None)
        if verdict is Verdict.BUSY:
            log.warning("request from %s: too many authentication attempts waiting", caller)
            return _plain(503, "Service Unavailable: too many authentication attempts", {"Retry-After": "1"})
        if verdict is Verdict.DENIED:
            log.warning("request from %s: authentication failed", caller)
            return _plain(401, "Unauthorized", {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'})
        body = request.get_data(cache=False)
        if len(body) > max_body:
            return _too_large(caller, max_body)
        response = handle(ctx, body, caller, special[1] if special is not None else METHODS)
        return Response(status=204) if response is None else _json(response)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _plain(exc.code or 400, exc.name, {"Allow": "POST"} if exc.code == 405 else None)

    @app.errorhandler(Exception)
    def any_error(exc: Exception) -> Response:  # a bug outside the dispatcher: still an answer, never a 500 page
        log.exception("internal error while answering %s", request.remote_addr)
        return _json(rpc.failure(None, rpc.INTERNAL_ERROR, "internal error (the daemon's log has the details)"))

    return app
