"""Service commands for the configuration as a whole: restore, export, import, backups."""

from __future__ import annotations

from pathlib import Path

from sanappliance.model.config import Config

from .commit import Outcome, change, converge
from .env import Env


def restore(env: Env) -> Outcome:
    """Bring LIO and the storage back to the saved configuration."""
    with env.store.lock():
        return converge(env)


def export_config(env: Env, path: Path) -> Path:
    return env.store.export(path)


def import_config(env: Env, path: Path) -> Outcome:
    """Replace the whole configuration with a file's (validated completely before anything changes)."""
    new = env.store.read_external(path)
    return change(env, lambda current: Config(**{**new.__dict__, "generation": current.generation}))


def list_backups(env: Env) -> list[Path]:
    return list(env.store.list_backups())
