"""What a destructive action is, for the confirm pages (confirm.py): its parameters, the service call it makes (the
same call shows the dry-run plan first), where the admin goes afterwards, and the guard that refuses to act when the
state changed since the plan was shown (the saved configuration's generation, or the cluster's state)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sanappliance.service.env import Env


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    whole: bool = False  # a whole number


@dataclass(frozen=True)
class Guard:
    """`current(env)`: the generation a plan is made for (a short string); `check(env, shown)`: the Env to act in,
    which refuses the change (SanError on field "generation") unless the state is still the one `shown`."""

    current: Callable[[Env], str]
    check: Callable[[Env, str], Env]


@dataclass(frozen=True)
class Action:
    title: str  # formatted with the parameters
    params: tuple[Param, ...]
    run: Callable[..., Any]  # run(env, **params) -> a result with .plan (Outcome, OpResult)
    back: Callable[[Mapping[str, Any]], str]  # where to go afterwards (or on cancel)
    guard: Guard
    warning: str = ""  # formatted with the parameters
    aliases: Mapping[str, str] = field(default_factory=dict)  # error fields -> parameter names
    done: str = ""  # the message once it is done (formatted with the parameters); "": the title in the past
    button: str = ""  # the confirm button's label; "": the title's first word
    note: Callable[[Mapping[str, Any]], str] | None = None  # a warning from the live state, for these parameters

    def message(self, params: Mapping[str, Any]) -> str:
        if self.done:
            return self.done.format(**params)
        return self.title.format(**params).replace("Delete", "Deleted", 1) + "."

    def label(self) -> str:
        return self.button or self.title.split(" ")[0]
