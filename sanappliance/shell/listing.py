"""What `ls` shows: each node's annotation, and the whole tree as plain entries rendered the way configshell renders
its nodes. The configshell nodes take their annotations from here; a one-shot `sanctl [PATH] ls` renders these entries
directly, without building thousands of configshell nodes (a unit test keeps both outputs identical)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sanappliance.model.config import Acl, Config, InitiatorGroup, MappedLun, Pool, Target, Tpg, Volume, VolumeKind
from sanappliance.model.values import format_size
from sanappliance.service.pool_state import RECOVER, PoolState
from sanappliance.service.shared import owners

Summary = tuple[str, bool | None]


# Annotations, one function per kind of node.
def root(config: Config) -> Summary:
    return f"generation {config.generation}", None


def pool_of(config: Config, disk_path: str) -> str:
    return next((p.name for p in config.pools if disk_path in p.disks), "")


def disks(config: Config, found: Iterable[Any]) -> Summary:
    found = list(found)
    free = [d for d in found if not d.in_use and not pool_of(config, d.path)]
    return f"Disks: {len(found)}, free: {len(free)}", None


def multipath(config: Config, found: Iterable[Any]) -> Summary:
    found = list(found)
    ours = owners(config)
    return f"Multipath disks: {len(found)}, in shared pools: {sum(1 for d in found if d.wwid in ours)}", None


def pools(config: Config) -> Summary:
    return f"Pools: {len(config.pools)}", None


def pool(config: Config, p: Pool, state: PoolState | None = None) -> Summary:
    """A local pool: its volumes and disks; a replicated one: its volumes and, given this node's view of it
    (service.pool_state), the roles, disk states, sync progress or what is wrong (red)."""
    volumes = [v for v in config.volumes if v.pool == p.name]
    used = sum(v.size for v in volumes)
    head = f"{len(volumes)} volume(s), {format_size(used)} allocated"
    if p.shared is not None:
        aliases = ", ".join(d.alias for d in p.shared.disks)
        if state is None or not state.paths:
            return f"{head}, shared on {aliases}" + (f": {state.explanation}" if state else ""), None
        return f"{head}, shared on {state.paths}", True if state.health == "ok" else (False if state.warning else None)
    if not p.replicated:
        return f"{head}, on {', '.join(d.rsplit('/', 1)[-1] for d in p.disks)}", True
    if state is None:
        return f"{head}, replicated", None
    text, healthy = replication(state)
    return f"{head}, {text}", healthy


def replication(s: PoolState) -> Summary:
    """"replicated, Primary/Secondary, UpToDate/Inconsistent, sync 42.1% ETA 0:35", or the warning."""
    if s.health == "split-brain":
        return f"replicated, SPLIT BRAIN ({s.connection}): {RECOVER.format(pool=s.name)}", False
    if not s.role:  # down, not loaded, unknown
        return f"replicated, {s.explanation}", False if s.warning else None
    parts = ["replicated", s.roles, s.disks]
    if s.syncing:
        parts.append(f"{'verify' if s.verifying else 'sync'} {s.sync}")
    elif s.health == "degraded":
        parts.append(f"DEGRADED ({s.connection})")
    elif s.health == "failed":
        parts.append("DISK FAILED")
    return ", ".join(parts), True if s.health == "ok" else (False if s.warning else None)


def volumes(config: Config) -> Summary:
    return f"Volumes: {len(config.volumes)}", None


def volume(config: Config, v: Volume) -> Summary:
    where = f"in {v.pool}" if v.pool else (v.file_path if v.path or v.kind is VolumeKind.FILEIO else "in memory")
    return f"{format_size(v.size)} {v.kind.value} {where}, exported {len(config.exports_of(v.name))}x", True


def iscsi(config: Config) -> Summary:
    auth = "discovery CHAP" if config.discovery.chap else "no discovery auth"
    return f"Targets: {len(config.targets)}, {auth}", None


def target(t: Target) -> Summary:
    return f"TPGs: {len(t.tpgs)}", None


def tpg(g: Tpg) -> Summary:
    auth = "CHAP" if g.chap or any(h.chap for h in (*g.acls, *g.groups)) else "no-auth"
    state = "enabled" if g.enabled else "disabled"
    return f"{state}, {auth}, {len(g.luns)} LUN(s), {len(g.acls)} ACL(s)", g.enabled


def luns(g: Tpg) -> Summary:
    return f"LUNs: {len(g.luns)}", None


def lun(config: Config, volume_name: str) -> Summary:
    v = config.volume(volume_name)
    return f"{volume_name} ({format_size(v.size)} {v.kind.value})", True


def acls(g: Tpg) -> Summary:
    return f"ACLs: {len(g.acls)}", None


def acl(a: Acl) -> Summary:
    auth = (f"CHAP user {a.chap.userid}" + (" (mutual)" if a.chap.mutual_userid else "")) if a.chap else "no auth"
    return f"Mapped LUNs: {len(a.mapped_luns)}, {auth}", True


def mapped_lun(m: MappedLun) -> Summary:
    return f"lun{m.tpg_lun} {'(ro)' if m.write_protect else '(rw)'}", True


def groups(g: Tpg) -> Summary:
    return f"Groups: {len(g.groups)}", None


def group(g: InitiatorGroup) -> Summary:
    return f"{len(g.initiators)} initiator(s), {len(g.mapped_luns)} mapped LUN(s)", True


def portals(g: Tpg) -> Summary:
    return f"Portals: {len(g.portals)}", None


def cluster(state: str = "single node, no cluster") -> Summary:
    return state, None


# The tree as plain entries, built lazily: only what is shown is computed.
@dataclass(frozen=True)
class Entry:
    name: str
    describe: Callable[[], Summary]
    list_children: Callable[[], tuple[Entry, ...]] = field(default=lambda: ())

    def child(self, name: str) -> Entry | None:
        return next((c for c in self.list_children() if c.name == name), None)


def _leaf(name: str, summary: Summary) -> Entry:
    return Entry(name, lambda: summary)


def _tpg_entry(config: Config, g: Tpg) -> Entry:
    def tpg_children() -> tuple[Entry, ...]:
        return (
            Entry("luns", lambda: luns(g), lambda: tuple(
                Entry(f"lun{n.lun}", lambda n=n: lun(config, n.volume)) for n in g.luns)),
            Entry("acls", lambda: acls(g), lambda: tuple(
                Entry(a.initiator, lambda a=a: acl(a), lambda a=a: tuple(
                    _leaf(f"mapped_lun{m.mapped_lun}", mapped_lun(m)) for m in a.mapped_luns)) for a in g.acls)),
            Entry("groups", lambda: groups(g), lambda: tuple(_leaf(x.name, group(x)) for x in g.groups)),
            Entry("portals", lambda: portals(g), lambda: tuple(_leaf(str(p), ("", True)) for p in g.portals)),
        )

    return Entry(f"tpg{g.tag}", lambda: tpg(g), tpg_children)


def _pool_entries(config: Config, pool_states: Callable[[], Iterable[PoolState]]) -> tuple[Entry, ...]:
    found = {s.name: s for s in pool_states()} if any(p.clustered for p in config.pools) else {}
    return tuple(_leaf(p.name, pool(config, p, found.get(p.name))) for p in config.pools)


def tree(config: Config, found_disks: Callable[[], Iterable[Any]],
         cluster_state: Callable[[], str] = lambda: "single node, no cluster",
         network_spec: Callable[[], Any] = lambda: None,
         pool_states: Callable[[], Iterable[PoolState]] = lambda: (),
         multipath_disks: Callable[[], Iterable[Any]] = lambda: ()) -> Entry:
    """The root entry of the whole tree; `found_disks`, `cluster_state`, `network_spec`, `pool_states` (this
    node's view of the clustered pools: service.pool_state) and `multipath_disks` are called only if shown."""
    from .netlisting import network_entry

    return Entry("/", lambda: root(config), lambda: (
        Entry("disks", lambda: disks(config, found_disks())),
        Entry("multipath", lambda: multipath(config, multipath_disks())),
        Entry("pools", lambda: pools(config), lambda: _pool_entries(config, pool_states)),
        Entry("volumes", lambda: volumes(config), lambda: tuple(
            Entry(v.name, lambda v=v: volume(config, v)) for v in config.volumes)),
        Entry("iscsi", lambda: iscsi(config), lambda: tuple(
            Entry(t.iqn, lambda t=t: target(t), lambda t=t: tuple(_tpg_entry(config, g) for g in t.tpgs))
            for t in config.targets)),
        Entry("cluster", lambda: cluster(cluster_state())),
        network_entry(network_spec),
    ))


def find(top: Entry, path: str) -> Entry | None:
    """The entry at an absolute path (`/iscsi/IQN/tpg1`), or None."""
    entry: Entry | None = top
    for part in (p for p in path.split("/") if p):
        entry = entry.child(part) if entry is not None else None
    return entry


# Rendering, as configshell's `ls` does it (same layout, same sort, same colours).
@dataclass(frozen=True)
class Style:
    width: int = 132  # configshell: the terminal's width, at most 132; 132 when not a terminal
    color: bool = False
    round_nodes: bool = True
    status: bool = True
    show_root: bool = True
    max_depth: int = 0  # 0: everything


_ESC = "\033["
_FG = {c: 30 + i for i, c in enumerate(("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"))}
_STYLES = {"bold": 1, "underline": 4}


def _paint(style: Style, text: str, color: str | None = None, styles: tuple[str, ...] = ()) -> str:
    if not style.color:
        return text
    if color is not None:
        text = f"{_ESC}{_FG[color]}m{text}"
    for s in styles:
        text = f"{_ESC}{_STYLES[s]}m{text}"
    return text + f"{_ESC}0m"


def _sort_key(name: str) -> tuple[str, int]:
    m = re.search(r"(.*?)(\d+$)", name)
    return (m.group(1), int(m.group(2))) if m else (name, 0)


def render(entry: Entry, path: str, style: Style) -> str:
    """The text `ls` prints for the entry at `path` and below."""
    level = path.rstrip("/").count("/")
    lines: list[str] = []
    depth = style.max_depth or None
    if style.show_root:
        _render(entry, level, [0], depth, style, lines, top=True)
    else:
        for child in sorted(entry.list_children(), key=lambda c: _sort_key(c.name)):
            _render(child, level + 1, [False], depth, style, lines, top=False)
    text = "\n".join(lines)
    return _paint(style, text) if style.color else text


def _render(entry: Entry, level: int, margin: list[Any], depth: int | None, style: Style, lines: list[str],
            *, top: bool) -> None:
    color = None if not level % 3 else ("blue" if not (level - 1) % 3 else "magenta")
    description, healthy = entry.describe()
    if not description:
        description = {True: "OK", False: "ERROR"}.get(healthy, "...")  # type: ignore[arg-type]
    summary = _paint(style, " [", styles=("bold",))
    if healthy is True:
        summary += _paint(style, description, "green")
    elif healthy is False:
        summary += _paint(style, description, "red", ("bold",))
    else:
        summary += description
    summary += _paint(style, "]", styles=("bold",))
    line = "".join(("|" if pipe else "").ljust(2) for pipe in margin[:-1])
    line += ("o" if style.round_nodes else "+").ljust(2, "-") + " "
    pad = "." * (style.width - 1 - (len(description) + 3) - len(line) - len(entry.name))
    line += _paint(style, entry.name, color, ("bold", "underline") if top else ("bold",))
    if style.status:
        line += f" {_paint(style, pad, color)}{summary}"
    lines.append(line)
    if depth is not None and depth <= 0:
        return
    children = sorted(entry.list_children(), key=lambda c: _sort_key(c.name))
    for i, child in enumerate(children):
        margin.append(i < len(children) - 1)
        _render(child, level + 1, margin, None if depth is None else depth - 1, style, lines, top=False)
        margin.pop()
