"""One JSON-RPC request from bytes to a response: parse, find the method, bind its parameters, call it, and turn
every failure into a JSON-RPC error (never a traceback to the caller). Logs the method, the caller and the outcome,
never parameters."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sanappliance.errors import SanError

from . import rpc
from .methods import METHODS, Context, Method

log = logging.getLogger("sanappliance.targetd")


def _shown(name: str) -> str:
    return repr(name if len(name) <= 64 else name[:64] + "...")


def handle(ctx: Context, body: bytes, caller: str = "-", methods: Mapping[str, Method] = METHODS
           ) -> dict[str, Any] | None:
    """The response object, or None for a notification (a request without "id")."""
    try:
        request = rpc.parse(body)
    except rpc.RpcError as exc:
        log.info("request from %s: error %d (%s)", caller, exc.code, exc.message)
        return rpc.failure(rpc.request_id(body), exc.code, exc.message)
    response = _call(ctx, request, caller, methods)
    return None if request.notification else response


def _call(ctx: Context, request: rpc.Request, caller: str, methods: Mapping[str, Method]) -> dict[str, Any]:
    name = request.method
    method = methods.get(name)
    if method is None:
        log.info("%s from %s: no such method", _shown(name), caller)
        return rpc.failure(request.id, rpc.METHOD_NOT_FOUND, f"method not found: {_shown(name)}")
    try:
        result = method.fn(ctx, **rpc.bind(method.params, request.params))
    except rpc.RpcError as exc:
        log.info("%s from %s: error %d on %s", name, caller, exc.code, exc.field or "params")
        return rpc.failure(request.id, exc.code, exc.message, exc.field)
    except SanError as exc:
        code = rpc.code_of(exc)
        log.info("%s from %s: error %d on %s", name, caller, code, exc.field or "-")
        return rpc.failure(request.id, code, str(exc), exc.field)
    except Exception:  # a bug: the caller learns that much, the log has the rest
        log.exception("%s from %s: internal error", name, caller)
        return rpc.failure(request.id, rpc.INTERNAL_ERROR, "internal error (the daemon's log has the details)")
    log.info("%s from %s: ok", name, caller)
    return rpc.success(request.id, result)
