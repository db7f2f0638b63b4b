"""DRBD 8.4 state (pure): parsers of /proc/drbd and of `drbdadm get-gi`, and what the two nodes' data generations
say about each other (in sync, who is newer, split brain).

/proc/drbd of DRBD 8.4 lists each configured minor:

     0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
        ns:123904 nr:0 dw:0 dr:124832 al:8 bm:0 lo:0 pe:2 ua:0 ap:0 ep:1 wo:f oos:400384
            [===>................] sync'ed: 23.8% (400384/524288)K
            finish: 0:00:29 speed: 13,756 (13,756) K/sec

`get-gi` prints CURRENT:BITMAP:HISTORY1:HISTORY2 (16 hex digits each) and the meta-data flags. DRBD keeps the
primary role in the lowest bit of a UUID: comparisons ignore it, as DRBD's own does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from sanappliance.errors import INVALID, SanError

VERSION_RE = re.compile(r"^version:\s*(\S+)")
DEVICE_RE = re.compile(r"^\s*(\d+):\s+cs:(\S+)(.*)$")
FIELD_RE = re.compile(r"\b(ro|ds):(\S+)/(\S+)")
PROTOCOL_RE = re.compile(r"\s([ABC])\s+[-a-zA-Z]{6}\s*$")
COUNTER_RE = re.compile(r"\b([a-z]{2,3}):(\d+|[a-z])\b")
PROGRESS_RE = re.compile(r"(sync'ed|verified):\s*([\d.]+)%\s*\((\d+)/(\d+)\)([KMG]?)")
FINISH_RE = re.compile(r"finish:\s*(\d+):(\d\d):(\d\d)\s+speed:\s*([\d,]+)")
GI_RE = re.compile(r"^([0-9A-Fa-f]{16}):([0-9A-Fa-f]{16}):([0-9A-Fa-f]{16}):([0-9A-Fa-f]{16})((?::\d+)*)\s*$")
SYNCING = frozenset({"SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "StartingSyncS", "StartingSyncT",
                     "WFBitMapS", "WFBitMapT", "WFSyncUUID"})
VERIFYING = frozenset({"VerifyS", "VerifyT"})
WAITING = frozenset({"WFConnection", "WFReportParams", "Unconnected", "Timeout", "BrokenPipe", "NetworkFailure",
                     "ProtocolError", "TearDown", "Disconnecting"})
GI_FLAGS = ("consistent", "was_up_to_date", "primary", "connected", "full_sync", "peer_out_dated", "crashed_primary")
UNITS = {"": 1, "K": 1, "M": 1024, "G": 1024 * 1024}  # /proc/drbd counts KiB


@dataclass(frozen=True)
class Sync:
    """A running resync (or online verify): how far it is and how long it has to go."""

    percent: float
    left_kib: int  # still out of sync (to verify)
    total_kib: int
    verify: bool = False
    finish_seconds: int | None = None
    speed_kib: int | None = None  # KiB/s, recent


@dataclass(frozen=True)
class Device:
    """One minor of /proc/drbd."""

    minor: int
    cstate: str  # Connected, StandAlone, WFConnection, SyncSource, ... ; Unconfigured when down
    role: str = "Unknown"  # Primary, Secondary, Unknown
    peer_role: str = "Unknown"
    disk: str = "DUnknown"  # UpToDate, Inconsistent, Outdated, Diskless, ...
    peer_disk: str = "DUnknown"
    protocol: str = ""
    out_of_sync_kib: int = 0  # oos: what the peer lacks (or we lack), in KiB
    sync: Sync | None = None

    @property
    def configured(self) -> bool:
        return self.cstate != "Unconfigured"

    @property
    def connected(self) -> bool:
        return self.cstate == "Connected" or self.cstate in SYNCING or self.cstate in VERIFYING

    @property
    def standalone(self) -> bool:
        """Not even trying to connect: after a split brain DRBD drops the connection and stays StandAlone (or the
        admin disconnected it). Which one it is, the data generations tell (compare)."""
        return self.cstate == "StandAlone"

    @property
    def healthy(self) -> bool:
        return self.cstate == "Connected" and self.disk == "UpToDate" and self.peer_disk == "UpToDate"


@dataclass(frozen=True)
class ProcDrbd:
    version: str
    devices: dict[int, Device]

    def device(self, minor: int) -> Device:
        """The minor's state; Unconfigured when the resource is down (not listed)."""
        return self.devices.get(minor, Device(minor, "Unconfigured"))


def _fail(message: str, line: str, source: str) -> SanError:
    return SanError(message, field=source, value=line.strip()[:120], kind=INVALID)


