"""The dashboard's pools: each pool local, replicated or shared; for a replicated one this node's DRBD view (role
here, connection, disk states, sync progress, health in words), for a shared one its disks' paths as this node
reaches them (multipathd), from service.pool_state, as table rows and as the values the
page updates in place (`pool:NAME:FIELD`, see app.js: text by data-key, the progress bar by data-value-key, the sync
bar shown by data-show-key, the warning style by data-state-key)."""

from __future__ import annotations

from typing import Any

from sanappliance.service.pool_state import SHARED, PoolState

WORDS = {"ok": "in sync", "syncing": "syncing", "degraded": "DEGRADED", "split-brain": "SPLIT BRAIN",
         "disconnected": "DISCONNECTED", "down": "DOWN", "failed": "DISK FAILED", "unknown": "unknown"}
FIELDS = ("role", "peer_role", "connection", "disk", "peer_disk", "sync", "sync_percent", "syncing", "health",
          "explanation", "state")


def replication(s: PoolState) -> dict[str, Any]:
    """The replication columns of one pool (empty for a local pool)."""
    if not s.replicated:
        return {}
    return {"role": s.role or "-", "peer_role": s.peer_role or "-", "connection": s.connection or "-",
            "disk": s.disk or "-", "peer_disk": s.peer_disk or "-", "sync": s.sync or "-",
            "sync_percent": s.sync_percent or 0, "syncing": s.syncing,
            "health": WORDS.get(s.health, s.health), "explanation": s.explanation,
            "state": "warning" if s.warning else ("ok" if s.health == "ok" else "")}


SHARED_WORDS = {"ok": "all paths up", "degraded": "DEGRADED", "failed": "NO PATH", "unknown": "unknown"}
SHARED_FIELDS = ("paths", "health", "explanation", "state")


def shared(s: PoolState) -> dict[str, Any]:
    """The path columns of one shared pool (empty for the other kinds)."""
    if s.kind != SHARED:
        return {}
    return {"paths": s.paths or "-", "health": SHARED_WORDS.get(s.health, s.health), "explanation": s.explanation,
            "state": "warning" if s.warning else ("ok" if s.health == "ok" else "")}


def values(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`pool:NAME:FIELD` -> value, for the replicated and shared pools' rows."""
    found: dict[str, Any] = {}
    for row in rows:
        for key in FIELDS if row["replication"] else ():
            found[f"pool:{row['name']}:{key}"] = row["replication"][key]
        for key in SHARED_FIELDS if row.get("shared") else ():
            found[f"pool:{row['name']}:{key}"] = row["shared"][key]
    return found
