"""Replicated pools (pure): the DRBD numbers they take, which targets serve them, and the checks that span pools.

Each replicated pool is one DRBD resource with its own minor (/dev/drbdN) and TCP port, unique across pools, so
two pools never share a device or a connection. `allocate` picks the lowest free minor and port for a new pool.
"""

from __future__ import annotations

from sanappliance.errors import EXHAUSTED, SanError

from .config import Config, Pool, Target, VolumeKind

FIRST_PORT = 7789  # DRBD's customary first port
MAX_MINOR = 255  # DRBD 8.4's minor_count limit (module parameter, 1-255)
PORT_RANGE = (1024, 65535)
# ports the appliance itself listens on (iSCSI, corosync knet, the targetd API, the web page, ssh): never DRBD's
RESERVED_PORTS = frozenset({22, 443, 3260, 5403, 5404, 5405, 18700})
PROTOCOLS = ("C",)  # synchronous replication only: A and B acknowledge writes that one node could still lose
NODES = 2  # DRBD 8.4 replicates between exactly two nodes


def allocate(config: Config) -> tuple[int, int]:
    """The lowest minor and the lowest port (from FIRST_PORT) that no replicated pool of `config` uses."""
    minors = {p.replication.minor for p in config.pools if p.replication is not None}
    ports = {p.replication.port for p in config.pools if p.replication is not None}
    minor = next((m for m in range(MAX_MINOR + 1) if m not in minors), None)
    if minor is None:
        raise SanError(f"all DRBD minors 0-{MAX_MINOR} are taken", field="replication.minor", kind=EXHAUSTED)
    port = next((p for p in range(FIRST_PORT, PORT_RANGE[1] + 1) if p not in ports and p not in RESERVED_PORTS),
                None)
    if port is None:
        raise SanError("no free TCP port is left for DRBD", field="replication.port", kind=EXHAUSTED)
    return minor, port


def replicated_pools(config: Config) -> tuple[Pool, ...]:
    return tuple(p for p in config.pools if p.replication is not None)


def pools_of_target(config: Config, target: Target) -> tuple[str, ...]:
    """The pools whose volumes the target's LUNs serve, in order of first use ('' for a volume that is not an LV:
    fileio and ramdisk volumes live on one node)."""
    found: list[str] = []
    volumes = {v.name: v for v in config.volumes}
    for tpg in target.tpgs:
        for lun in tpg.luns:
            vol = volumes.get(lun.volume)
            name = vol.pool if vol is not None and vol.kind is VolumeKind.LV else ""
            if name not in found:
                found.append(name)
    return tuple(found)


def targets_of_pool(config: Config, pool: str) -> tuple[Target, ...]:
    """The targets that serve the pool's volumes: they move with it (a target with no LUN yet belongs to no pool
    and is not served by the cluster)."""
    return tuple(t for t in config.targets if pool in pools_of_target(config, t))


__all__ = ["FIRST_PORT", "MAX_MINOR", "NODES", "PROTOCOLS", "RESERVED_PORTS", "allocate", "pools_of_target",
           "replicated_pools", "targets_of_pool"]