def parse_proc_drbd(text: str, source: str = "/proc/drbd") -> ProcDrbd:
    version = ""
    devices: dict[int, Device] = {}
    current: dict[str, object] | None = None

    def flush() -> None:
        if current is not None:
            devices[int(current["minor"])] = Device(**current)  # type: ignore[arg-type]

    for line in text.splitlines():
        if not line.strip():
            continue
        if m := VERSION_RE.match(line):
            version = m.group(1)
            continue
        if m := DEVICE_RE.match(line):
            flush()
            current = {"minor": int(m.group(1)), "cstate": m.group(2)}
            rest = m.group(3)
            for key, mine, peer in FIELD_RE.findall(rest):
                current.update({"role": mine, "peer_role": peer} if key == "ro" else {"disk": mine, "peer_disk": peer})
            if p := PROTOCOL_RE.search(rest):
                current["protocol"] = p.group(1)
            continue
        if current is None:
            continue  # srcversion, GIT-hash and other headers
        if m := PROGRESS_RE.search(line):
            unit = UNITS[m.group(5)]
            current["sync"] = Sync(float(m.group(2)), int(m.group(3)) * unit, int(m.group(4)) * unit,
                                   verify=m.group(1) == "verified")
        elif m := FINISH_RE.search(line):
            sync = current.get("sync")
            if isinstance(sync, Sync):
                seconds = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
                current["sync"] = Sync(sync.percent, sync.left_kib, sync.total_kib, sync.verify, seconds,
                                       int(m.group(4).replace(",", "")))
        elif "ns:" in line:
            counters = dict(COUNTER_RE.findall(line))
            if counters.get("oos", "").isdigit():
                current["out_of_sync_kib"] = int(counters["oos"])
    flush()
    if not version:
        raise _fail("not DRBD's /proc/drbd: no version line", text[:120], source)
    if not version.startswith("8.4"):
        raise SanError("the appliance drives DRBD 8.4; this kernel's module is another version", field=source,
                       value=version, kind=INVALID)
    return ProcDrbd(version, devices)


@dataclass(frozen=True)
class Generations:
    """A node's data generation identifiers for one DRBD device (get-gi), lowest bit cleared."""

    current: int
    bitmap: int
    history: tuple[int, int]
    flags: dict[str, bool]

    def text(self) -> str:
        return ":".join(f"{x:016X}" for x in (self.current, self.bitmap, *self.history))


def parse_gi(text: str, source: str = "get-gi") -> Generations:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1 or not (m := GI_RE.match(lines[0].strip())):
        raise _fail("not the output of drbdadm get-gi (CURRENT:BITMAP:HISTORY:HISTORY:flags)", text, source)
    uuids = [int(m.group(i), 16) & ~1 for i in range(1, 5)]
    flags = [x == "1" for x in m.group(5).split(":")[1:]]
    return Generations(uuids[0], uuids[1], (uuids[2], uuids[3]), dict(zip(GI_FLAGS, flags, strict=False)))


class Relation(Enum):
    """What one node's data is to its peer's."""

    SAME = "same"  # the same data generation: nothing to resync
    NEWER = "newer"  # this node has changes the peer lacks: it is the resync source
    OLDER = "older"  # the peer has changes this node lacks
    SPLIT_BRAIN = "split-brain"  # both changed since they were last connected: one side's changes must go
    UNRELATED = "unrelated"  # no common generation: a full sync one way or the other (or the wrong disks)


def compare(local: Generations, peer: Generations) -> Relation:
    """DRBD's own rules (users guide, "How DRBD uses generation identifiers"), from this node's side."""
    if local.current == peer.current:
        return Relation.SAME
    if local.bitmap and local.bitmap == peer.current:
        return Relation.NEWER
    if peer.bitmap and peer.bitmap == local.current:
        return Relation.OLDER
    if local.bitmap and local.bitmap == peer.bitmap:
        return Relation.SPLIT_BRAIN  # both started a new generation from the same one
    if local.current in peer.history:
        return Relation.OLDER
    if peer.current in local.history:
        return Relation.NEWER
    if local.history[0] and local.history[0] in (peer.bitmap, *peer.history):
        return Relation.SPLIT_BRAIN
    return Relation.UNRELATED


class Health(Enum):
    OK = "ok"  # connected, both disks UpToDate
    SYNCING = "syncing"  # a resync (or verify) runs: see Device.sync
    DEGRADED = "degraded"  # the peer is gone (or connecting); this node serves alone
    SPLIT_BRAIN = "split-brain"  # StandAlone and both sides changed: needs the admin (split_brain_recovery)
    DISCONNECTED = "disconnected"  # StandAlone without a split brain (disconnected by hand): connect again
    DOWN = "down"  # the resource is not configured on this node
    FAILED = "failed"  # a disk failed (Diskless, Failed)


@dataclass(frozen=True)
class Diagnosis:
    health: Health
    relation: Relation | None  # None when the peer's generations are unknown
    device: Device
    local: Generations | None = None
    peer: Generations | None = None


def diagnose(device: Device, local: Generations | None = None, peer: Generations | None = None) -> Diagnosis:
    """Health of one replicated pool on this node, from its /proc/drbd line and both nodes' get-gi."""
    relation = compare(local, peer) if local is not None and peer is not None else None
    if not device.configured:
        health = Health.DOWN
    elif device.disk in ("Diskless", "Failed", "Attaching", "Detaching"):
        health = Health.FAILED
    elif device.standalone:
        health = Health.SPLIT_BRAIN if relation is Relation.SPLIT_BRAIN else Health.DISCONNECTED
    elif device.sync is not None or device.cstate in SYNCING or device.cstate in VERIFYING:
        health = Health.SYNCING
    elif device.healthy:
        health = Health.OK
    else:
        health = Health.DEGRADED
    return Diagnosis(health, relation, device, local, peer)


__all__ = ["Device", "Diagnosis", "Generations", "Health", "ProcDrbd", "Relation", "Sync", "compare", "diagnose",
           "parse_gi", "parse_proc_drbd"]
