"""The live system as the service layer sees it: one object with the few calls that read or change the node."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from pathlib import Path

from sanappliance.drbd.commands import PROC_DRBD
from sanappliance.errors import SanError
from sanappliance.lio import plan as P
from sanappliance.lio.render import lv_path
from sanappliance.lio.state import LioState, Scope
from sanappliance.model.config import Config
from sanappliance.model.validate import Facts
from sanappliance.storage import plan as S

from . import configfs, disks, lio, lvm, sessions, system
from .runner import run


class LiveSystem:
    proc_drbd = Path(PROC_DRBD)

    def read_lio(self, scope: Scope | None = None) -> LioState:
        return configfs.read_state(scope=scope)

    def run_lio(self, actions: Sequence[P.Action]) -> None:
        if actions:
            executor = lio.Executor()  # rtslib settles the dbroot on an empty target: its pr/ and alua/ follow
            system.ensure_dbroot_dirs()
            executor.run(actions)

    def read_lvm(self, known_disks: Iterable[str]) -> S.LvmState:
        return lvm.read_state(known_disks)

    def run_lvm(self, actions: Sequence[S.Action]) -> None:
        lvm.ensure_file_dir()
        lvm.execute(actions)

    def sessions(self) -> list[dict[str, object]]:
        return sessions.read()

    def lun_commands(self, iqns: tuple[str, ...]) -> int:
        return sessions.lun_commands(iqns)

    def drbd_status(self) -> str | None:
        """/proc/drbd as the kernel writes it; None when DRBD is not loaded (no such file)."""
        try:
            return self.proc_drbd.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SanError(f"cannot read it: {exc.strerror or exc}", field=str(self.proc_drbd)) from None

    def multipath_paths(self) -> str | None:
        """multipathd's report of every path it watches; None when it does not run here."""
        from sanappliance.multipath.status import SHOW_PATHS_ARGV

        if not Path(SHOW_PATHS_ARGV[0]).exists():
            return None
        result = run(list(SHOW_PATHS_ARGV), check=False, timeout=60)
        return result.stdout if result.returncode == 0 else None

    def multipath_disks(self) -> tuple[object, ...]:
        """The multipath-capable disks this node sees, with their paths' states (apply.multipath)."""
        from .multipath import MultipathHost

        return MultipathHost().disks()

    def disks(self, config: Config) -> list[disks.DiskInfo]:
        return disks.discover(tuple(p.vg for p in config.pools))

    def facts(self, config: Config) -> Facts:
        if not config.pools:  # disks and VG sizes matter only to pools
            return Facts()
        found = self.disks(config)
        ours = {d for p in config.pools for d in p.disks}
        ours |= {n.disk for p in config.pools if p.replication is not None for n in p.replication.nodes}
        sizes = lvm.vg_sizes()
        # a replicated pool's VG is seen only where DRBD is Primary (a shared one where its maps and lvmlockd are):
        # elsewhere its size is not known here
        pool_sizes = {p.name: sizes[p.vg] if p.vg in sizes else sum(d.size for d in found if d.path in p.disks)
                      for p in config.pools if p.vg in sizes or (p.replication is None and p.shared is None)}
        node = socket.gethostname() if any(p.replication is not None for p in config.pools) else ""
        return Facts(disk_sizes={d.path: d.size for d in found},
                     disks_in_use={d.path: d.in_use for d in found if d.in_use and d.path not in ours},
                     pool_sizes=pool_sizes, node=node)

    def pool_usage(self, config: Config) -> dict[str, tuple[int, int]]:
        if not config.pools:
            return {}
        usage = lvm.vg_usage()
        return {p.name: usage[p.vg] for p in config.pools if p.vg in usage}

    def portal_addresses(self) -> tuple[str, ...] | None:
        """None when the node is in no cluster; else network.model.portal_addresses: the static ones count up or
        not yet (at boot LIO is restored before the network is; LIO binds its portals with IP_FREEBIND, so a portal
        waits for its address)."""
        from sanappliance.network.model import portal_addresses

        from .cluster import ClusterHost
        from .network import NetworkHost

        if ClusterHost().read_spec() is None:
            return None
        host = NetworkHost()
        try:
            spec = host.read_spec()
        except SanError:  # a damaged network file: `sanctl /network` says so; the live addresses still count
            spec = None
        return portal_addresses(spec, host.live_addresses())

    def copy_volume(self, config: Config, source: str, target: str) -> None:
        vg_of = {v.name: config.pool(v.pool).vg for v in config.volumes if v.name in (source, target)}
        lvm.copy_lv(lv_path(vg_of[source], source), lv_path(vg_of[target], target))
