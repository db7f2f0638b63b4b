"""From one desired state to the next: validate, plan (LIO and storage), then act, then keep; or only show the plan."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sanappliance.errors import SanError
from sanappliance.lio import plan as P
from sanappliance.lio.clustered import floating_addresses, node_portals
from sanappliance.lio.render import render
from sanappliance.lio.state import LioState, changed
from sanappliance.model.config import Config
from sanappliance.model.partition import partition
from sanappliance.model.validate import check
from sanappliance.storage import plan as S

from .env import Env

LIO_DELETES = (P.DeleteTarget, P.DeleteTpg, P.DeleteAcl, P.DeleteMappedLun, P.DeleteLun, P.DeletePortal,
               P.DeleteStorage)


@dataclass(frozen=True)
class Outcome:
    config: Config  # the saved state after the change (unchanged on a dry run)
    plan: tuple[str, ...]  # what was (or, on a dry run, would be) done, in order
    dry_run: bool = False


@dataclass(frozen=True)
class Plan:
    lio_deletes: tuple[P.Action, ...]
    storage_removals: tuple[S.Action, ...]
    storage_creations: tuple[S.Action, ...]
    lio_creations: tuple[P.Action, ...]
    clustered: tuple[str, ...] = ()  # the clustered part's changes, which Pacemaker makes after the CIB push

    def describe(self) -> tuple[str, ...]:
        steps: Sequence[P.Action | S.Action] = (*self.lio_deletes, *self.storage_removals,
                                                 *self.storage_creations, *self.lio_creations)
        return tuple(a.describe() for a in steps) + self.clustered


def _without(observed: LioState, clustered: LioState) -> LioState:
    """The live state without the clustered targets and their backstores: Pacemaker's agents own those."""
    return LioState({k: v for k, v in observed.storage.items() if k not in clustered.storage},
                    {k: v for k, v in observed.targets.items() if k not in clustered.targets}, observed.discovery)


def make_plan(env: Env, before: Config, after: Config, *, everything: bool = False) -> Plan:
    """The plan from `before` to `after` for this node: the local parts only (model.partition; the clustered part
    is Pacemaker's; on a cluster node the local targets' wildcard portals are the node's own addresses:
    lio.clustered.node_portals). Only the LIO objects the change touches are read and compared, unless `everything`
    (converging: the whole live state but the clustered objects is brought in line)."""
    split_before, split_after = partition(before), partition(after)
    before, after = split_before.local, split_after.local
    addresses = env.system.portal_addresses()
    if addresses is not None:  # a cluster node: its local targets listen beside the clustered ones
        floating = floating_addresses(split_before.clustered, split_after.clustered)
        before, after = node_portals(before, addresses, floating), node_portals(after, addresses, floating)
    disks = {d for p in (*before.pools, *after.pools) for d in p.disks}
    desired = render(after)
    scope = None if everything else changed(render(before), desired)
    observed = env.system.read_lio(scope)
    if scope is None:
        clustered = render(split_after.clustered)
        clustered_before = render(split_before.clustered)
        observed = _without(observed, LioState({**clustered_before.storage, **clustered.storage},
                                               {**clustered_before.targets, **clustered.targets}))
    lio_actions = P.plan(observed, desired.restrict(scope))
    lvm_now, lvm_want = env.system.read_lvm(disks), S.desired(after)
    return Plan(tuple(a for a in lio_actions if isinstance(a, LIO_DELETES)),
                tuple(S.plan_removals(lvm_now, lvm_want, S.desired(before))),
                tuple(S.plan_creations(lvm_now, lvm_want)),
                tuple(a for a in lio_actions if not isinstance(a, LIO_DELETES)),
                clustered_changes(split_before.clustered, split_after.clustered))


def clustered_changes(before: Config, after: Config) -> tuple[str, ...]:
    """What a change of the clustered part asks of Pacemaker, in words (the CIB push does it)."""
    lines: list[str] = []
    where = "on the node where the pool is Promoted"

    def diff(kind: str, old: dict[str, object], new: dict[str, object], verb: str = "change") -> None:
        for name in sorted(new.keys() - old.keys()):
            lines.append(f"cluster: create {kind} {name}")
        for name in sorted(old.keys() - new.keys()):
            lines.append(f"cluster: delete {kind} {name}")
        for name in sorted(k for k in old.keys() & new.keys() if old[k] != new[k]):
            lines.append(f"cluster: {verb} {kind} {name}")

    for kind in ("replicated", "shared"):
        diff(f"{kind} pool", {p.name: p for p in before.pools if p.kind == kind},
             {p.name: p for p in after.pools if p.kind == kind})
    diff("volume", {v.name: v for v in before.volumes}, {v.name: v for v in after.volumes}, "resize")
    diff("target", {t.iqn: t for t in before.targets}, {t.iqn: t for t in after.targets}, "reload")
    return tuple(f"{line} ({where})" if " volume " in line or " target " in line else line for line in lines)


def execute(env: Env, plan: Plan, *, deletes: bool = True) -> None:
    if deletes:
        env.system.run_lio(plan.lio_deletes)
    env.system.run_lvm(plan.storage_removals + plan.storage_creations)
    env.system.run_lio(plan.lio_creations)


def commit(env: Env, before: Config, after: Config) -> Outcome:
    """Validate `after` completely, then make the node match it and save it. On a failure while acting, the previous
    state is saved and converged back to, and the error is raised.

    When the clustered part changes (a cluster node's store pushes it to the CIB on save, and Pacemaker acts on it),
    the order is: this node's LIO deletions first (a target handed over to the cluster leaves the node before
    Pacemaker's agent takes it on, perhaps on this very node), save, wait for Pacemaker, then the rest of the local
    plan (a target handed back is made here only once the agent has let it go)."""
    check(after, env.system.facts(after))
    plan = make_plan(env, before, after)
    if env.dry_run:
        return Outcome(before, plan.describe(), dry_run=True)
    if after == before:  # nothing to keep: no new generation, no backup; the node is still brought in line
        execute(env, plan)
        return Outcome(before, plan.describe())
    settle = getattr(env.store, "settle", None) if plan.clustered else None  # a cluster node's store
    if settle is not None:
        env.system.run_lio(plan.lio_deletes)  # undone by a converge if the save below does not happen
    try:  # the intent first: a crash mid-way converges on the next run
        saved = env.store.save(after, before.generation)
    except SanError:
        if settle is not None:  # the deletions made for a push that did not happen are undone
            execute(env, make_plan(env, before, before, everything=True))
        raise
    try:
        if settle is not None:
            settle()
        execute(env, plan, deletes=settle is None)
    except SanError as exc:
        restored = env.store.save(before, saved.generation)
        try:
            if settle is not None:  # the clustered part back first: what the agents let go can be made here
                settle()
            execute(env, make_plan(env, after, restored, everything=True))
        except SanError as again:
            raise SanError(f"{exc.message}; rolling back also failed: {again.message}", field=exc.field,
                           value=exc.value) from exc
        raise
    return Outcome(saved, plan.describe())


def change(env: Env, edit: Callable[[Config], Config]) -> Outcome:
    """Under the operation lock: load the saved state, apply `edit` to it, commit the result."""
    with env.store.lock():
        before = env.store.load()
        return commit(env, before, edit(before))


def converge(env: Env) -> Outcome:
    """Make the node match the saved state (at boot, after an interrupted change): only differences are acted on."""
    config = env.store.load()
    plan = make_plan(env, config, config, everything=True)
    if not env.dry_run:
        execute(env, plan)
    return Outcome(config, plan.describe(), env.dry_run)
