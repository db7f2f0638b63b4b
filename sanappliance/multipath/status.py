"""multipathd's and multipath's answers parsed (pure): the maps, their paths and the paths' states, for the shell's
listing and for discovery. The kernel's path names (sda) come back only as observed facts (`Path.device`).

Two sources, both read by the apply layer:

* `multipathd show paths raw format FORMAT` (SHOW_PATHS_ARGV): one line per path, `|`-separated, no header, every
  path multipathd watches, in a map or not ("[orphan]");
* `multipath -ll` (LIST_ARGV): the maps with their path groups and paths, as an admin reads them.
"""

from __future__ import annotations

import re

from sanappliance.errors import INVALID, SanError

from .model import MultipathDisk, Path

MULTIPATHD = "/usr/sbin/multipathd"
MULTIPATH = "/usr/sbin/multipath"
# map alias, WWID, path device, H:C:I:L, the path in the map, the checker's state, the SCSI device's state
FORMAT = "%m|%w|%d|%i|%t|%T|%o"
SHOW_PATHS_ARGV = (MULTIPATHD, "show", "paths", "raw", "format", FORMAT)
LIST_ARGV = (MULTIPATH, "-ll")
ORPHAN = "[orphan]"  # %m of a path in no map
_FIELDS = FORMAT.count("|") + 1
_HEADER = re.compile(r"^(?P<name>[^\s|`]\S*)(?: \((?P<wwid>[^)]+)\))? (?P<dm>dm-\d+) "
                     r"(?P<vendor>[^,]*),(?P<product>.*)$")
_SIZE = re.compile(r"^size=(?P<size>\S+)")
_PATH = re.compile(r"^[\s|`+-]*(?P<hcil>[\d#]+:[\d#]+:[\d#]+:[\d#]+) (?P<dev>\S+) (?P<devt>\S+) (?P<dm>\S+) "
                   r"(?P<chk>\S+) (?P<state>\S+)")


def parse_show_paths(text: str) -> tuple[MultipathDisk, ...]:
    """The disks of `multipathd show paths raw format FORMAT`, in order of first appearance, each with its paths
    (alias "" for paths in no map)."""
    disks: dict[str, tuple[str, list[Path]]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) != _FIELDS:
            raise SanError(f"line {number}: expected {_FIELDS} fields separated by |, got {len(parts)}",
                           field="multipathd.paths", value=line, kind=INVALID)
        alias, wwid, dev, hcil, dm_state, checker, state = (p.strip() for p in parts)
        alias = "" if alias in (ORPHAN, wwid) else alias  # a map without an alias is named by its WWID
        entry = disks.setdefault(wwid, (alias, []))
        entry[1].append(Path(dev, hcil, dm_state, checker, state))
        if alias and not entry[0]:
            disks[wwid] = (alias, entry[1])
    return tuple(MultipathDisk(wwid, tuple(paths), alias) for wwid, (alias, paths) in disks.items())


def parse_list(text: str) -> tuple[MultipathDisk, ...]:
    """The maps of `multipath -ll`: WWID, alias (none when the map is named by its WWID), vendor, product, size
    and every path with its states."""
    found: list[MultipathDisk] = []
    head: dict[str, str] | None = None
    paths: list[Path] = []

    def close() -> None:
        if head is not None:
            alias = head["name"] if head["wwid"] else ""
            found.append(MultipathDisk(head["wwid"] or head["name"], tuple(paths), alias, head["vendor"].strip(),
                                       head["product"].strip(), head.get("size", "")))

    for line in text.splitlines():
        if not line.strip():
            continue
        match = _HEADER.match(line)
        if match:
            close()
            head, paths = match.groupdict(default=""), []
            continue
        if head is None:
            continue  # multipath's own messages before the first map
        size = _SIZE.match(line)
        if size:
            head["size"] = size.group("size")
            continue
        path = _PATH.match(line)
        if path:
            paths.append(Path(path.group("dev"), path.group("hcil"), path.group("dm"), path.group("chk"),
                              path.group("state")))
    close()
    return tuple(found)


def summary(disk: MultipathDisk) -> str:
    """One line for a listing: `2/2 paths up` or `1/2 paths up (sdb failed faulty)`; `2 paths, no map` for a
    disk multipath does not handle (yet: before it is in a shared pool)."""
    if disk.paths and not any(p.dm_state for p in disk.paths):
        return f"{len(disk.paths)} path{'s' if len(disk.paths) != 1 else ''}, no map"
    down = [f"{p.device} {p.dm_state} {p.checker_state}" for p in disk.paths if not p.up]
    text = f"{disk.active_paths}/{len(disk.paths)} paths up"
    return text + (f" ({', '.join(down)})" if down else "")


__all__ = ["FORMAT", "LIST_ARGV", "ORPHAN", "SHOW_PATHS_ARGV", "parse_list", "parse_show_paths", "summary"]
