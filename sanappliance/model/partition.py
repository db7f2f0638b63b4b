"""In a cluster the configuration splits in two (pure; docs/REPLICATION.md, "where the clustered configuration
lives"): the clustered part (the replicated and shared pools, their volumes, and the targets that serve them) is
kept in the CIB and acted on by Pacemaker on the node that serves each pool; the local part (everything else) is
kept in /etc/sanappliance/config.json and acted on by the node itself. `merge` puts the two back together: the
front ends and the validation always see one whole configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .config import Config, VolumeKind
from .replication import pools_of_target


@dataclass(frozen=True)
class Split:
    local: Config  # the node's own part: its generation, discovery auth, local pools, volumes and targets
    clustered: Config  # replicated and shared pools, their LVs, their targets (generation: its own counter)


def clustered_pools(config: Config) -> frozenset[str]:
    return frozenset(p.name for p in config.pools if p.clustered)


def partition(config: Config, clustered_generation: int = 0) -> Split:
    """`config` cut in its local and clustered parts. A target belongs to the cluster when its LUNs are on a
    replicated or shared pool (validation allows no mix); a target without a LUN stays local until its first one."""
    pools = clustered_pools(config)
    volumes = {v.name for v in config.volumes if v.kind is VolumeKind.LV and v.pool in pools}
    targets = {t.iqn for t in config.targets if any(p in pools for p in pools_of_target(config, t))}
    local = replace(config, pools=tuple(p for p in config.pools if p.name not in pools),
                    volumes=tuple(v for v in config.volumes if v.name not in volumes),
                    targets=tuple(t for t in config.targets if t.iqn not in targets))
    clustered = Config(generation=clustered_generation, pools=tuple(p for p in config.pools if p.name in pools),
                       volumes=tuple(v for v in config.volumes if v.name in volumes),
                       targets=tuple(t for t in config.targets if t.iqn in targets))
    return Split(local, clustered)


def merge(local: Config, clustered: Config | None) -> Config:
    """One configuration of both parts (the local part's generation and discovery settings); the clustered
    objects come after the local ones. Clashing names are left for the validation to report."""
    if clustered is None:
        return local
    return replace(local, pools=local.pools + clustered.pools, volumes=local.volumes + clustered.volumes,
                   targets=local.targets + clustered.targets)


def is_clustered(config: Config) -> bool:
    return bool(clustered_pools(config))


__all__ = ["Split", "clustered_pools", "is_clustered", "merge", "partition"]
