"""JSON-RPC 2.0 for the targetd API: the request envelope, typed parameters, and the error codes (targetd's own
where it defines one, JSON-RPC's for the protocol). Pure: bytes in, a response object out."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sanappliance import errors
from sanappliance.errors import SanError

# JSON-RPC 2.0
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# targetd (API.md and its clients); each code means one thing here
INVALID = -1  # the change is refused as a whole (the new state does not validate) or failed on the node
NAME_CONFLICT = -50
EXISTS_INITIATOR = -52
NOT_FOUND = -100  # appliance: another object (target, TPG, portal, LUN, ACL) does not exist
NOT_FOUND_VOLUME = -103
NOT_FOUND_VOLUME_EXPORT = -151
NOT_FOUND_VOLUME_GROUP = -152  # no such pool
NO_SUPPORT = -153
NOT_FOUND_ACCESS_GROUP = -200
VOLUME_MASKED = -303  # the volume (or other object) is still exported / in use
NO_FREE_HOST_LUN_ID = -1000

NOT_FOUND_BY_FIELD = {"volume": NOT_FOUND_VOLUME, "pool": NOT_FOUND_VOLUME_GROUP, "group": NOT_FOUND_ACCESS_GROUP,
                      "export": NOT_FOUND_VOLUME_EXPORT}
REQUIRED = object()


class RpcError(Exception):
    def __init__(self, code: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def code_of(exc: SanError) -> int:
    if exc.kind == errors.INVALID:
        return INVALID_PARAMS
    if exc.kind == errors.NOT_FOUND:
        return NOT_FOUND_BY_FIELD.get(exc.field or "", NOT_FOUND)
    if exc.kind == errors.CONFLICT:
        return EXISTS_INITIATOR if exc.field == "initiator" else NAME_CONFLICT
    if exc.kind == errors.IN_USE:
        return VOLUME_MASKED
    if exc.kind == errors.UNSUPPORTED:
        return NO_SUPPORT
    if exc.kind == errors.EXHAUSTED:
        return NO_FREE_HOST_LUN_ID
    return INVALID


@dataclass(frozen=True)
class Request:
    method: str
    params: Any  # dict, list or None (absent)
    id: Any  # str, number or None
    notification: bool  # no "id" member: no response


def parse(body: bytes) -> Request:
    """The request in `body`, or RpcError (parse error, invalid request). Batches are not supported (targetd
    answers single requests): an array is an invalid request."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise RpcError(PARSE_ERROR, "parse error: the body is not a JSON document (UTF-8)") from None
    if isinstance(data, list):
        raise RpcError(INVALID_REQUEST, "invalid request: batches are not supported, send one request at a time")
    if not isinstance(data, dict):
        raise RpcError(INVALID_REQUEST, "invalid request: expected a JSON-RPC 2.0 request object")
    if data.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
    if not isinstance(data.get("method"), str):
        raise RpcError(INVALID_REQUEST, 'invalid request: "method" must be a string')
    request_id = data.get("id")
    if request_id is not None and not _valid_id(request_id):
        raise RpcError(INVALID_REQUEST, 'invalid request: "id" must be a string, a number or null')
    params = data.get("params")
    if "params" in data and not isinstance(params, dict | list):
        raise RpcError(INVALID_REQUEST, 'invalid request: "params" must be an object or an array')
    return Request(data["method"], params, request_id, "id" not in data)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def request_id(body: bytes) -> Any:
    """The id of a request that failed to parse as a whole, if one can be read (else None, as JSON-RPC asks)."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if _valid_id(value) else None


def _valid_id(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "str", "int", "bool", "scalar" (str, int or bool), "strlist" (a list of strings)
    default: Any = REQUIRED
    nullable: bool = False  # null is accepted (and passed on as None)


TYPE_WORDS = {"str": "a string", "int": "a whole number", "bool": "true or false",
              "scalar": "a string, a number or true/false", "strlist": "a list of strings"}


def _convert(param: Param, value: Any) -> Any:
    if value is None and param.nullable:
        return None
    kind = param.type
    if kind == "int" and isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    ok = {"str": lambda v: isinstance(v, str),
          "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "bool": lambda v: isinstance(v, bool),
          "scalar": lambda v: isinstance(v, str | int | bool) and not isinstance(v, float),
          "strlist": lambda v: isinstance(v, list) and len(v) <= 8 and all(isinstance(x, str) for x in v)}[kind](value)
    if not ok:
        return _fail(f"parameter {param.name!r} must be {TYPE_WORDS[kind]}{' or null' if param.nullable else ''}",
                     param.name)
    return value


def _fail(message: str, field: str | None = None) -> Any:
    raise RpcError(INVALID_PARAMS, f"invalid params: {message}", field)


def bind(spec: tuple[Param, ...], params: Any) -> dict[str, Any]:
    """Keyword arguments from by-name (object) or by-position (array) params; -32602 naming the parameter for a
    missing, unknown or wrongly typed one."""
    names = [p.name for p in spec]
    if params is None:
        given: Mapping[str, Any] = {}
    elif isinstance(params, list):
        if len(params) > len(spec):
            _fail(f"at most {len(spec)} parameter(s): {', '.join(names) or 'none'}")
        given = dict(zip(names, params, strict=False))
    else:
        given = params
        unknown = sorted(k for k in given if k not in names)
        if unknown:
            shown = unknown[0] if len(unknown[0]) <= 64 else unknown[0][:64] + "..."
            _fail(f"unknown parameter {shown!r} (known: {', '.join(names) or 'none'})", shown)
    out = {}
    for param in spec:
        if param.name in given:
            out[param.name] = _convert(param, given[param.name])
        elif param.default is REQUIRED:
            _fail(f"missing parameter {param.name!r}", param.name)
        else:
            out[param.name] = param.default
    return out


def success(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def failure(request_id: Any, code: int, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["data"] = {"field": field}
    return {"jsonrpc": "2.0", "id": request_id, "error": error}

