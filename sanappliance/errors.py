"""The project's one error type: every failure a user can cause or meet names what it is about."""

from __future__ import annotations

# Machine-readable kinds of SanError, for front ends that answer with codes (the targetd API). An error without a
# kind is a change the appliance refuses as a whole (validation of the new state) or a failure on the live system.
NOT_FOUND = "not_found"  # the named object does not exist (field: the object's type: volume, pool, group, ...)
CONFLICT = "conflict"  # the name or number is taken already (field "initiator": the initiator is in use)
IN_USE = "in_use"  # the object cannot go: something still uses it (a volume still exported)
INVALID = "invalid"  # a value is malformed or out of range
UNSUPPORTED = "unsupported"  # the request asks for something the appliance does not do
EXHAUSTED = "exhausted"  # no free number is left (LUN ids)
KINDS = (NOT_FOUND, CONFLICT, IN_USE, INVALID, UNSUPPORTED, EXHAUSTED)


class SanError(Exception):
    """An error meant for the admin. `field` names the input or object at fault, `value` its offending value, `kind`
    (one of KINDS, or None) what sort of failure it is."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None,
                 kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.kind = kind

    def __str__(self) -> str:
        if self.field is None:
            return self.message
        return f"{self.field}: {self.message}"
