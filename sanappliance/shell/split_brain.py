"""`status` and `recover` of a pool in the sanctl tree (UIPool takes them in): both nodes' DRBD state and data
generations, and the split-brain recovery that discards one node's changes, only with confirm=yes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from configshell_fb import ExecutionError

from sanappliance.errors import SanError
from sanappliance.service import replicated, split_brain


class SplitBrainCommands:
    """Mixed into UIPool (a SanNode named after the pool)."""

    name: str
    ctx: Any  # base.Context
    if TYPE_CHECKING:
        from sanappliance.model.config import Config

        def config(self) -> Config: ...
        def summary(self) -> tuple[str, bool | None]: ...
        def parse_bool(self, value: Any, field: str) -> bool: ...

    def ui_command_status(self) -> None:
        """status: a replicated pool's state on both nodes: DRBD's connection, roles, disks, out-of-sync KiB and
        each node's data generations (current, bitmap, history); whether it is a split brain and what to do."""
        if not self.config().pool(self.name).replicated:
            self.ctx.write(f"pool {self.name}: local, {self.summary()[0]}")
            return
        try:
            found = split_brain.diagnose(self.ctx.env(), replicated.live_hosts(), self.name)
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        for line in found.lines():
            self.ctx.write(line)

    def ui_command_recover(self, victim: str, confirm: str = "no") -> None:
        """recover victim=NODE [confirm=yes]: end a split brain by discarding NODE's changes since the split (NODE
        disconnects, becomes Secondary and connects with --discard-my-data, then resyncs from the other node).
        Without confirm=yes it only shows what it would do and what would be lost."""
        write = self.ctx.write
        confirmed = self.parse_bool(confirm, "confirm")
        try:
            result = split_brain.recover(self.ctx.env(), replicated.live_hosts(), self.name,
                                         victim, confirm=confirmed)
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        write(f"Split-brain recovery of pool {self.name}: victim {result.victim}, survivor "
              f"{result.survivor}")
        for step in (*result.plan, result.lost):
            write(f"  {step}")
        if result.dry_run:
            write("Dry run, nothing changed.")
        elif not result.done:
            write("nothing changed: give confirm=yes")
        else:
            for line in result.lines:
                write(f"  {line}")
            write(f"Recovery started: {result.victim} resyncs from {result.survivor} (`ls /pools` shows the "
                  "progress).")
