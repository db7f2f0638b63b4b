"""The /disks, /pools and /volumes branches of the sanctl tree."""

from __future__ import annotations

from typing import Any

from configshell_fb import ExecutionError

from sanappliance.errors import SanError
from sanappliance.model import settings
from sanappliance.model.config import VolumeKind
from sanappliance.model.values import format_size
from sanappliance.multipath.status import summary as path_summary
from sanappliance.service import cluster, drill, initiators, pool_state, replicated, shared, storage

from . import listing
from .base import SanNode
from .split_brain import SplitBrainCommands


class UIDisks(SanNode):
    """The node's disks, by their stable /dev/disk/by-id names."""

    def __init__(self, parent: SanNode) -> None:
        super().__init__("disks", parent)

    def disks(self) -> list[Any]:
        return storage.list_disks(self.ctx.env())

    def summary(self) -> tuple[str, bool | None]:
        return listing.disks(self.config(), self.disks())

    def pool_of(self, path: str) -> str:
        return listing.pool_of(self.config(), path)

    def ui_command_ls(self, path: str | None = None, depth: str | None = None) -> None:
        if path is not None:
            return super().ui_command_ls(path, depth)
        for disk in self.disks():
            use = f"pool {self.pool_of(disk.path)}" if self.pool_of(disk.path) else (disk.in_use or "free")
            self.ctx.write(f"{disk.path}  {format_size(disk.size):>9}  {disk.model or '-':<16} {disk.serial or '-':<20}"
                           f" [{use}]")
        return None


