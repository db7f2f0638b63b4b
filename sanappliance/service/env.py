"""The environment a service command runs in: the saved state, the live system (or a stand-in), dry-run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sanappliance.lio import plan as P
from sanappliance.lio.state import LioState, Scope
from sanappliance.model.config import Config
from sanappliance.model.validate import Facts
from sanappliance.storage import plan as S


class System(Protocol):
    def read_lio(self, scope: Scope | None = None) -> LioState: ...
    def run_lio(self, actions: Sequence[P.Action]) -> None: ...
    def read_lvm(self, known_disks: Iterable[str]) -> S.LvmState: ...
    def run_lvm(self, actions: Sequence[S.Action]) -> None: ...
    def disks(self, config: Config) -> list[Any]: ...
    def facts(self, config: Config) -> Facts: ...
    def pool_usage(self, config: Config) -> dict[str, tuple[int, int]]: ...  # pool -> (size, free bytes) if present
    def copy_volume(self, config: Config, source: str, target: str) -> None: ...  # every byte of LV source to target
    # None when the node is alone (a wildcard portal stays one); in a cluster: its addresses for the local targets
    def portal_addresses(self) -> tuple[str, ...] | None: ...


class Store(Protocol):
    def load(self) -> Config: ...
    def save(self, config: Config, expected_generation: int) -> Config: ...
    def lock(self, timeout: float = ...) -> Any: ...
    def export(self, path: Path) -> Path: ...
    def read_external(self, path: Path) -> Config: ...
    def list_backups(self) -> list[Path]: ...


@dataclass
class Env:
    store: Store
    system: System
    dry_run: bool = False


def live_env(dry_run: bool = False) -> Env:
    """This node's environment; once the node is in a cluster, its store keeps the clustered part in the CIB."""
    from sanappliance.apply.cluster_store import ClusteredStore
    from sanappliance.apply.live import LiveSystem

    return Env(ClusteredStore(), LiveSystem(), dry_run)
