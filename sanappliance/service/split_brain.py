"""Split brain of a replicated pool: found from both nodes' data generations, recovered by discarding the changes of
one node (the victim) since the split, and only when the admin confirms it (docs/REPLICATION.md, "Split brain").

`diagnose` reads this node's /proc/drbd and `get-gi` and the other node's through its API (`san_peer_replica_gi`):
drbd.status tells whether both changed since their last common generation. When the other node cannot be asked,
the diagnosis says so and is this node's view only; no recovery is offered on it.

`recover` checks first (a split brain, a victim that is one of the pool's two nodes and not Primary) and, without
confirm=True (or on a dry run), only says what it would do and what would be lost. Confirmed, the victim
disconnects, becomes Secondary and connects discarding its data, then the survivor connects if it is StandAlone;
DRBD resyncs the victim from the survivor. Each step looks first (apply.drbd.DrbdHost), so running it again does
only what is missing; the other node's part runs through its API (`san_peer_replica_recover`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sanappliance.drbd import commands, render
from sanappliance.drbd import status as drbd
from sanappliance.errors import CONFLICT, INVALID, SanError
from sanappliance.model.config import Pool

from . import cluster
from .env import Env
from .replicated import Hosts

VICTIM, SURVIVOR = "victim", "survivor"
UNKNOWN = "unknown"
RECOVER = "sanctl /pools/{pool} recover victim=NODE"


class Drbd(Protocol):
    """What this needs of a node's DRBD (apply.drbd.DrbdHost)."""

    def proc_text(self) -> str: ...
    def get_gi(self, pool: Pool) -> str: ...
    def device(self, pool: Pool) -> drbd.Device: ...
    def disconnect(self, pool: Pool) -> bool: ...
    def secondary(self, pool: Pool) -> bool: ...
    def connect(self, pool: Pool, *, discard_my_data: bool = False) -> bool: ...


@dataclass(frozen=True)
class NodeView:
    """One node's DRBD state of the pool and its data generations, as far as they could be read."""

    node: str
    here: bool
    device: drbd.Device | None = None
    generations: drbd.Generations | None = None
    problem: str = ""  # what could not be read, in words (the node unreachable, DRBD not loaded, ...)

    def describe(self) -> list[str]:
        name = f"{self.node} (this node)" if self.here else self.node
        dev, gi = self.device, self.generations
        state = (f"{dev.role}, {dev.cstate}, disk {dev.disk}, {dev.out_of_sync_kib} KiB out of sync"
                 if dev is not None else "state unknown")
        lines = [f"{name}: {state}" + (f" ({self.problem})" if self.problem else "")]
        if gi is not None:
            lines.append(f"  generations: current {gi.current:016X}  bitmap {gi.bitmap:016X}  history "
                         f"{gi.history[0]:016X} {gi.history[1]:016X}")
        return lines


@dataclass(frozen=True)
class Diagnosis:
    pool: str
    health: str  # drbd.status.Health's value, or UNKNOWN when this node's state cannot be read
    relation: str  # drbd.status.Relation's value, "" when not both nodes' generations are known
    here: NodeView
    peer: NodeView
    changed: tuple[str, ...]  # the nodes with changes since their common generation
    ancestor: str  # that common generation (16 hex digits), "" when unknown
    explanation: str

    @property
    def split_brain(self) -> bool:
        return self.health == drbd.Health.SPLIT_BRAIN.value

    def view(self, node: str) -> NodeView:
        return self.here if node == self.here.node else self.peer

    def lines(self) -> list[str]:
        only = "" if self.peer.device is not None else " (this node's view only)"
        lines = [f"pool {self.pool}: {'SPLIT BRAIN' if self.split_brain else self.health}{only}"]
        for view in (self.here, self.peer):
            lines += [f"  {line}" for line in view.describe()]
        if self.ancestor:
            lines.append(f"  common generation {self.ancestor}; changed since: {', '.join(self.changed) or 'none'}")
        return lines + [f"  {self.explanation}"]

    def as_dict(self) -> dict[str, Any]:
        return {"pool": self.pool, "health": self.health, "relation": self.relation, "split_brain": self.split_brain,
                "changed": list(self.changed), "ancestor": self.ancestor, "explanation": self.explanation,
                "nodes": [_view_dict(v) for v in (self.here, self.peer)]}


