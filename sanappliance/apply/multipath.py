"""Backend multipath on this node: the multipath-capable disks it sees (pyudev), /etc/multipath.conf as the
configuration renders it (sanappliance.multipath.render), multipathd started and reconfigured, the maps waited for,
the paths' states (`multipathd show paths`).

Which disks are whose: a disk is known by its WWID (udev's ID_SERIAL, what multipath's uid_attribute reads, the same
over every path and on every node). The shared pools' disks are multipathed; every other disk of this node is listed
in the blacklist by WWID (`local_wwids`). multipathd is enabled and started when the first shared pool's map is
written (the image ships it disabled: with no shared pool nothing is multipathed); maps of disks that left the
shared pools are flushed (`multipath -f ALIAS`) after the reconfigure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sanappliance.errors import NOT_FOUND, SanError
from sanappliance.model.config import Config
from sanappliance.multipath import model as M
from sanappliance.multipath import render, status

from .files import write_atomic
from .runner import Result, run

UNIT = "multipathd.service"
FILE_MODE = 0o644  # no secrets in multipath.conf
# SCSI disks only: multipath knows them by ID_SERIAL, which udev_disks reads (NVMe namespaces by ID_WWN: not yet)
PATH_PREFIXES = ("sd",)


@dataclass(frozen=True)
class Seen:
    """One block device as udev reports it (observed)."""

    name: str  # sdb
    wwid: str  # ID_SERIAL
    hcil: str = ""
    vendor: str = ""
    model: str = ""
    size: int = 0  # bytes


# --- pure ------------------------------------------------------------------------------------------------------------

def group_paths(seen: Iterable[Seen], states: Iterable[M.MultipathDisk] = ()) -> tuple[M.MultipathDisk, ...]:
    """The multipath-capable disks (SCSI or NVMe devices with a WWID) with one path per device, in WWID order; the
    paths' states and the map's alias from multipathd's report when it has them."""
    by_path = {(d.wwid, p.device): p for d in states for p in d.paths}
    aliases = {d.wwid: d.alias for d in states if d.alias}
    grouped: dict[str, list[Seen]] = {}
    for s in seen:
        if s.wwid and s.name.startswith(PATH_PREFIXES):
            grouped.setdefault(s.wwid, []).append(s)
    disks = []
    for wwid in sorted(grouped):
        devices = sorted(grouped[wwid], key=lambda s: s.name)
        paths = tuple(by_path.get((wwid, s.name), M.Path(s.name, s.hcil)) for s in devices)
        first = devices[0]
        disks.append(M.MultipathDisk(wwid, paths, aliases.get(wwid, ""), first.vendor, first.model,
                                     _size(first.size)))
    return tuple(disks)


def _size(size: int) -> str:
    for unit, factor in (("T", 2**40), ("G", 2**30), ("M", 2**20)):
        if size >= factor:
            return f"{size / factor:.4g}{unit}"
    return f"{size}B" if size else ""


def local_wwids(seen: Iterable[Seen], config: Config) -> tuple[str, ...]:
    """Every WWID this node sees that no shared pool of `config` holds: the blacklist's local disks."""
    shared = {m.wwid for m in render.maps_of(config)}
    return tuple(sorted({s.wwid for s in seen if s.wwid and s.wwid not in shared and _plain(s.wwid)}))


def _plain(wwid: str) -> bool:
    try:
        M.check_wwid(wwid, "wwid")
    except SanError:
        return False  # a serial multipath could not name anyway (spaces are udev's _); left to the catch-all
    return True


# --- side effects ----------------------------------------------------------------------------------------------------

def udev_disks() -> list[Seen]:
    """The whole disks udev knows with their ID_SERIAL (device-mapper, DRBD, loop and the like left out)."""
    import pyudev

    found = []
    for dev in pyudev.Context().list_devices(subsystem="block", DEVTYPE="disk"):
        if dev.sys_name.startswith(("loop", "ram", "zram", "sr", "dm-", "md", "drbd", "nbd")):
            continue
        scsi = dev.find_parent("scsi", "scsi_device")
        size = int(dev.attributes.asstring("size")) * 512 if "size" in dev.attributes.available_attributes else 0
        found.append(Seen(dev.sys_name, dev.get("ID_SERIAL", ""), scsi.sys_name if scsi is not None else "",
                          dev.get("ID_VENDOR", ""), dev.get("ID_MODEL", ""), size))
    return found


