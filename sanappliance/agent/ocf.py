"""The OCF return codes (resource-agents' ocf-returncodes), the refusal every agent action may end with, and what
every agent's entry point and action dispatch share."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from sanappliance.errors import SanError

OCF_SUCCESS = 0
OCF_ERR_GENERIC = 1
OCF_ERR_ARGS = 2
OCF_ERR_UNIMPLEMENTED = 3
OCF_ERR_PERM = 4
OCF_ERR_INSTALLED = 5
OCF_ERR_CONFIGURED = 6
OCF_NOT_RUNNING = 7


class Refused(Exception):
    """An action ends with this OCF code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def answer(action: str, handlers: Mapping[str, Callable[[], int]], usage: str, say: Callable[[str], None],
           fail: Callable[[int, str], int]) -> int:
    """Run the handler of `action`; a refusal or an error becomes its OCF code and reason, never a traceback."""
    if action not in handlers:
        say(usage)
        return OCF_ERR_UNIMPLEMENTED
    try:
        return handlers[action]()
    except Refused as exc:
        return fail(exc.code, exc.reason)
    except SanError as exc:
        return fail(OCF_ERR_GENERIC, str(exc))
    except Exception as exc:  # noqa: BLE001 - an agent answers with a code; the message may hold a value: left out
        return fail(OCF_ERR_GENERIC, f"internal error ({type(exc).__name__}) in {action}")


def entry(argv: Sequence[str] | None, out: TextIO | None, err: TextIO | None, usage: str,
          meta_data: Callable[[], str]) -> str | int:
    """The action an agent was called for, or the exit code when that needs no agent (meta-data, usage, none)."""
    args = list(sys.argv[1:] if argv is None else argv)
    action = args[0] if args else ""
    if action == "meta-data":
        (out if out is not None else sys.stdout).write(meta_data())
        return OCF_SUCCESS
    if action in ("usage", "help", "--help"):
        print(usage, file=out if out is not None else sys.stdout)
        return OCF_SUCCESS
    if not action:
        print(usage, file=err if err is not None else sys.stderr)
        return OCF_ERR_ARGS
    return action
