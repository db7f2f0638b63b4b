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
    """A node of the tree. Subclasses build their children in `refresh()` from the saved config."""

    def __init__(self, name: str, parent: ConfigNode | None = None, shell: Any = None) -> None:
        super().__init__(name, parent, shell)

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
        for child in list(self.children):
            if isinstance(child, SanNode):
                child.refresh()

    def rebuild(self, make: Callable[[], None]) -> None:
        """Drop the children and build them again."""
        for child in list(self.children):
            self.remove_child(child)
        make()

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