@dataclass
class MultipathHost:
    """multipath on this node. `root` prefixes file paths (tests); with `dry_run` nothing changes: what would is
    collected in `planned`."""

    root: Path = Path("/")
    dry_run: bool = False
    runner: Callable[..., Result] = run
    udev: Callable[[], list[Seen]] = udev_disks
    planned: list[str] = field(default_factory=list)

    def _conf(self) -> Path:
        return self.root / render.MULTIPATH_CONF.lstrip("/")

    def _change(self, argv: list[str], timeout: float = 120.0, check: bool = True) -> Result | None:
        if self.dry_run:
            self.planned.append(" ".join(argv))
            return None
        return self.runner(argv, timeout=timeout, check=check)

    def running(self) -> bool:
        result = self.runner(["/usr/bin/systemctl", "is-active", "--quiet", UNIT], timeout=30, check=False)
        return result.returncode == 0

    def states(self) -> tuple[M.MultipathDisk, ...]:
        """multipathd's view of every path it watches (nothing when it does not run)."""
        if not self.running():
            return ()
        result = self.runner(list(status.SHOW_PATHS_ARGV), timeout=60, check=False)
        return status.parse_show_paths(result.stdout) if result.returncode == 0 else ()

    def disks(self) -> tuple[M.MultipathDisk, ...]:
        """The multipath-capable disks this node sees, each with its paths and their states."""
        return group_paths(self.udev(), self.states())

    def write_conf(self, config: Config) -> list[str]:
        """multipath.conf as `config` renders it on this node (only when it differs; no file while there is no
        shared pool and none was written). Returns what changed."""
        maps = render.maps_of(config)
        path = self._conf()
        current = path.read_text() if path.exists() else None
        if not maps and current is None:
            return []
        wanted = render.render_multipath_conf(maps, local_wwids(self.udev(), config))
        if wanted == current:
            return []
        if self.dry_run:
            self.planned.append(f"write {render.MULTIPATH_CONF}")
        else:
            write_atomic(path, wanted, mode=FILE_MODE)
        return [render.MULTIPATH_CONF]

    def reload(self, config: Config, gone: Iterable[str] = ()) -> list[str]:
        """multipathd takes the file: started (and enabled for the next boot) when a shared pool needs it, else
        reconfigured; the maps of `gone` aliases flushed."""
        done = []
        running = self.running()
        if render.maps_of(config):  # enabled for the next boot, whoever started it
            self._change(["/usr/bin/systemctl", "enable", *([] if running else ["--now"]), UNIT], timeout=120)
            done.append(f"{UNIT} enabled" + ("" if running else " and started"))
        if running:
            self._change([status.MULTIPATHD, "reconfigure"], timeout=120)
            done.append("multipathd reconfigured")
        for alias in gone:
            if self.dry_run or (self.root / f"dev/mapper/{alias}").exists():
                # multipathd may have removed it by itself after the reconfigure: a flush of a gone map is fine
                self._change([status.MULTIPATH, "-f", alias], timeout=120, check=False)
                done.append(f"map {alias} flushed")
        return done

    def wait_maps(self, maps: Iterable[M.Map], timeout: float = 60.0) -> None:
        """Until every map is in /dev/mapper (multipathd makes them after its reconfigure, asynchronously)."""
        if self.dry_run:
            return
        missing = list(maps)
        deadline = time.monotonic() + timeout
        while True:
            missing = [m for m in missing if not (self.root / m.device.lstrip("/")).exists()]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise SanError(f"multipath made no map {', '.join(m.alias for m in missing)} within {timeout:.0f} s "
                               "(see multipath -ll and journalctl -u multipathd)", field="shared.disks",
                               value=[m.wwid for m in missing], kind=NOT_FOUND)
            time.sleep(0.5)


__all__ = ["MultipathHost", "Seen", "group_paths", "local_wwids", "udev_disks"]