def _view_dict(view: NodeView) -> dict[str, Any]:
    dev, gi = view.device, view.generations
    return {"node": view.node, "here": view.here, "problem": view.problem,
            "connection": dev.cstate if dev else "", "role": dev.role if dev else "", "disk": dev.disk if dev else "",
            "out_of_sync_kib": dev.out_of_sync_kib if dev else None,
            "generations": None if gi is None else {"current": f"{gi.current:016X}", "bitmap": f"{gi.bitmap:016X}",
                                                    "history": [f"{h:016X}" for h in gi.history]}}


# --- one node's view (this node's, and the other node's through its API) -------------------------------------------

def _replicated(env: Env, name: str) -> Pool:
    pool = env.store.load().pool(name)
    if pool.replication is None:
        raise SanError("not a replicated pool", field="pool", value=name, kind=INVALID)
    return pool


def proc_excerpt(text: str, minor: int) -> str:
    """/proc/drbd's version line and the lines of one minor (what parse_proc_drbd needs of it)."""
    keep, inside = [], False
    for line in text.splitlines():
        if drbd.VERSION_RE.match(line):
            keep.append(line)
            continue
        if m := drbd.DEVICE_RE.match(line):
            inside = int(m.group(1)) == minor
        if inside:
            keep.append(line)
    return "\n".join(keep) + "\n"


def _read(hosts: Hosts, pool: Pool) -> dict[str, str]:
    assert pool.replication is not None
    found = {"node": hosts.name(), "proc_drbd": "", "gi": "", "problem": ""}
    node: Drbd = hosts.drbd  # apply.drbd.DrbdHost
    try:
        found["proc_drbd"] = proc_excerpt(node.proc_text(), pool.replication.minor)
        found["gi"] = node.get_gi(pool)
    except SanError as exc:
        found["problem"] = exc.message
    return found


def replica_gi(env: Env, hosts: Hosts, pool: str) -> dict[str, str]:
    """This node's part of the other node's diagnosis (san_peer_replica_gi): its name, its /proc/drbd lines of the
    pool's minor, the text of get-gi, and what could not be read ("" when all could)."""
    return _read(hosts, _replicated(env, pool))


def _view(node: str, here: bool, minor: int, found: dict[str, Any]) -> NodeView:
    problem = str(found.get("problem") or "")
    device = generations = None
    try:
        if found.get("proc_drbd"):
            device = drbd.parse_proc_drbd(str(found["proc_drbd"])).device(minor)
        if found.get("gi"):
            generations = drbd.parse_gi(str(found["gi"]))
    except SanError as exc:
        problem = problem or exc.message
    return NodeView(node, here, device, generations, problem)


# --- the diagnosis ---------------------------------------------------------------------------------------------------

def _nodes(hosts: Hosts, pool: Pool) -> tuple[str, str]:
    """(this node, the other node) of the pool."""
    assert pool.replication is not None
    me = hosts.name()
    names = [n.name for n in pool.replication.nodes]
    if me not in names:
        raise SanError(f"this node ({me}) holds no replica of the pool (its nodes: {', '.join(names)})",
                       field="pool", value=pool.name, kind=INVALID)
    return me, next(n for n in names if n != me)


def _ancestor(relation: drbd.Relation, mine: drbd.Generations, theirs: drbd.Generations) -> int:
    if relation is drbd.Relation.SPLIT_BRAIN:
        return mine.bitmap if mine.bitmap and mine.bitmap == theirs.bitmap else mine.history[0]
    if relation is drbd.Relation.NEWER:
        return theirs.current
    if relation is drbd.Relation.OLDER:
        return mine.current
    return mine.current if relation is drbd.Relation.SAME else 0


