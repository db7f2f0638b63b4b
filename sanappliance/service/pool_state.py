"""The pools as this node sees them, for the front ends (dashboard, `sanctl ls /pools`): each saved pool, local or
replicated, and for a replicated one this node's DRBD view (roles, connection, disk states, sync progress) with a
health verdict in words (drbd.status.diagnose).

/proc/drbd comes from an optional method of `env.system`, `drbd_status()`: the raw text, or None when DRBD is not
loaded on this node. A system without the method cannot tell: its replicated pools say so ("unknown") instead of
guessing. Only this node's view is read: a StandAlone device is reported as a split brain (DRBD drops to StandAlone
when it finds one; the appliance never disconnects by hand), with the command that recovers it."""

from __future__ import annotations

from dataclasses import dataclass

from sanappliance.drbd import status as drbd
from sanappliance.errors import SanError
from sanappliance.model.config import Config, Pool
from sanappliance.multipath.model import MultipathDisk
from sanappliance.multipath.status import parse_show_paths, summary

from .env import Env

LOCAL, REPLICATED, SHARED = "local", "replicated", "shared"
UNKNOWN = "unknown"  # health when this node's DRBD state cannot be read
NO_READER = "unknown (no DRBD reader)"
RECOVER = "sanctl /pools/{pool} recover victim=NODE"  # the split-brain recovery command (NODE: whose changes go)
SOURCES = frozenset({"SyncSource", "PausedSyncS", "StartingSyncS", "WFBitMapS", "VerifyS"})
TARGETS = frozenset({"SyncTarget", "PausedSyncT", "StartingSyncT", "WFBitMapT", "VerifyT"})
WARN = frozenset({drbd.Health.DEGRADED.value, drbd.Health.SPLIT_BRAIN.value, drbd.Health.DISCONNECTED.value,
                  drbd.Health.DOWN.value, drbd.Health.FAILED.value})


@dataclass(frozen=True)
class PoolState:
    name: str
    kind: str  # LOCAL, REPLICATED or SHARED
    connection: str = ""  # DRBD's connection state here: Connected, SyncSource, StandAlone, WFConnection, ...
    role: str = ""  # this node's role: Primary, Secondary
    peer_role: str = ""
    disk: str = ""  # this node's disk state: UpToDate, Inconsistent, ...
    peer_disk: str = ""
    sync_percent: float | None = None  # while a resync (or verify) runs
    sync_eta: str = ""  # "0:35" (M:SS, H:MM:SS from an hour), while syncing and DRBD gives one
    verifying: bool = False  # the running "sync" is an online verify
    out_of_sync_kib: int = 0
    health: str = ""  # drbd.status.Health's value, or UNKNOWN; "" for a local pool
    explanation: str = ""  # one line: what the health means and what to do
    paths: str = ""  # a shared pool's disks as this node reaches them: "san-mp-1: 2/2 paths up"

    @property
    def replicated(self) -> bool:
        return self.kind == REPLICATED

    @property
    def syncing(self) -> bool:
        return self.sync_percent is not None

    @property
    def warning(self) -> bool:
        """Whether the front ends should flag it: degraded, split brain, down, a failed disk."""
        return self.health in WARN

    @property
    def roles(self) -> str:
        return f"{self.role}/{self.peer_role}" if self.role else ""

    @property
    def disks(self) -> str:
        return f"{self.disk}/{self.peer_disk}" if self.disk else ""

    @property
    def sync(self) -> str:
        """"42.1% ETA 0:35" while syncing, else ""."""
        if self.sync_percent is None:
            return ""
        return f"{self.sync_percent:.1f}%" + (f" ETA {self.sync_eta}" if self.sync_eta else "")


def eta(seconds: int) -> str:
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _peer_of(pool: Pool) -> str:
    names = [n.name for n in pool.replication.nodes] if pool.replication is not None else []
    return " or ".join(names) or "NODE"


def _explain(pool: Pool, diagnosis: drbd.Diagnosis) -> str:
    dev, health = diagnosis.device, diagnosis.health
    res = f"san-{pool.name}"
    if health is drbd.Health.OK:
        return f"in sync: connected, both disks UpToDate, this node {dev.role}"
    if health is drbd.Health.SYNCING:
        sync = dev.sync
        what = "verifying" if sync is not None and sync.verify else "resyncing"
        direction = ("this node is the source" if dev.cstate in SOURCES else
                     "this node receives" if dev.cstate in TARGETS else dev.cstate)
        progress = f" {sync.percent:.1f}%" if sync is not None else ""
        left = f", {sync.left_kib} KiB to go" if sync is not None and not sync.verify else ""
        return f"{what}{progress} ({direction}{left}): redundant once both disks are UpToDate"
    if health in (drbd.Health.SPLIT_BRAIN, drbd.Health.DISCONNECTED):
        return (f"SPLIT BRAIN: DRBD is StandAlone (not replicating, {dev.out_of_sync_kib} KiB out of sync); pick the "
                f"node whose changes since the split are discarded ({_peer_of(pool)}) and run "
                f"`{RECOVER.format(pool=pool.name)}`")
    if health is drbd.Health.DOWN:
        return f"the DRBD resource {res} is not up on this node"
    if health is drbd.Health.FAILED:
        return f"this node's disk is {dev.disk}: DRBD serves from the peer's disk; replace or reattach the disk"
    if not dev.connected:
        return f"DEGRADED: the peer is not connected ({dev.cstate}); this node ({dev.role}) runs without a replica"
    if dev.disk != "UpToDate":
        return f"DEGRADED: this node's disk is {dev.disk}"
    return f"DEGRADED: the peer's disk is {dev.peer_disk}"


