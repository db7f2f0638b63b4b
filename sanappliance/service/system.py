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


def relisten(env: Env, *, locked: bool = False) -> tuple[str, ...]:
    """After the node formed, joined or left a cluster, or its addresses changed: the local targets' portals follow
    (in a cluster a wildcard portal is the node's own addresses: lio.clustered.node_portals). What was done, or why
    it could not be (the change itself stands: `sanctl system restore` finishes it). `locked`: the caller holds
    the operation lock."""
    from sanappliance.errors import SanError

    try:
        outcome = converge(env) if locked else restore(env)
    except SanError as exc:
        return (f"the local targets' portals were not changed: {exc.message} (run `sanctl system restore`)",)
    return tuple(f"local targets: {step}" for step in outcome.plan)


def export_config(env: Env, path: Path) -> Path:
    return env.store.export(path)


def import_config(env: Env, path: Path) -> Outcome:
    """Replace the whole configuration with a file's (validated completely before anything changes)."""
    new = env.store.read_external(path)
    return change(env, lambda current: Config(**{**new.__dict__, "generation": current.generation}))


def list_backups(env: Env) -> list[Path]:
    return list(env.store.list_backups())