def _explain(pool: str, health: str, relation: drbd.Relation | None, here: NodeView, peer: NodeView,
             changed: tuple[str, ...]) -> str:
    dev = here.device
    if health == drbd.Health.SPLIT_BRAIN.value:
        kib = ", ".join(f"{v.node} {v.device.out_of_sync_kib if v.device else '?'} KiB" for v in (here, peer))
        return (f"SPLIT BRAIN: {' and '.join(changed)} both changed the data since they were last connected, and "
                f"DRBD stopped replicating (StandAlone) rather than throw away either side's writes (out of sync: "
                f"{kib}). Choose the node whose changes since the split are discarded and run "
                f"`{RECOVER.format(pool=pool)}` (it shows what would be done; confirm=yes does it).")
    if peer.generations is None or peer.device is None:
        own = f"{dev.cstate}, {dev.role}, disk {dev.disk}" if dev is not None else "unknown"
        guess = (" StandAlone: a split brain or a manual disconnect; which node changed what cannot be told "
                 "without its generations." if dev is not None and dev.standalone else "")
        return f"{peer.node} could not be asked ({peer.problem or 'no answer'}): this node's view only: {own}.{guess}"
    if dev is None:
        return f"this node's DRBD state cannot be read ({here.problem})"
    if relation is drbd.Relation.UNRELATED:
        return (f"{dev.cstate}: the two nodes' generations have nothing in common (a full sync one way or the other, "
                "or not the same pool's disks): check the disks before connecting")
    if health == drbd.Health.DISCONNECTED.value:
        newer = f"{changed[0]} has changes the other lacks" if changed else "neither has changes the other lacks"
        return f"StandAlone without a split brain ({newer}): connecting again resyncs it"
    if health == drbd.Health.OK.value:
        return "in sync: connected, both disks UpToDate, both nodes at the same generation"
    if health == drbd.Health.SYNCING.value:
        return f"resyncing ({dev.cstate} here): redundant once both disks are UpToDate"
    if health == drbd.Health.DOWN.value:
        return "the DRBD resource is not up on this node"
    if health == drbd.Health.FAILED.value:
        return f"this node's disk is {dev.disk}"
    return f"degraded: {dev.cstate}, this node {dev.role}, disks {dev.disk}/{dev.peer_disk}"


def diagnose(env: Env, hosts: Hosts, pool: str) -> Diagnosis:
    """Both nodes' DRBD state and generations of `pool`, and what they say (see the module)."""
    found = _replicated(env, pool)
    assert found.replication is not None
    me, other = _nodes(hosts, found)
    minor = found.replication.minor
    here = _view(me, True, minor, _read(hosts, found))
    try:
        answer = cluster.call_node(hosts.cluster, other, "san_peer_replica_gi", {"pool": pool})
    except SanError as exc:
        answer = {"problem": exc.message}
    peer = _view(other, False, minor, answer if isinstance(answer, dict) else {"problem": "a wrong answer"})
    relation: drbd.Relation | None = None
    changed: tuple[str, ...] = ()
    ancestor = ""
    if here.generations is not None and peer.generations is not None:
        relation = drbd.compare(here.generations, peer.generations)
        changed = {drbd.Relation.SPLIT_BRAIN: (me, other), drbd.Relation.NEWER: (me,),
                   drbd.Relation.OLDER: (other,)}.get(relation, ())
        if common := _ancestor(relation, here.generations, peer.generations):
            ancestor = f"{common:016X}"
    if here.device is None:
        health = UNKNOWN
    else:
        health = drbd.diagnose(here.device, here.generations, peer.generations).health.value
        if peer.device is not None and peer.generations is not None and here.generations is not None and \
                drbd.diagnose(peer.device, peer.generations, here.generations).health is drbd.Health.SPLIT_BRAIN:
            health = drbd.Health.SPLIT_BRAIN.value  # the other node StandAlone, this one trying to connect again
    return Diagnosis(pool, health, relation.value if relation else "", here, peer, changed, ancestor,
                     _explain(pool, health, relation, here, peer, changed))


# --- the recovery ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recovery:
    """What the recovery does (or, unconfirmed or on a dry run, would do), in order, and what it throws away."""

    plan: tuple[str, ...]
    lost: str
    victim: str
    survivor: str
    confirmed: bool = False
    dry_run: bool = False
    lines: tuple[str, ...] = ()  # what each node reported doing

    @property
    def done(self) -> bool:
        return self.confirmed and not self.dry_run


