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

from sanappliance.errors import INVALID, SanError

T = TypeVar("T")


_PLAIN = frozenset((str, int, float, bool, type(None)))


def to_dict(obj: Any) -> Any:
    kind = type(obj)  # exact types first: a 1000-LUN config has ~20000 values
    if kind in _PLAIN:
        return obj
    if kind is tuple or kind is list:
        return [to_dict(v) for v in obj]
    names = _names(kind)
    if names:
        return {name: to_dict(getattr(obj, name)) for name in names}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    return obj


@functools.cache
def _names(tp: type) -> tuple[str, ...]:
    """A dataclass's field names; empty for any other type."""
    return tuple(f.name for f in dataclasses.fields(tp)) if dataclasses.is_dataclass(tp) else ()


@functools.cache
def _fields(tp: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """Type hints and fields of a dataclass, resolved once per class (get_type_hints is slow)."""
    return typing.get_type_hints(tp), {f.name: f for f in dataclasses.fields(tp)}


def from_dict(cls: type[T], data: Any, path: str = "") -> T:
    try:
        return _fast(cls)(data)  # type: ignore[no-any-return]
    except _Mismatch:
        pass
    return _convert(cls, data, path or cls.__name__.lower())  # the slow walk names the field at fault


class _Mismatch(Exception):
    """Raised by the fast converters: the data does not fit; _convert then finds out where."""


def _check(ok: bool) -> None:
    if not ok:
        raise _Mismatch


@functools.cache
def _fast(tp: Any) -> Any:
    """A converter for well-formed data of type `tp`, built once per type (a 1000-LUN config has ~40000 values:
    interpreting the type hints for each one costs a third of a second on a slow machine)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise _Mismatch  # never cached: such types always take the slow walk
        one, nullable = _fast(inner[0]), type(None) in args
        return lambda d: None if d is None and nullable else one(d)
    if origin is tuple:
        item = _fast(typing.get_args(tp)[0])

        def to_tuple(d: Any) -> tuple[Any, ...]:
            _check(isinstance(d, list | tuple))
            return tuple(map(item, d))
        return to_tuple
    if origin is dict:
        key, val = map(_fast, typing.get_args(tp))

        def to_dict_(d: Any) -> dict[Any, Any]:
            _check(isinstance(d, dict))
            return {key(k): val(v) for k, v in d.items()}
        return to_dict_
    if dataclasses.is_dataclass(tp):
        hints, fields = _fields(tp)
        convs = [(n, _fast(hints[n])) for n in fields]
        required = {n for n, f in fields.items()
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        names = set(fields)

        def to_object(d: Any) -> Any:
            _check(isinstance(d, dict) and d.keys() <= names and required <= d.keys())
            return tp(**{n: c(d[n]) for n, c in convs if n in d})
        return to_object
    if isinstance(tp, type) and issubclass(tp, Enum):
        def to_enum(d: Any) -> Any:
            try:
                return tp(d)
            except ValueError:
                raise _Mismatch from None
        return to_enum
    if tp is Any:
        return lambda d: d
    if tp in (bool, str):
        def exact(d: Any) -> Any:
            _check(type(d) is tp)
            return d
        return exact
    if tp is int:
        def whole(d: Any) -> int:
            _check(isinstance(d, int) and not isinstance(d, bool))
            return d  # type: ignore[no-any-return]
        return whole
    if tp is float:
        def number(d: Any) -> float:
            _check(isinstance(d, int | float) and not isinstance(d, bool))
            return float(d)
        return number

    def unsupported(d: Any) -> Any:
        raise _Mismatch
    return unsupported


def _fail(path: str, expected: str, value: Any) -> SanError:
    shown = value if isinstance(value, int | float | bool | type(None)) or (
        isinstance(value, str) and len(value) < 80) else type(value).__name__
    return SanError(f"expected {expected}", field=path, value=shown, kind=INVALID)


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
            raise SanError(f"unknown field(s): {', '.join(map(str, unknown))}", field=path, value=unknown[0],
                           kind=INVALID)
        kwargs = {}
        for name, f in fields.items():
            if name in data:
                kwargs[name] = _convert(hints[name], data[name], f"{path}.{name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SanError("required field missing", field=f"{path}.{name}", kind=INVALID)
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