def replicated_state(pool: Pool, proc: drbd.ProcDrbd | None) -> PoolState:
    """One replicated pool from this node's /proc/drbd (None: DRBD is not loaded here)."""
    if proc is None:
        return PoolState(pool.name, REPLICATED, health=drbd.Health.DOWN.value,
                         explanation="DRBD is not loaded on this node (no /proc/drbd)")
    assert pool.replication is not None
    device = proc.device(pool.replication.minor)
    diagnosis = drbd.diagnose(device)
    health = diagnosis.health
    if health is drbd.Health.DISCONNECTED:  # StandAlone: without both nodes' generations, taken as split brain
        health = drbd.Health.SPLIT_BRAIN
    sync = device.sync
    if not device.configured:
        return PoolState(pool.name, REPLICATED, device.cstate, health=health.value,
                         explanation=_explain(pool, diagnosis))
    return PoolState(pool.name, REPLICATED, device.cstate, device.role, device.peer_role, device.disk,
                     device.peer_disk, sync.percent if sync is not None else None,
                     eta(sync.finish_seconds) if sync is not None and sync.finish_seconds is not None else "",
                     bool(sync is not None and sync.verify), device.out_of_sync_kib, health.value,
                     _explain(pool, diagnosis))


def shared_state(pool: Pool, seen: tuple[MultipathDisk, ...] | None) -> PoolState:
    """One shared pool from multipathd's paths on this node (None: multipathd does not answer here)."""
    assert pool.shared is not None
    if seen is None:
        return PoolState(pool.name, SHARED, health=UNKNOWN, explanation="multipathd does not run on this node")
    by_wwid = {d.wwid: d for d in seen}
    parts, down, degraded = [], [], []
    for disk in pool.shared.disks:
        found = by_wwid.get(disk.wwid)
        if found is None or not found.active_paths:
            down.append(disk.alias)
            parts.append(f"{disk.alias}: no path up" if found is None else f"{disk.alias}: {summary(found)}")
            continue
        if found.alias != disk.alias:  # LVM accepts the map only by its alias (lvm.conf)
            down.append(disk.alias)
            parts.append(f"{disk.alias}: the map is named {found.alias or found.wwid} here")
            continue
        if found.active_paths < len(found.paths):
            degraded.append(disk.alias)
        parts.append(f"{disk.alias}: {summary(found)}")
    if down:
        health, why = drbd.Health.FAILED, f"this node reaches no path of {', '.join(down)}: it cannot serve the pool"
    elif degraded:
        health, why = drbd.Health.DEGRADED, (f"DEGRADED: a path of {', '.join(degraded)} is down; I/O goes over "
                                             "the others (check the cabling or the shelf's controller)")
    else:
        health, why = drbd.Health.OK, "every path of every disk up"
    return PoolState(pool.name, SHARED, health=health.value, explanation=why, paths="; ".join(parts))


def _unknown(pool: Pool, why: str) -> PoolState:
    return PoolState(pool.name, REPLICATED, health=UNKNOWN, explanation=why)


def _paths(read: object | None) -> tuple[MultipathDisk, ...] | None:
    if read is None:
        return None
    try:
        text = read()  # type: ignore[operator]
        return None if text is None else parse_show_paths(text)
    except SanError:
        return None


def states_of(config: Config, read: object | None, read_paths: object | None = None) -> list[PoolState]:
    """Every saved pool's state, reading /proc/drbd once (only when a pool is replicated) through `read`
    (env.system.drbd_status, or None when the system has no reader), and multipathd's paths once (only when a pool
    is shared) through `read_paths` (env.system.multipath_paths)."""
    seen = _paths(read_paths) if any(p.shared is not None for p in config.pools) else None
    proc: drbd.ProcDrbd | None = None
    problem = ""
    if any(p.replicated for p in config.pools):
        if read is None:
            problem = NO_READER
        else:
            try:
                text = read()  # type: ignore[operator]
                proc = None if text is None else drbd.parse_proc_drbd(text)
            except SanError as exc:
                problem = f"unknown (cannot read DRBD's state: {exc})"
    found = []
    for pool in config.pools:
        if pool.shared is not None:
            found.append(shared_state(pool, seen))
        elif not pool.replicated:
            found.append(PoolState(pool.name, LOCAL))
        elif problem:
            found.append(_unknown(pool, problem))
        else:
            found.append(replicated_state(pool, proc))
    return found


def pool_states(env: Env, config: Config | None = None) -> list[PoolState]:
    """The pools of the saved config (or of `config`, when the caller has loaded it), in its order."""
    return states_of(config if config is not None else env.store.load(),
                     getattr(env.system, "drbd_status", None), getattr(env.system, "multipath_paths", None))


__all__ = ["LOCAL", "NO_READER", "RECOVER", "REPLICATED", "SHARED", "UNKNOWN", "PoolState", "eta", "pool_states",
           "replicated_state", "shared_state", "states_of"]
