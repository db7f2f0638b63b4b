"""What every node of the sanctl tree shares: the context (service environment, dry run, output), the call into a
service command, and settings groups (`set attribute name=value`). Nodes stay thin: they call service functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from configshell_fb import ConfigNode, ExecutionError

from sanappliance.errors import SanError
from sanappliance.model.config import Config
from sanappliance.model.settings import Kind, Setting
from sanappliance.service.commit import Outcome
from sanappliance.service.env import Env


@dataclass
class Context:
    make_env: Callable[[bool], Env]
    dry_run: bool = False
    write: Callable[[str], None] = print
    _config: Config | None = field(default=None, repr=False)

    def env(self) -> Env:
        return self.make_env(self.dry_run)

    def config(self) -> Config:
        if self._config is None:
            self._config = self.env().store.load()
        return self._config

    def invalidate(self) -> None:
        self._config = None


class SanNode(ConfigNode):
    """A node of the tree. Subclasses create their children in `build()`, from the saved config, the first time they
    are needed (a one-shot command builds only the path it walks); a change marks the tree stale."""

    def __init__(self, name: str, parent: ConfigNode | None = None, shell: Any = None) -> None:
        self._stale = True
        super().__init__(name, parent, shell)

    def build(self) -> None:
        """Create the children (in subclasses)."""

    def _lazy_children(self) -> set[ConfigNode]:
        if self._stale:
            self._stale = False
            for child in list(self._children):
                self.remove_child(child)
            self.build()
        return self._children  # type: ignore[no-any-return]

    children = property(_lazy_children)

    def define_config_group_param(self, group: str, param: str, type: str,  # noqa: A002 - configshell's name
                                  description: str | None = None, writable: bool = True) -> None:
        """configshell's own version checks its helpers for every parameter of every node; with thousands of nodes
        that dominates `ls`. The helpers exist (the unit tests call set and get on every kind of node)."""
        self._configuration_groups.setdefault(group, {})[param] = [type, description or f"The {param} {group} "
                                                                   "parameter.", writable]

    def get_child(self, name: str) -> ConfigNode:
        self._lazy_children()
        return super().get_child(name)

    @property
    def ctx(self) -> Context:
        return self.get_root().context  # type: ignore[no-any-return]

    def config(self) -> Config:
        return self.ctx.config()

    def call(self, done: str, fn: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
        """Run a service command; print what was done (or, with --dry-run, the plan); refresh the tree."""
        try:
            outcome = fn(self.ctx.env(), *args, **kwargs)
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        finally:
            self.ctx.invalidate()
        if outcome.dry_run:
            self.ctx.write("Dry run, nothing changed. Plan:" if outcome.plan else "Dry run: nothing to do.")
            for step in outcome.plan:
                self.ctx.write(f"  {step}")
        else:
            self.ctx.write(done)
            self.get_root().refresh()
        return outcome

    def refresh(self) -> None:
        """Children are built again when next needed (the nodes that exist stay, so `cd` places stay valid)."""
        self._stale = True
        for child in list(self._children):
            if isinstance(child, SanNode):
                child.refresh()

    def parse_int(self, value: Any, field: str) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ExecutionError(f"{field}: a whole number, not {value!r}") from None

    def parse_bool(self, value: Any, field: str) -> bool:
        text = str(value).lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ExecutionError(f"{field}: yes or no, not {value!r}")

    def define_settings(self, group: str, table: dict[str, Setting]) -> None:
        for name, setting in table.items():
            kind = "number" if setting.kind is Kind.INT else "string"
            self.define_config_group_param(group, name, kind, setting.help)


def secret_state(value: str) -> str:
    return "(set)" if value else "(not set)"
