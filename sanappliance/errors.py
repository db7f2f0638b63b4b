"""The project's one error type: every failure a user can cause or meet names what it is about."""

from __future__ import annotations


class SanError(Exception):
    """An error meant for the admin. `field` names the input or object at fault, `value` its offending value."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value

    def __str__(self) -> str:
        if self.field is None:
            return self.message
        return f"{self.field}: {self.message}"