class UIPools(SanNode):
    """Pools: LVM volume groups on whole disks."""

    def __init__(self, parent: SanNode) -> None:
        super().__init__("pools", parent)

    def build(self) -> None:
        for p in self.config().pools:
            UIPool(p.name, self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.pools(self.config())

    def ui_command_create(self, name: str, *disks: str) -> None:
        """create NAME DISK [DISK...]: a pool (LVM volume group) on whole disks named by /dev/disk/by-id paths."""
        self.call(f"Created pool {name}.", storage.create_pool, name, list(disks))

    def ui_complete_create(self, parameters: dict[str, Any], text: str, current_param: str) -> list[str]:
        if current_param == "disks":
            return [d.path for d in storage.list_disks(self.ctx.env()) if d.path.startswith(text) and not d.in_use]
        return []

    def ui_command_create_replicated(self, name: str, disk: str, peer_disk: str, ip: str | None = None,
                                     address: str | None = None, peer_address: str | None = None) -> None:
        """create_replicated NAME DISK PEER_DISK [ip=ADDR/PREFIX[@LINK],...] [address=A] [peer_address=B]: a pool
        replicated by DRBD between this node (DISK) and the other cluster node (PEER_DISK), both named by
        /dev/disk/by-id paths. ip: its floating portal addresses (one per storage network). The replication
        addresses default to each node's replication (else cluster) network address. The initial sync starts
        from this node; `ls /pools` shows its progress."""
        ips = [part for part in (ip or "").split(",") if part]
        outcome = self.call(f"Created replicated pool {name}.", replicated.create, replicated.live_hosts(), name,
                            disk, peer_disk, ips=ips, address=address or "", peer_address=peer_address or "")
        if not outcome.dry_run:
            for step in outcome.plan:
                self.ctx.write(f"  {step}")

    def ui_command_create_shared(self, name: str, disk: str, alias: str | None = None,
                                 ip: str | None = None) -> None:
        """create_shared NAME DISK[,DISK...] [alias=A[,A...]] [ip=ADDR/PREFIX[@LINK],...]: a pool on shared disks
        that every cluster node reaches (a SAN shelf over several paths), named by WWID (`ls /multipath`): a shared
        VG under lvmlockd, served by one node at a time, failing over like a replicated pool. alias: the disks'
        multipath names (default san-mp- and the WWID's end). ip: its floating portal addresses (one per storage
        network: initiators get one path per network)."""
        refs = [part for part in disk.split(",") if part]
        aliases = [part for part in (alias or "").split(",")]
        ips = [part for part in (ip or "").split(",") if part]
        outcome = self.call(f"Created shared pool {name}.", shared.create, shared.live_hosts(), name, refs,
                            aliases=aliases if alias else None, ips=ips)
        if not outcome.dry_run:
            for step in outcome.plan:
                self.ctx.write(f"  {step}")

    def ui_command_sync_shared(self) -> None:
        """sync_shared: this node's multipath.conf and lvm.conf as the clustered configuration renders them,
        multipathd told (a node that was down while a shared pool was made or deleted)."""
        try:
            lines = shared.sync_files(self.ctx.env(), shared.live_hosts())
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        for line in lines:
            self.ctx.write(line)

    def ui_command_delete(self, name: str) -> None:
        """delete NAME: remove an empty pool and release its disks (a replicated pool: on both nodes; a shared
        pool: its VG, and its maps on every node)."""
        if any(p.name == name and p.replicated for p in self.config().pools):
            self.call(f"Deleted replicated pool {name}.", replicated.delete, replicated.live_hosts(), name)
            return
        if any(p.name == name and p.shared is not None for p in self.config().pools):
            self.call(f"Deleted shared pool {name}.", shared.delete, shared.live_hosts(), name)
            return
        self.call(f"Deleted pool {name}.", storage.delete_pool, name)

    def ui_complete_delete(self, parameters: dict[str, Any], text: str, current_param: str) -> list[str]:
        return [p.name for p in self.config().pools if p.name.startswith(text)]


class UIPool(SplitBrainCommands, SanNode):
    def __init__(self, name: str, parent: SanNode) -> None:
        super().__init__(name, parent)

    def summary(self) -> tuple[str, bool | None]:
        config = self.config()
        p = config.pool(self.name)
        if not p.clustered:
            return listing.pool(config, p)
        states = pool_state.pool_states(self.ctx.env(), config)  # this node's DRBD view
        return listing.pool(config, p, next((s for s in states if s.name == p.name), None))

    def ui_command_move(self, node: str) -> None:
        """move NODE: a replicated or shared pool to NODE (manual failover: DRBD promoted there, or the shared VG
        activated there, then its volumes, addresses and targets). It stays there until `clear`."""
        outcome = self.call(f"Pool {self.name} moves to {node}.", replicated.move, replicated.live_hosts(), self.name,
                            node)
        for line in outcome.lines:
            self.ctx.write(line)

    def ui_command_drill(self, how: str = "move", confirm: str = "no") -> None:
        """drill [how=move|fence] confirm=yes: a real failover of this replicated pool, timed phase by phase (DRBD
        promoted, VG, volumes, addresses, targets, the first initiator command on the new node). how=fence fences
        the serving node: run it on the other one. Initiators see a real outage: it needs confirm=yes."""
        try:
            result = drill.run(self.ctx.env(), replicated.live_hosts(), self.name, how,
                               confirm=self.parse_bool(confirm, "confirm"))
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        finally:
            self.ctx.invalidate()
        for line in result.plan if result.dry_run else ():
            self.ctx.write(f"  {line}")
        for line in result.lines:
            self.ctx.write(line)
        if not result.dry_run:
            self.ctx.write(f"Drill done: pool {self.name} moved from {result.source} to {result.destination}.")

    def ui_command_initiators(self, os: str = "linux", nics: str | None = None) -> None:  # noqa: A002 - the os
        """initiators [os=linux|esxi|windows] [nics=IF1,IF2]: ready-to-use settings for this pool's initiators,
        derived from the cluster's failover timers: for Linux the iscsid.conf lines and the multipath.conf
        device section, and with nics= (one initiator interface per portal, in the pool's ip= order) the iscsiadm
        commands binding them and logging in once per portal; esxcli for VMware ESXi; PowerShell for Windows
        MPIO."""
        try:
            text = initiators.for_pool(self.ctx.env(), cluster.live_host(), self.name, os,
                                       [n for n in (nics or "").split(",") if n])
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        for line in text.rstrip("\n").splitlines():
            self.ctx.write(line)

    def ui_command_clear(self) -> None:
        """clear: drop the preference `move` left (the pool stays where it runs)."""
        self.call(f"Pool {self.name} may run on any node again.", replicated.clear, replicated.live_hosts(),
                  self.name)


class UIMultipath(SanNode):
    """The multipath-capable disks this node sees (SCSI disks with a WWID), each with its paths and their states:
    the disks a shared pool is made of."""

    def __init__(self, parent: SanNode) -> None:
        super().__init__("multipath", parent)

    def summary(self) -> tuple[str, bool | None]:
        return listing.multipath(self.config(), shared.list_disks(self.ctx.env()))

    def ui_command_ls(self, path: str | None = None, depth: str | None = None) -> None:
        """ls: every multipath-capable disk: WWID, map alias, size, vendor and product, the pool using it, and its
        paths (the kernel's name, H:C:I:L, the path's state in the map, the checker's, the SCSI device's)."""
        if path is not None:
            return super().ui_command_ls(path, depth)
        owners = shared.owners(self.config())
        for disk in shared.list_disks(self.ctx.env()):
            use = f"pool {owners[disk.wwid]}" if disk.wwid in owners else "free"
            self.ctx.write(f"{disk.wwid}  {disk.alias or '-':<20} {disk.size or '-':>7} {disk.vendor or '-'} "
                           f"{disk.product or '-'} [{use}] {path_summary(disk)}")
            for p in disk.paths:
                self.ctx.write(f"  {p.device:<6} {p.hcil or '-':<10} {p.dm_state or '-':<8} {p.checker_state or '-':<8}"
                               f" {p.device_state or '-'}")
        return None


class UIVolumes(SanNode):
    """Volumes: logical volumes in a pool, fileio files, or ramdisks (for tests)."""

    def __init__(self, parent: SanNode) -> None:
        super().__init__("volumes", parent)

    def build(self) -> None:
        for v in self.config().volumes:
            UIVolume(v.name, self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.volumes(self.config())

    def ui_command_create(self, name: str, size: str, pool: str | None = None, kind: str | None = None,
                          path: str | None = None) -> None:
        """create NAME SIZE [pool=POOL] [kind=lv|fileio|ramdisk] [path=FILE]: a volume (an LV when a pool is given,
        else a fileio file). Sizes take K, M, G, T (binary)."""
        self.call(f"Created volume {name}.", storage.create_volume, name, size, pool=pool or "", kind=kind or "",
                  path=path or "")

    def ui_complete_create(self, parameters: dict[str, Any], text: str, current_param: str) -> list[str]:
        if current_param == "pool":
            return [p.name for p in self.config().pools if p.name.startswith(text)]
        if current_param == "kind":
            return [k.value for k in VolumeKind if k.value.startswith(text)]
        return []

    def ui_command_delete(self, name: str) -> None:
        """delete NAME: remove a volume that no LUN exports. Its data is lost."""
        self.call(f"Deleted volume {name}.", storage.delete_volume, name)

    def ui_complete_delete(self, parameters: dict[str, Any], text: str, current_param: str) -> list[str]:
        return [v.name for v in self.config().volumes if v.name.startswith(text)]

    def ui_command_resize(self, name: str, size: str) -> None:
        """resize NAME SIZE: grow a volume in a pool (volumes never shrink)."""
        self.call(f"Resized volume {name}.", storage.resize_volume, name, size)


class UIVolume(SanNode):
    def __init__(self, name: str, parent: SanNode) -> None:
        super().__init__(name, parent)
        self.define_settings("attribute", settings.DEVICE_ATTRIBUTES)

    def summary(self) -> tuple[str, bool | None]:
        return listing.volume(self.config(), self.config().volume(self.name))

    def ui_command_info(self) -> None:
        """info: the volume's settings."""
        volume = self.config().volume(self.name)
        for key, value in (("name", volume.name), ("kind", volume.kind.value), ("size", volume.size),
                           ("pool", volume.pool or "-"), ("wwn", volume.wwn), ("exports", self.config().exports_of(
                               self.name))):
            self.ctx.write(f"{key}: {value}")
        for name, value in sorted(settings.effective(settings.DEVICE_ATTRIBUTES, volume.attributes).items()):
            self.ctx.write(f"attribute {name}: {value}")

    def ui_getgroup_attribute(self, name: str) -> Any:
        volume = self.config().volume(self.name)
        return settings.effective(settings.DEVICE_ATTRIBUTES, volume.attributes).get(name, "(kernel default)")

    def ui_setgroup_attribute(self, name: str, value: Any) -> None:
        if value is None:
            raise ExecutionError(f"{name}: give a value")
        self.call(f"Set {name} of volume {self.name}.", storage.set_volume_attribute, self.name, name, value)
