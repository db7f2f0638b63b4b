"""The saved desired state on a cluster node: the local part in /etc/sanappliance/config.json (ConfigStore), the
clustered part in the CIB (cluster.sanconfig), put together on load and split again on save (model.partition).

On a node that is not in a cluster (no cluster spec) it is the ConfigStore alone.

* load: the local file merged with the CIB's san-config. When Pacemaker does not answer (the stack is starting or
  stopped) the last copy read from the CIB is used (CACHE, 0600: it holds CHAP secrets), so listings still work;
  a change of the clustered part then waits for the CIB.
* save: a clustered part that differs from the CIB's is pushed first, in one validated CIB replace with the pools'
  chains (refused if another node changed san-config since this store loaded it; a CIB that moved on for another
  reason, such as crm-fence-peer's constraint, is read again and the push redone); then the local file.
* settle: after a push, until Pacemaker has nothing left to do; a new failure of one of the changed pools'
  resources is the change's error (the service's commit then saves the previous state back).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path

from sanappliance.cluster import sanconfig
from sanappliance.cluster.status import parse
from sanappliance.errors import CONFLICT, SanError
from sanappliance.model.config import Config
from sanappliance.model.partition import clustered_pools, merge, partition

from .cluster import ClusterHost
from .files import write_atomic
from .store import ConfigStore

CACHE = Path("/etc/sanappliance/clustered-cache.json")
CIB_TIMEOUT = 5.0  # how long a load waits for the CIB before it uses the cached copy
PUSH_ATTEMPTS = 5
SETTLE_TIMEOUT = 600  # seconds: a pool's chain may have to start (DRBD promotion waits for its peer handler)


def _same(a: Config | None, b: Config | None) -> bool:
    """Equal apart from the generation (None: an empty clustered part)."""
    return replace(a or Config(), generation=0) == replace(b or Config(), generation=0)


class ClusteredStore:
    def __init__(self, local: ConfigStore | None = None, host: ClusterHost | None = None,
                 cache: Path = CACHE) -> None:
        self.local = local or ConfigStore()
        self.host = host or ClusterHost()
        self.cache = cache
        self.loaded_generation: int | None = None  # san-config's generation when this store last read it
        self._failures_before: set[tuple[str, str, str]] = set()
        self._pushed_pools: frozenset[str] = frozenset()

    # --- the clustered part ----------------------------------------------------------------------------------------

    def _read_cib(self, timeout: float) -> tuple[str, Config | None]:
        text = self.host.query_cib(timeout=timeout)
        clustered = sanconfig.read(text)
        if clustered is not None:
            write_atomic(self.cache, clustered.to_json(), mode=0o600)
        return text, clustered

    def clustered(self) -> Config | None:
        try:
            _, found = self._read_cib(CIB_TIMEOUT)
        except SanError:
            found = self._cached()
            self.loaded_generation = None  # not read from the CIB: a clustered change must read it first
            return found
        self.loaded_generation = found.generation if found is not None else 0
        return found

    def _cached(self) -> Config | None:
        try:
            return Config.from_json(self.cache.read_text(), str(self.cache))
        except (OSError, SanError):
            return None

    # --- Store ------------------------------------------------------------------------------------------------------

    def load(self) -> Config:
        if self.host.read_spec() is None:  # not in a cluster (the single-node default): the local file only
            return self.local.load()
        return merge(self.local.load(), self.clustered())

    def save(self, config: Config, expected_generation: int) -> Config:
        split = partition(config)
        if self.host.read_spec() is None:
            if split.clustered.pools:
                raise SanError("replicated and shared pools need a cluster: form one first (sanctl /cluster init)",
                               field="pools", value=split.clustered.pools[0].name, kind=CONFLICT)
            return self.local.save(config, expected_generation)
        local_now = self.local.load()
        if local_now.generation != expected_generation:
            raise SanError(f"the configuration was changed meanwhile (generation {local_now.generation}, this "
                           f"change was based on {expected_generation}); reload and try again", field="generation",
                           value=expected_generation, kind=CONFLICT)
        clustered = self._push(split.clustered)
        saved = self.local.save(split.local, expected_generation)
        return merge(saved, clustered)

    def _push(self, wanted: Config) -> Config | None:
        spec = self.host.read_spec()
        for attempt in range(PUSH_ATTEMPTS):
            text, current = self._read_cib(300.0)
            if _same(current, wanted):
                return current
            if spec is None:
                raise SanError("this node left the cluster meanwhile", field="pools", kind=CONFLICT)
            generation = current.generation if current is not None else 0
            if self.loaded_generation is None or generation != self.loaded_generation:
                raise SanError(f"the clustered configuration was changed meanwhile, on this node or another "
                               f"(generation {generation}); reload and try again", field="generation",
                               value=self.loaded_generation, kind=CONFLICT)
            new = replace(wanted, generation=generation + 1)
            cib_text = sanconfig.with_clustered(text, spec, new)
            self._failures_before = self._failures()
            try:
                self.host.push_cib(cib_text)
            except SanError as exc:
                if exc.kind != CONFLICT or attempt == PUSH_ATTEMPTS - 1:
                    raise
                continue
            self.loaded_generation = new.generation
            self._pushed_pools = clustered_pools(new) | clustered_pools(current or Config())
            write_atomic(self.cache, new.to_json(), mode=0o600)
            return new
        raise AssertionError("unreachable")

    def _failures(self) -> set[tuple[str, str, str]]:
        found = parse(self.host.status_xml())
        return {(f.resource, f.node, f.task) for f in found.failures}

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """After a push: until Pacemaker is idle; then a new failure of a changed pool's resource is an error."""
        if not self._pushed_pools:
            return
        pools, self._pushed_pools = self._pushed_pools, frozenset()
        idle = self.host.wait_idle(timeout)
        found = parse(self.host.status_xml())
        new = [f for f in found.failures if (f.resource, f.node, f.task) not in self._failures_before
               and any(f.resource.startswith(f"san-{p}-") or f.resource == f"san-{p}" for p in pools)]
        if new:
            first = new[0]
            raise SanError(f"Pacemaker could not {first.task} {first.resource} on {first.node}: {first.status}",
                           field="cluster", value=first.resource)
        if idle:
            raise SanError(f"Pacemaker did not finish within {int(timeout)} s: {idle}", field="cluster")

    def lock(self, timeout: float = 300.0) -> AbstractContextManager[None]:
        return self.local.lock(timeout)

    def export(self, path: Path) -> Path:
        write_atomic(Path(path), self.load().to_json(pretty=True), mode=0o600)
        return Path(path)

    def read_external(self, path: Path) -> Config:
        return self.local.read_external(path)

    def list_backups(self) -> list[Path]:
        return self.local.list_backups()

    def read_backup(self, path: Path) -> Config:
        return self.local.read_backup(path)


__all__ = ["CACHE", "ClusteredStore"]