def _plan(pool: Pool, found: Diagnosis, victim: str, survivor: str) -> tuple[str, ...]:
    res = render.resource_name(pool)
    vdev, sdev = found.view(victim).device, found.view(survivor).device
    assert vdev is not None

    def step(node: str, argv: list[str], skip: str) -> str:
        return f"{node}: {' '.join(argv)}" + (f"  (skipped: {skip})" if skip else "")

    return (step(victim, commands.disconnect_argv(res), "StandAlone already" if vdev.standalone else ""),
            step(victim, commands.secondary_argv(res), "Secondary already" if vdev.role != "Primary" else ""),
            step(victim, commands.connect_argv(res, discard_my_data=True), "") +
            f"  ({victim} throws its changes away and resyncs from {survivor})",
            step(survivor, commands.connect_argv(res),
                 "" if sdev is None or sdev.standalone else f"{sdev.cstate} already"))


def _lost(found: Diagnosis, victim: str, survivor: str) -> str:
    v, s = found.view(victim), found.view(survivor)
    gen = f"generation {v.generations.current:016X}" if v.generations else "its generation"
    kept = f" ({s.generations.current:016X})" if s.generations else ""
    kib = v.device.out_of_sync_kib if v.device else "?"
    return (f"lost: {victim}'s changes since the split ({gen}, from the common generation {found.ancestor}; "
            f"{kib} KiB out of sync on {victim}); {survivor}'s data{kept} is kept, {victim} resyncs from it")


def act(hosts: Hosts, pool: Pool, role: str) -> list[str]:
    """This node's part of the recovery as the victim or the survivor; each step only when needed."""
    node: Drbd = hosts.drbd  # apply.drbd.DrbdHost
    if role == VICTIM:
        return ["disconnect: " + ("done" if node.disconnect(pool) else "StandAlone already"),
                "secondary: " + ("done" if node.secondary(pool) else "Secondary already"),
                "connect --discard-my-data: " + ("done: its changes are discarded, it resyncs from the peer"
                                                 if node.connect(pool, discard_my_data=True) else
                                                 f"not needed ({node.device(pool).cstate})")]
    if role == SURVIVOR:
        return ["connect: " + ("done" if node.connect(pool) else f"not needed ({node.device(pool).cstate})")]
    raise SanError(f"{VICTIM} or {SURVIVOR}", field="role", value=role, kind=INVALID)


def replica_recover(env: Env, hosts: Hosts, pool: str, role: str) -> list[str]:
    """This node's part of a recovery the other node runs (san_peer_replica_recover)."""
    if role not in (VICTIM, SURVIVOR):
        raise SanError(f"{VICTIM} or {SURVIVOR}", field="role", value=role, kind=INVALID)
    return act(hosts, _replicated(env, pool), role)


def recover(env: Env, hosts: Hosts, pool: str, victim: str, confirm: bool = False) -> Recovery:
    """Discard `victim`'s changes since the split brain (see the module). Nothing changes unless confirm=True."""
    found_pool = _replicated(env, pool)
    me, other = _nodes(hosts, found_pool)
    if victim not in (me, other):
        raise SanError(f"the node whose changes are discarded: {me} or {other}", field="victim", value=victim,
                       kind=INVALID)
    found = diagnose(env, hosts, pool)
    if not found.split_brain:
        raise SanError(f"no split brain to recover ({found.health}): {found.explanation}", field="pool",
                       value=pool, kind=CONFLICT)
    survivor = other if victim == me else me
    vdev = found.view(victim).device
    if vdev is None:
        raise SanError(f"{victim}'s DRBD state cannot be read: {found.view(victim).problem}", field="victim",
                       value=victim, kind=CONFLICT)
    if vdev.role == "Primary":
        raise SanError(f"{victim} is DRBD Primary: move the pool to the other node first: "
                       f"sanctl /pools/{pool} move {survivor}", field="victim", value=victim, kind=CONFLICT)
    plan, lost = _plan(found_pool, found, victim, survivor), _lost(found, victim, survivor)
    if not confirm or env.dry_run:
        return Recovery(plan, lost, victim, survivor, confirm, env.dry_run)
    lines: list[str] = []
    for node, role in ((victim, VICTIM), (survivor, SURVIVOR)):
        if node == me:
            done = act(hosts, found_pool, role)
        else:
            done = cluster.call_node(hosts.cluster, node, "san_peer_replica_recover", {"pool": pool, "role": role})
        lines += [f"{node}: {line}" for line in done]
    return Recovery(plan, lost, victim, survivor, True, False, tuple(lines))


__all__ = ["Diagnosis", "NodeView", "Recovery", "act", "diagnose", "proc_excerpt", "recover", "replica_gi",
           "replica_recover"]
