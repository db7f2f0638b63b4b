"""Forms: what the admin typed, read from the request, and a refused change shown again with its error next to the
field that caused it (secrets are never shown again)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sanappliance.errors import CONFLICT, IN_USE, INVALID, NOT_FOUND, SanError

SECRET_FIELDS = frozenset({"password", "mutual_password"})
STATUS = {NOT_FOUND: 404, CONFLICT: 409, IN_USE: 409}  # any other refusal: 400


@dataclass
class FormState:
    """A form as it is shown again: the values typed (never secrets) and an error per field; the key "" holds an
    error that no field of the form explains."""

    values: dict[str, str | list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str | list[str]:
        return self.values.get(name, default)

    def error(self, name: str) -> str:
        return self.errors.get(name, "")


def status_of(error: SanError) -> int:
    return STATUS.get(error.kind or INVALID, 400)


def field_for(error: SanError, fields: Sequence[str], aliases: Mapping[str, str] | None = None) -> str:
    """The form field an error is about: its field itself, or (for errors of the whole configuration's validation,
    such as `pools[p1].size` or `targets[IQN].tpg1.acls[I].chap.password`) its last part that names a field; "" when
    none does. An alias key starting with "message:" maps errors whose message starts with the rest (where one
    validation field stands for different rules)."""
    aliases = aliases or {}
    for key, target in aliases.items():
        if key.startswith("message:") and error.message.startswith(key.removeprefix("message:")):
            return target
    name = error.field or ""
    for candidate in (name, *reversed(re.sub(r"\[[^\]]*\]", "", name).split("."))):
        if candidate in fields:
            return candidate
        if candidate in aliases:
            return aliases[candidate]
    return ""


def refused(error: SanError, submitted: Mapping[str, str | list[str]], fields: Sequence[str],
            aliases: Mapping[str, str] | None = None) -> FormState:
    """The form shown again with `error` next to its field (or above the form)."""
    where = field_for(error, fields, aliases)
    values = {k: v for k, v in submitted.items() if k not in SECRET_FIELDS}
    return FormState(values, {where: error.message if where else str(error)})


def stray(forms: Mapping[str, FormState], placed: set[str]) -> list[str]:
    """The errors of forms the page does not show (a TPG or volume that is not there): shown above the page."""
    return [f"{name}: {message}" if name else message for form_id, f in forms.items() if form_id not in placed
            for name, message in f.errors.items()]


def text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def number(value: str, name: str, *, optional: bool = False) -> int | None:
    """A whole number typed in a form; empty is None when `optional`."""
    value = (value or "").strip()
    if not value and optional:
        return None
    if not re.fullmatch(r"\d{1,9}", value):
        raise SanError("a whole number", field=name, value=value, kind=INVALID)
    return int(value)


def words(value: str) -> list[str]:
    """A list typed as words separated by spaces, commas or new lines."""
    return [w for w in re.split(r"[\s,]+", value or "") if w]
