"""JSON round-trip for the model's frozen dataclasses: to_dict / from_dict driven by the type hints.

from_dict rejects unknown keys and wrong types with an error naming the field's path (e.g. targets[0].tpgs[0].luns).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from enum import Enum
from typing import Any, TypeVar

from sanappliance.errors import SanError

T = TypeVar("T")


def to_dict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    return obj


@functools.cache
def _fields(tp: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """Type hints and fields of a dataclass, resolved once per class (get_type_hints is slow)."""
    return typing.get_type_hints(tp), {f.name: f for f in dataclasses.fields(tp)}


def from_dict(cls: type[T], data: Any, path: str = "") -> T:
    return _convert(cls, data, path or cls.__name__.lower())


def _fail(path: str, expected: str, value: Any) -> SanError:
    shown = value if isinstance(value, int | float | bool | type(None)) or (
        isinstance(value, str) and len(value) < 80) else type(value).__name__
    return SanError(f"expected {expected}", field=path, value=shown)


def _convert(tp: Any, data: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        errors = []
        for arg in inner:
            try:
                return _convert(arg, data, path)
            except SanError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(data, list | tuple):
            raise _fail(path, "a list", data)
        return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
    if origin is dict:
        key_t, val_t = typing.get_args(tp)
        if not isinstance(data, dict):
            raise _fail(path, "an object", data)
        return {_convert(key_t, k, path): _convert(val_t, v, f"{path}.{k}") for k, v in data.items()}
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise _fail(path, "an object", data)
        hints, fields = _fields(tp)
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise SanError(f"unknown field(s): {', '.join(map(str, unknown))}", field=path, value=unknown[0])
        kwargs = {}
        for name, f in fields.items():
            if name in data:
                kwargs[name] = _convert(hints[name], data[name], f"{path}.{name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SanError("required field missing", field=f"{path}.{name}")
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(data)
        except ValueError:
            raise _fail(path, "one of " + ", ".join(str(m.value) for m in tp), data) from None
    if tp is Any:
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise _fail(path, "true or false", data)
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise _fail(path, "a whole number", data)
        return data
    if tp is str:
        if not isinstance(data, str):
            raise _fail(path, "a string", data)
        return data
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise _fail(path, "a number", data)
        return float(data)
    raise SanError(f"unsupported type {tp!r}", field=path)
