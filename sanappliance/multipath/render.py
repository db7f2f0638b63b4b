"""/etc/multipath.conf of an appliance node (pure).

Decisions:

* `find_multipaths greedy` with a blacklist of every WWID (`wwid ".*"`) and an exception per shared disk: exactly
  the disks of the shared pools are multipathed, nothing else, and that follows from this file alone. `strict`
  would multipath only WWIDs in /etc/multipath/wwids, state that this render cannot see (`multipath -a` on each
  node); `on`/`smart` leave a disk seen over one path alone (at boot, before its second path shows up, LVM could
  then be handed the raw path); `greedy` without the catch-all would grab every new local disk, one the admin is
  about to make a local pool of included. With the catch-all, a disk is multipathed from the moment it is in a
  shared pool, over one path or several, and the same file on both nodes gives the same maps.
* The local disks (system disk, DRBD backing disks, local pools' disks, SBD disks) are listed in the blacklist by
  WWID as well. The catch-all already keeps them out; the list says which ones this node has, and validation
  refuses a map of one of them (an exception would override the blacklist).
* `user_friendly_names no` and an alias per map (`multipaths`): the map is /dev/mapper/<alias> on every node
  (user friendly names are numbered per node in the order disks appear: two nodes could call one disk mpatha and
  mpathb). No /dev/sdX or dm-N name appears anywhere: those are probe-order names.
* Queueing when all paths of a map are down is left to multipath's table for the array's vendor (no_path_retry).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sanappliance.errors import CONFLICT, INVALID, SanError
from sanappliance.model.config import Config

from .model import Map, check_alias, check_wwid

MULTIPATH_CONF = "/etc/multipath.conf"
HEADER = "# Written by sanappliance: changes here are overwritten (the shared disks are in the shared pools).\n"
_SPECIAL = re.compile(r"([.+*?()\[\]{}^$\\|])")


def wwid_pattern(wwid: str) -> str:
    """A multipath blacklist regex that matches exactly `wwid` (special characters as one-character classes)."""
    return "^" + _SPECIAL.sub(r"[\1]", wwid) + "$"


def maps_of(config: Config) -> tuple[Map, ...]:
    """The maps the configuration's shared pools need (the same on every node: the clustered part is in the CIB)."""
    return tuple(Map(d.wwid, d.alias) for p in config.pools if p.shared is not None for d in p.shared.disks)


def problems(maps: Iterable[Map], local_wwids: Iterable[str] = (), where: str = "multipath") -> list[SanError]:
    """Every problem of the maps and local disks, each naming its field: `multipath.maps[WWID].alias`."""
    found: list[SanError] = []
    local = list(local_wwids)
    for i, wwid in enumerate(local):
        try:
            check_wwid(wwid, f"{where}.local_wwids[{i}]")
        except SanError as exc:
            found.append(exc)
    aliases: dict[str, str] = {}
    wwids: set[str] = set()
    for m in maps:
        at = f"{where}.maps[{m.wwid}]"
        for check, value, name in ((check_wwid, m.wwid, "wwid"), (check_alias, m.alias, "alias")):
            try:
                check(value, f"{at}.{name}")
            except SanError as exc:
                found.append(exc)
        if m.wwid in wwids:
            found.append(SanError("the disk has a map already", field=f"{at}.wwid", value=m.wwid, kind=CONFLICT))
        if m.alias in aliases:
            found.append(SanError(f"the alias names disk {aliases[m.alias]} already", field=f"{at}.alias",
                                  value=m.alias, kind=CONFLICT))
        if m.wwid in local:
            found.append(SanError("a local disk of this node is never multipathed", field=f"{at}.wwid",
                                  value=m.wwid, kind=CONFLICT))
        wwids.add(m.wwid)
        aliases.setdefault(m.alias, m.wwid)
    return found


def render_multipath_conf(maps: Iterable[Map], local_wwids: Iterable[str] = ()) -> str:
    """The whole file: defaults, the blacklist (local disks, then every other WWID), an exception and a named map
    per shared disk. Raises the first problem."""
    maps = sorted(maps, key=lambda m: m.alias)
    local = sorted(set(local_wwids))
    found = problems(maps, local)
    if found:
        first = found[0]
        raise SanError(first.message, field=first.field, value=first.value, kind=first.kind or INVALID)
    lines = [HEADER.rstrip("\n"),
             "defaults {",
             "    user_friendly_names no",
             "    find_multipaths greedy  # only what the blacklist lets through: the shared disks below",
             "}",
             "blacklist {"]
    lines += [f'    wwid "{wwid_pattern(w)}"  # local disk' for w in local]
    lines += ['    wwid ".*"  # every disk that is not a shared pool\'s', "}", "blacklist_exceptions {"]
    lines += [f'    wwid "{wwid_pattern(m.wwid)}"' for m in maps]
    lines += ["}", "multipaths {"]
    for m in maps:
        lines += ["    multipath {", f"        wwid {m.wwid}", f"        alias {m.alias}", "    }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["MULTIPATH_CONF", "maps_of", "problems", "render_multipath_conf", "wwid_pattern"]
