"""Schema upgrades of a saved configuration: one step per version, applied in order (pure, on plain dicts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanappliance.errors import SanError

from .config import SCHEMA_VERSION

Step = Callable[[dict[str, Any]], dict[str, Any]]


def _pools_may_replicate(data: dict[str, Any]) -> dict[str, Any]:
    """1 -> 2: pools gained `replication` and `floating_ips`; a schema-1 pool is a local one (their defaults), so the
    document stays as it is. The version still changes: a schema-2 file names fields schema-1 readers refuse, and
    they say so by its version instead of an unknown field."""
    return data


def _pools_may_be_shared(data: dict[str, Any]) -> dict[str, Any]:
    """2 -> 3: pools gained `shared` (a pool on multipathed disks every node reaches); a schema-2 pool has none (the
    default), so the document stays as it is; the version changes for the reason of 1 -> 2."""
    return data


# STEPS[n] turns a schema-n document into a schema-(n+1) one. Schema 1 is the first released schema.
STEPS: dict[int, Step] = {1: _pools_may_replicate, 2: _pools_may_be_shared}


def upgrade(data: dict[str, Any], steps: dict[int, Step] | None = None,
            current: int = SCHEMA_VERSION) -> dict[str, Any]:
    steps = STEPS if steps is None else steps
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise SanError("the configuration has no schema version", field="schema", value=schema)
    if schema > current:
        raise SanError(f"written by a newer sanappliance (schema {schema}; this one reads up to {current})",
                       field="schema", value=schema)
    while schema < current:
        if schema not in steps:
            raise SanError(f"no upgrade from schema {schema}", field="schema", value=schema)
        data = steps[schema](dict(data))
        schema += 1
        data["schema"] = schema
    return data
